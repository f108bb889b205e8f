//! Writing a synthetic conversation in the Polis export format.

use crate::error::SynthError;
use crate::generate::Synth;
use polder_core::{StatementId, Vote};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// `participants-votes.csv` has a cell per participant × statement; above
/// this many cells it is skipped unless asked for explicitly.
pub const PARTICIPANTS_VOTES_AUTO_CELLS: u64 = 20_000_000;

/// What to write besides `votes.csv` and `comments.csv`.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Write `participants-votes.csv` (with the planted group as `group-id`);
    /// `None` writes it when it has at most [`PARTICIPANTS_VOTES_AUTO_CELLS`] cells.
    pub participants_votes: Option<bool>,
    /// `conversation-description` in `summary.csv`.
    pub description: String,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Votes written.
    pub votes: u64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

struct Out {
    path: PathBuf,
    writer: BufWriter<File>,
}

impl Out {
    fn create(dir: &Path, name: &str) -> Result<Out, SynthError> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| SynthError::io(&path, e))?;
        Ok(Out {
            writer: BufWriter::with_capacity(1 << 20, file),
            path,
        })
    }

    fn finish(mut self) -> Result<PathBuf, SynthError> {
        self.writer
            .flush()
            .map_err(|e| SynthError::io(&self.path, e))?;
        Ok(self.path)
    }
}

fn csv_error(path: &Path, e: csv::Error) -> SynthError {
    SynthError::io(path, std::io::Error::other(e))
}

/// Writes `votes.csv`, `comments.csv`, `summary.csv` and (see
/// [`ExportOptions`]) `participants-votes.csv` into `dir`, which must exist.
pub fn write_polis_export(
    synth: &Synth,
    dir: &Path,
    options: &ExportOptions,
) -> Result<ExportSummary, SynthError> {
    let config = synth.config();
    let n_statements = config.statements as usize;
    let cells = u64::from(config.participants) * n_statements as u64;
    let with_matrix = options
        .participants_votes
        .unwrap_or(cells <= PARTICIPANTS_VOTES_AUTO_CELLS);

    let mut votes_out = Out::create(dir, "votes.csv")?;
    let mut matrix_out = if with_matrix {
        Some(Out::create(dir, "participants-votes.csv")?)
    } else {
        None
    };
    let mut authored = vec![0u32; config.participants as usize];
    for s in 0..config.statements {
        if let Some((_, author, _)) = synth.statement_facts(StatementId(s)) {
            authored[author.0 as usize] += 1;
        }
    }

    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e| SynthError::io(path, e)
    };
    writeln!(
        votes_out.writer,
        "timestamp,datetime,comment-id,voter-id,vote"
    )
    .map_err(io(&votes_out.path))?;
    if let Some(m) = matrix_out.as_mut() {
        let mut header = String::from("participant,group-id,n-comments,n-votes,n-agree,n-disagree");
        for s in 0..config.statements {
            header.push(',');
            header.push_str(&s.to_string());
        }
        writeln!(m.writer, "{header}").map_err(io(&m.path))?;
    }

    // Agree and disagree counts per statement, for comments.csv.
    let mut agrees = vec![0u32; n_statements];
    let mut disagrees = vec![0u32; n_statements];
    let mut total = 0u64;
    let mut failed: Option<SynthError> = None;
    let mut row = Vec::with_capacity(n_statements);
    synth.for_each_participant(|p, group, votes| {
        if failed.is_some() {
            return;
        }
        let mut write = || -> Result<(), SynthError> {
            for v in votes {
                let s = v.statement.0 as usize;
                match v.vote {
                    Vote::Agree => agrees[s] += 1,
                    Vote::Disagree => disagrees[s] += 1,
                    Vote::Pass => {}
                }
                writeln!(
                    votes_out.writer,
                    "{},{},{},{},{}",
                    v.timestamp,
                    polder_formats::polis_export_write::polis_datetime(v.timestamp),
                    v.statement,
                    v.participant,
                    v.vote.value()
                )
                .map_err(io(&votes_out.path))?;
            }
            total += votes.len() as u64;
            if let Some(m) = matrix_out.as_mut() {
                row.clear();
                row.resize(n_statements, None);
                for v in votes {
                    row[v.statement.0 as usize] = Some(v.vote.value());
                }
                let count = |x: i8| votes.iter().filter(|v| v.vote.value() == x).count();
                let mut line = format!(
                    "{p},{group},{},{},{},{}",
                    authored[p.0 as usize],
                    votes.len(),
                    count(1),
                    count(-1)
                );
                for cell in &row {
                    line.push(',');
                    if let Some(v) = cell {
                        line.push_str(&v.to_string());
                    }
                }
                writeln!(m.writer, "{line}").map_err(io(&m.path))?;
            }
            Ok(())
        };
        if let Err(e) = write() {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let mut files = vec![votes_out.finish()?];
    if let Some(m) = matrix_out {
        files.push(m.finish()?);
    }

    let comments_path = dir.join("comments.csv");
    let mut comments =
        csv::Writer::from_path(&comments_path).map_err(|e| csv_error(&comments_path, e))?;
    comments
        .write_record([
            "timestamp",
            "datetime",
            "comment-id",
            "author-id",
            "agrees",
            "disagrees",
            "moderated",
            "comment-body",
        ])
        .map_err(|e| csv_error(&comments_path, e))?;
    for s in 0..config.statements {
        let Some((created, author, _)) = synth.statement_facts(StatementId(s)) else {
            continue;
        };
        let text = match config.texts {
            Some(texts) => texts[s as usize].text.to_string(),
            None => format!("Synthetic statement {s}."),
        };
        comments
            .write_record([
                created.to_string(),
                polder_formats::polis_export_write::polis_datetime(created),
                s.to_string(),
                author.to_string(),
                agrees[s as usize].to_string(),
                disagrees[s as usize].to_string(),
                "1".to_string(),
                text,
            ])
            .map_err(|e| csv_error(&comments_path, e))?;
    }
    comments
        .flush()
        .map_err(|e| SynthError::io(&comments_path, e))?;
    files.push(comments_path);

    let summary_path = dir.join("summary.csv");
    let mut summary =
        csv::Writer::from_path(&summary_path).map_err(|e| csv_error(&summary_path, e))?;
    let commenters = authored.iter().filter(|&&n| n > 0).count();
    for (key, value) in [
        ("topic", config.topic.clone()),
        ("voters", config.participants.to_string()),
        ("commenters", commenters.to_string()),
        ("comments", config.statements.to_string()),
        ("groups", synth.n_groups().to_string()),
        ("conversation-description", options.description.clone()),
    ] {
        summary
            .write_record([key, value.as_str()])
            .map_err(|e| csv_error(&summary_path, e))?;
    }
    summary
        .flush()
        .map_err(|e| SynthError::io(&summary_path, e))?;
    files.push(summary_path);

    Ok(ExportSummary {
        votes: total,
        files,
    })
}
