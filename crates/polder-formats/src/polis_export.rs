//! The Polis export format (CSV).
//!
//! | file | columns polder reads |
//! |---|---|
//! | `votes.csv` | `timestamp`, `comment-id`, `voter-id`, `vote` (1 agree, -1 disagree, 0 pass) |
//! | `comments.csv` | `comment-id`, `comment-body`, and when present `timestamp`, `author-id`, `moderated` (-1, 0, 1), `is-meta`, `is-seed`, `lang` |
//! | `summary.csv` | optional key/value rows: `topic`, `url`, `conversation-description` |
//! | `participants-votes.csv` | optional; `participant`, `group-id` give the groups Polis assigned |
//!
//! Other files and columns are ignored.

use crate::csv_table::CsvTable;
use crate::error::FormatError;
use crate::{Conversation, Statement};
use polder_core::{Moderation, ParticipantId, StatementId, Vote, VoteEvent};
use std::collections::BTreeMap;
use std::path::Path;

/// Reads a Polis export directory.
pub fn read(dir: &Path) -> Result<Conversation, FormatError> {
    let comments_path = dir.join("comments.csv");
    let votes_path = dir.join("votes.csv");
    for (path, why) in [
        (&comments_path, "the statements of a Polis export"),
        (&votes_path, "the votes of a Polis export"),
    ] {
        if !path.exists() {
            return Err(FormatError::MissingFile {
                path: path.clone(),
                why,
            });
        }
    }
    let statements = read_comments(&comments_path)?;
    let (votes, lines) = read_votes(&votes_path)?;
    crate::check_statements_known(&statements, &votes, |i| {
        FormatError::invalid(
            &votes_path,
            lines[i],
            "comment-id",
            format!("statement {} is not in comments.csv", votes[i].statement),
        )
    })?;
    let mut conversation = Conversation {
        statements,
        votes,
        ..Default::default()
    };
    let summary_path = dir.join("summary.csv");
    if summary_path.exists() {
        let summary = read_summary(&summary_path)?;
        conversation.topic = summary.get("topic").cloned();
        conversation.url = summary.get("url").cloned();
        conversation.description = summary
            .get("conversation-description")
            .cloned()
            .filter(|d| !d.is_empty());
    }
    Ok(conversation)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "t" | "yes" => Some(true),
        "false" | "0" | "f" | "no" | "" => Some(false),
        _ => None,
    }
}

/// Reads `comments.csv`.
pub fn read_comments(path: &Path) -> Result<Vec<Statement>, FormatError> {
    let mut table = CsvTable::open(path)?;
    let id = table.column("comment-id")?;
    let body = table.column("comment-body")?;
    let created = table.optional_column("timestamp");
    let author = table.optional_column("author-id");
    let moderated = table.optional_column("moderated");
    let is_meta = table.optional_column("is-meta");
    let is_seed = table.optional_column("is-seed");
    let lang = table.optional_column("lang");
    let mut statements: Vec<(Statement, u64)> = Vec::new();
    while let Some(row) = table.next_row()? {
        let sid: u32 = row.int(id)?;
        if sid > StatementId::MAX {
            return Err(row.error(
                id,
                format!("statement id {sid} is above the limit {}", StatementId::MAX),
            ));
        }
        let moderation = match row.optional_int::<i64>(moderated)? {
            None => Moderation::Unmoderated,
            Some(m) => Moderation::from_polis(m).ok_or_else(|| {
                row.error(
                    moderated.unwrap_or(id),
                    format!("`{m}` is not a moderation state (-1, 0 or 1)"),
                )
            })?,
        };
        let flag = |column: Option<usize>| -> Result<bool, FormatError> {
            match column {
                None => Ok(false),
                Some(c) => parse_bool(row.text(c))
                    .ok_or_else(|| row.error(c, format!("`{}` is not true or false", row.text(c)))),
            }
        };
        statements.push((
            Statement {
                id: StatementId(sid),
                text: row.text(body).to_string(),
                author: row.optional_int::<u32>(author)?.map(ParticipantId),
                created: row.optional_int(created)?,
                moderation,
                is_meta: flag(is_meta)?,
                is_seed: flag(is_seed)?,
                language: lang
                    .map(|c| row.text(c).trim().to_string())
                    .filter(|l| !l.is_empty()),
            },
            row.line(),
        ));
    }
    statements.sort_by_key(|(s, _)| s.id);
    for pair in statements.windows(2) {
        if pair[0].0.id == pair[1].0.id {
            let (first, second) = (pair[0].1.min(pair[1].1), pair[0].1.max(pair[1].1));
            return Err(FormatError::invalid(
                path,
                second,
                "comment-id",
                format!(
                    "statement {} appears twice (also on line {first})",
                    pair[0].0.id
                ),
            ));
        }
    }
    Ok(statements.into_iter().map(|(s, _)| s).collect())
}

/// Reads `votes.csv`; returns the votes and the line of each.
///
/// A file without a `timestamp` column is read in file order: each vote is
/// stamped with its line number so that a later line wins.
pub fn read_votes(path: &Path) -> Result<(Vec<VoteEvent>, Vec<u64>), FormatError> {
    let mut table = CsvTable::open(path)?;
    let statement = table.column("comment-id")?;
    let voter = table.column("voter-id")?;
    let vote = table.column("vote")?;
    let timestamp = table.optional_column("timestamp");
    let mut votes = Vec::new();
    let mut lines = Vec::new();
    while let Some(row) = table.next_row()? {
        let value: i64 = row.int(vote)?;
        let Some(v) = Vote::from_value(value) else {
            return Err(row.error(
                vote,
                format!("`{value}` is not a vote (1 agree, -1 disagree, 0 pass)"),
            ));
        };
        let sid: u32 = row.int(statement)?;
        if sid > StatementId::MAX {
            return Err(row.error(
                statement,
                format!("statement id {sid} is above the limit {}", StatementId::MAX),
            ));
        }
        let ts = match timestamp {
            Some(_) => row
                .optional_int(timestamp)?
                .ok_or_else(|| row.error(timestamp.unwrap_or(vote), "value is missing"))?,
            None => row.line() as i64,
        };
        votes.push(VoteEvent {
            participant: ParticipantId(row.int(voter)?),
            statement: StatementId(sid),
            vote: v,
            timestamp: ts,
        });
        lines.push(row.line());
    }
    Ok((votes, lines))
}

/// Reads `summary.csv` (two-column key/value rows, no header).
pub fn read_summary(path: &Path) -> Result<BTreeMap<String, String>, FormatError> {
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let mut out = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| FormatError::Malformed {
            path: path.into(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        if let (Some(k), Some(v)) = (record.get(0), record.get(1)) {
            out.insert(k.trim().to_string(), v.to_string());
        }
    }
    Ok(out)
}

/// Reads the groups Polis assigned from `participants-votes.csv`:
/// participant → group id (`None` when Polis did not cluster them).
pub fn read_polis_groups(path: &Path) -> Result<BTreeMap<ParticipantId, Option<u32>>, FormatError> {
    let mut table = CsvTable::open(path)?;
    let participant = table.column("participant")?;
    let group = table.column("group-id")?;
    let mut out = BTreeMap::new();
    while let Some(row) = table.next_row()? {
        out.insert(
            ParticipantId(row.int(participant)?),
            row.optional_int(Some(group))?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            fs::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    const COMMENTS: &[u8] = b"timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n1,x,0,0,1,0,1,First\n2,x,1,0,0,1,-1,\"Second, with comma\"\n";

    fn err_of(votes: &[u8]) -> String {
        let d = dir_with(&[("comments.csv", COMMENTS), ("votes.csv", votes)]);
        read(d.path()).unwrap_err().to_string()
    }

    #[test]
    fn reads_a_small_export() {
        let d = dir_with(&[
            ("comments.csv", COMMENTS),
            (
                "votes.csv",
                b"timestamp,datetime,comment-id,voter-id,vote\n5,x,0,3,1\n6,x,1,3,-1\n",
            ),
        ]);
        let c = read(d.path()).unwrap();
        assert_eq!(c.statements.len(), 2);
        assert_eq!(c.statements[1].text, "Second, with comma");
        assert_eq!(c.statements[1].moderation, Moderation::Rejected);
        assert_eq!(c.votes.len(), 2);
        assert_eq!(c.votes[1].vote, Vote::Disagree);
    }

    #[test]
    fn bad_vote_value_names_file_line_and_field() {
        let e = err_of(b"timestamp,datetime,comment-id,voter-id,vote\n5,x,0,3,1\n6,x,1,3,2\n");
        assert!(e.contains("votes.csv: line 3: field `vote`"), "{e}");
        assert!(e.contains("`2` is not a vote"), "{e}");
    }

    #[test]
    fn unknown_statement_is_refused() {
        let e = err_of(b"timestamp,datetime,comment-id,voter-id,vote\n5,x,9,3,1\n");
        assert!(
            e.contains("line 2: field `comment-id`: statement 9 is not in comments.csv"),
            "{e}"
        );
    }

    #[test]
    fn missing_and_duplicate_columns_are_refused() {
        let e = err_of(b"timestamp,datetime,comment-id,vote\n5,x,0,1\n");
        assert!(e.contains("missing column `voter-id`"), "{e}");
        let e = err_of(b"timestamp,vote,comment-id,voter-id,vote\n5,1,0,3,1\n");
        assert!(e.contains("column `vote` appears more than once"), "{e}");
    }

    #[test]
    fn empty_truncated_and_non_utf8_files_are_refused() {
        assert!(err_of(b"").contains("votes.csv: file is empty"));
        let e = err_of(b"timestamp,datetime,comment-id,voter-id,vote\n5,x,0,3,1\n6,x,1\n");
        assert!(e.contains("line 3") && e.contains("truncated"), "{e}");
        let e =
            err_of(b"timestamp,datetime,comment-id,voter-id,vote\n5,x,0,3,1\n6,\xff\xfe,1,3,1\n");
        assert!(e.contains("line 3") && e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn duplicate_statement_ids_are_refused() {
        let d = dir_with(&[
            ("comments.csv", b"comment-id,comment-body\n1,a\n1,b\n"),
            ("votes.csv", b"comment-id,voter-id,vote\n1,1,1\n"),
        ]);
        let e = read(d.path()).unwrap_err().to_string();
        assert!(e.contains("comments.csv: line 3: field `comment-id`: statement 1 appears twice (also on line 2)"), "{e}");
    }

    #[test]
    fn missing_votes_file_is_named() {
        let d = dir_with(&[("comments.csv", COMMENTS)]);
        let e = read(d.path()).unwrap_err().to_string();
        assert!(e.contains("votes.csv: file is missing"), "{e}");
    }
}
