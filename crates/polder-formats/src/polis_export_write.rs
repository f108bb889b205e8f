//! Writing the Polis export format (CSV): `votes.csv`, `comments.csv`,
//! `participants-votes.csv`, `summary.csv`.
//!
//! The columns are those Polis writes, in its order, so that tools made for
//! Polis exports read these files. `comments.csv` carries three more columns
//! at the end — `is-meta`, `is-seed`, `lang` — which Polis keeps elsewhere and
//! which [`crate::polis_export::read`] reads back, so nothing is lost on a
//! round trip. Writers stream: a row is written as soon as it is given.

use crate::Statement;
use crate::error::FormatError;
use polder_core::{Moderation, ParticipantId, StatementId, Vote, VoteEvent};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A CSV file being written, with its path for error messages.
struct CsvOut {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

impl CsvOut {
    fn create(path: &Path, flexible: bool) -> Result<CsvOut, FormatError> {
        let file = File::create(path).map_err(|e| FormatError::io(path, e))?;
        Ok(CsvOut {
            path: path.into(),
            writer: csv::WriterBuilder::new()
                .flexible(flexible)
                .from_writer(BufWriter::new(file)),
        })
    }

    fn row<I, T>(&mut self, fields: I) -> Result<(), FormatError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(fields)
            .map_err(|e| write_error(&self.path, e))
    }

    fn finish(mut self) -> Result<(), FormatError> {
        self.writer
            .flush()
            .map_err(|e| FormatError::io(&self.path, e))?;
        let inner = self
            .writer
            .into_inner()
            .map_err(|e| FormatError::io(&self.path, std::io::Error::other(e.to_string())))?;
        inner
            .into_inner()
            .map_err(|e| FormatError::io(&self.path, std::io::Error::other(e.to_string())))?
            .sync_all()
            .map_err(|e| FormatError::io(&self.path, e))
    }
}

fn write_error(path: &Path, e: csv::Error) -> FormatError {
    FormatError::io(path, std::io::Error::other(e.to_string()))
}

/// Writes `votes.csv` one vote at a time.
pub struct VotesWriter {
    out: CsvOut,
}

impl VotesWriter {
    /// Creates the file and writes the header.
    pub fn create(path: &Path) -> Result<VotesWriter, FormatError> {
        let mut out = CsvOut::create(path, false)?;
        out.row(["timestamp", "datetime", "comment-id", "voter-id", "vote"])?;
        Ok(VotesWriter { out })
    }

    /// Writes one vote.
    pub fn write(&mut self, vote: &VoteEvent) -> Result<(), FormatError> {
        self.out.row([
            vote.timestamp.to_string(),
            polis_datetime(vote.timestamp),
            vote.statement.to_string(),
            vote.participant.to_string(),
            vote.vote.value().to_string(),
        ])
    }

    /// Flushes and syncs the file.
    pub fn finish(self) -> Result<(), FormatError> {
        self.out.finish()
    }
}

/// One statement with the vote counts `comments.csv` shows for it.
#[derive(Debug, Clone, Copy)]
pub struct CommentRow<'a> {
    /// The statement.
    pub statement: &'a Statement,
    /// Participants whose current vote is agree.
    pub agrees: u64,
    /// Participants whose current vote is disagree.
    pub disagrees: u64,
}

/// Writes `comments.csv`.
pub fn write_comments<'a>(
    path: &Path,
    rows: impl IntoIterator<Item = CommentRow<'a>>,
) -> Result<(), FormatError> {
    let mut out = CsvOut::create(path, false)?;
    out.row([
        "timestamp",
        "datetime",
        "comment-id",
        "author-id",
        "agrees",
        "disagrees",
        "moderated",
        "comment-body",
        "is-meta",
        "is-seed",
        "lang",
    ])?;
    for row in rows {
        let s = row.statement;
        let moderated = match s.moderation {
            Moderation::Rejected => "-1",
            Moderation::Unmoderated => "0",
            Moderation::Accepted => "1",
        };
        out.row([
            s.created.map(|t| t.to_string()).unwrap_or_default(),
            s.created.map(polis_datetime).unwrap_or_default(),
            s.id.to_string(),
            s.author.map(|a| a.to_string()).unwrap_or_default(),
            row.agrees.to_string(),
            row.disagrees.to_string(),
            moderated.to_string(),
            s.text.clone(),
            s.is_meta.to_string(),
            s.is_seed.to_string(),
            s.language.clone().unwrap_or_default(),
        ])?;
    }
    out.finish()
}

/// Writes `participants-votes.csv`: one row per participant with their
/// counts and their current vote on every statement (empty: not voted).
pub struct ParticipantsVotesWriter {
    out: CsvOut,
    statements: Vec<StatementId>,
    cells: Vec<Option<i8>>,
}

/// One participant's row in `participants-votes.csv`.
#[derive(Debug, Clone, Copy)]
pub struct ParticipantRow<'a> {
    /// The participant.
    pub participant: ParticipantId,
    /// The opinion group they are in, if known.
    pub group: Option<u32>,
    /// Statements they wrote.
    pub n_comments: u64,
    /// Their current votes, statements ascending.
    pub votes: &'a [(StatementId, Vote)],
}

impl ParticipantsVotesWriter {
    /// Creates the file; `statements` (ascending) become the vote columns.
    pub fn create(
        path: &Path,
        statements: Vec<StatementId>,
    ) -> Result<ParticipantsVotesWriter, FormatError> {
        let mut out = CsvOut::create(path, false)?;
        let mut header: Vec<String> = [
            "participant",
            "group-id",
            "n-comments",
            "n-votes",
            "n-agree",
            "n-disagree",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(statements.iter().map(|s| s.to_string()));
        out.row(header)?;
        let cells = vec![None; statements.len()];
        Ok(ParticipantsVotesWriter {
            out,
            statements,
            cells,
        })
    }

    /// Writes one participant.
    pub fn write(&mut self, row: ParticipantRow<'_>) -> Result<(), FormatError> {
        self.cells.iter_mut().for_each(|c| *c = None);
        let (mut agree, mut disagree) = (0u64, 0u64);
        for &(statement, vote) in row.votes {
            match vote {
                Vote::Agree => agree += 1,
                Vote::Disagree => disagree += 1,
                Vote::Pass => {}
            }
            if let Ok(i) = self.statements.binary_search(&statement) {
                self.cells[i] = Some(vote.value());
            }
        }
        let mut fields = vec![
            row.participant.to_string(),
            row.group.map(|g| g.to_string()).unwrap_or_default(),
            row.n_comments.to_string(),
            row.votes.len().to_string(),
            agree.to_string(),
            disagree.to_string(),
        ];
        fields.extend(
            self.cells
                .iter()
                .map(|c| c.map(|v| v.to_string()).unwrap_or_default()),
        );
        self.out.row(fields)
    }

    /// Flushes and syncs the file.
    pub fn finish(self) -> Result<(), FormatError> {
        self.out.finish()
    }
}

/// Writes `summary.csv`: key/value rows without a header, as Polis does.
pub fn write_summary(path: &Path, entries: &[(&str, String)]) -> Result<(), FormatError> {
    let mut out = CsvOut::create(path, true)?;
    for (key, value) in entries {
        out.row([*key, value.as_str()])?;
    }
    out.finish()
}

/// A timestamp the way Polis's `datetime` columns show it
/// (`Mon Jul 17 02:17:32 UTC 2017`), always in UTC.
pub fn polis_datetime(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

/// Year, month (1-12), day (1-31) of a day count since 1970-01-01
/// (Howard Hinnant's days-to-civil algorithm for the proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_look_like_polis() {
        // 1500232652930 is Mon Jul 17 02:17:32 WIB 2017 in brexit-consensus,
        // i.e. Sun Jul 16 19:17:32 UTC.
        assert_eq!(
            polis_datetime(1_500_232_652_930),
            "Sun Jul 16 19:17:32 UTC 2017"
        );
        assert_eq!(polis_datetime(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            polis_datetime(951_782_400_000),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
    }

    #[test]
    fn written_files_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let statements = vec![
            Statement {
                id: StatementId(0),
                text: "Ferries, \"more\" of them".into(),
                author: Some(ParticipantId(3)),
                created: Some(1_000),
                moderation: Moderation::Accepted,
                is_meta: false,
                is_seed: true,
                language: Some("en".into()),
            },
            Statement {
                id: StatementId(2),
                text: String::new(),
                author: None,
                created: Some(2_000),
                moderation: Moderation::Rejected,
                is_meta: true,
                is_seed: false,
                language: None,
            },
        ];
        write_comments(
            &dir.path().join("comments.csv"),
            statements.iter().map(|s| CommentRow {
                statement: s,
                agrees: 1,
                disagrees: 0,
            }),
        )
        .unwrap();
        let mut votes = VotesWriter::create(&dir.path().join("votes.csv")).unwrap();
        let event = VoteEvent {
            participant: ParticipantId(3),
            statement: StatementId(0),
            vote: Vote::Agree,
            timestamp: 5_000,
        };
        votes.write(&event).unwrap();
        votes.finish().unwrap();
        write_summary(
            &dir.path().join("summary.csv"),
            &[("topic", "Harbour".into())],
        )
        .unwrap();
        let back = crate::polis_export::read(dir.path()).unwrap();
        assert_eq!(back.statements, statements);
        assert_eq!(back.votes, vec![event]);
        assert_eq!(back.topic.as_deref(), Some("Harbour"));
    }
}
