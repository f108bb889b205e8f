//! The JSON the Polis API returns for a conversation, as stored in
//! red-dwarf's fixtures: `votes.json`, `comments.json` and, optionally,
//! `conversation.json` and `math-pca2.json`.
//!
//! Key names vary between API versions; both spellings are accepted:
//! `pid`/`participant_id`, `tid`/`statement_id`, `mod`/`moderated`.
//! `modified` and `created` may be numbers or numeric strings.

use crate::error::FormatError;
use crate::{Conversation, Statement};
use polder_core::{Moderation, ParticipantId, StatementId, Vote, VoteEvent};
use serde_json::Value;
use serde_json::value::RawValue;
use std::path::Path;

/// Reads a directory in the Polis API layout.
pub fn read(dir: &Path) -> Result<Conversation, FormatError> {
    let comments_path = dir.join("comments.json");
    let votes_path = dir.join("votes.json");
    for (path, why) in [
        (&comments_path, "the statements in the Polis API layout"),
        (&votes_path, "the votes in the Polis API layout"),
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
            "tid",
            format!("statement {} is not in comments.json", votes[i].statement),
        )
    })?;
    let mut conversation = Conversation {
        statements,
        votes,
        ..Default::default()
    };
    let meta_path = dir.join("conversation.json");
    if meta_path.exists() {
        let text = read_text(&meta_path)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| syntax(&meta_path, &e))?;
        let s = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
        conversation.topic = s("topic");
        conversation.description = s("description").filter(|d| !d.is_empty());
        conversation.strict_moderation = value.get("strict_moderation").and_then(Value::as_bool);
        conversation.url = s("conversation_id").map(|id| format!("https://pol.is/{id}"));
    }
    Ok(conversation)
}

fn read_text(path: &Path) -> Result<String, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FormatError::Empty { path: path.into() });
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        FormatError::Malformed {
            path: path.into(),
            line,
            message: "not valid UTF-8".into(),
        }
    })
}

fn syntax(path: &Path, e: &serde_json::Error) -> FormatError {
    FormatError::Malformed {
        path: path.into(),
        line: e.line() as u64,
        message: format!("invalid JSON: {e}"),
    }
}

/// The elements of a top-level JSON array, each with its line number.
fn array_elements(path: &Path, text: &str) -> Result<Vec<(Value, u64)>, FormatError> {
    let raw: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            FormatError::Malformed {
                path: path.into(),
                line: e.line() as u64,
                message: "expected a JSON array of objects".into(),
            }
        } else {
            syntax(path, &e)
        }
    })?;
    let base = text.as_ptr() as usize;
    let mut line = 1u64;
    let mut scanned = 0usize;
    raw.into_iter()
        .map(|r| {
            let offset = r.get().as_ptr() as usize - base;
            line += text.as_bytes()[scanned..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            scanned = offset;
            let value: Value = serde_json::from_str(r.get()).map_err(|e| syntax(path, &e))?;
            if !value.is_object() {
                return Err(FormatError::Malformed {
                    path: path.into(),
                    line,
                    message: "expected an object".into(),
                });
            }
            Ok((value, line))
        })
        .collect()
}

/// Some API versions give times as RFC 3339 strings instead of milliseconds.
fn rfc3339_millis(text: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(text.trim().trim_end_matches('Z')).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

/// Reads one of several spellings of an integer field (timestamps may also
/// be RFC 3339 strings).
fn int_field(
    path: &Path,
    line: u64,
    value: &Value,
    keys: &[&str],
    required: bool,
) -> Result<Option<i64>, FormatError> {
    let Some((key, v)) = keys.iter().find_map(|k| value.get(*k).map(|v| (*k, v))) else {
        return if required {
            Err(FormatError::invalid(path, line, keys[0], "key is missing"))
        } else {
            Ok(None)
        };
    };
    let parsed = match v {
        Value::Null if !required => return Ok(None),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok().or_else(|| rfc3339_millis(s)),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| FormatError::invalid(path, line, key, format!("`{v}` is not an integer")))
}

fn id_field<T: TryFrom<i64>>(
    path: &Path,
    line: u64,
    value: &Value,
    keys: &[&str],
) -> Result<T, FormatError> {
    let n = int_field(path, line, value, keys, true)?.unwrap_or_default();
    T::try_from(n).map_err(|_| {
        FormatError::invalid(
            path,
            line,
            keys[0],
            format!("`{n}` is out of range for an id"),
        )
    })
}

/// Reads `comments.json`.
pub fn read_comments(path: &Path) -> Result<Vec<Statement>, FormatError> {
    let text = read_text(path)?;
    let mut out: Vec<(Statement, u64)> = Vec::new();
    for (value, line) in array_elements(path, &text)? {
        let id: u32 = id_field(path, line, &value, &["tid", "statement_id"])?;
        if id > StatementId::MAX {
            return Err(FormatError::invalid(
                path,
                line,
                "tid",
                format!("statement id {id} is above the limit {}", StatementId::MAX),
            ));
        }
        let moderation = match int_field(path, line, &value, &["mod", "moderated"], false)? {
            None => Moderation::Unmoderated,
            Some(m) => Moderation::from_polis(m).ok_or_else(|| {
                FormatError::invalid(
                    path,
                    line,
                    "mod",
                    format!("`{m}` is not a moderation state (-1, 0 or 1)"),
                )
            })?,
        };
        let flag = |k: &str| value.get(k).and_then(Value::as_bool).unwrap_or(false);
        out.push((
            Statement {
                id: StatementId(id),
                text: value
                    .get("txt")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                author: int_field(path, line, &value, &["pid", "participant_id"], false)?
                    .and_then(|p| u32::try_from(p).ok())
                    .map(ParticipantId),
                created: int_field(path, line, &value, &["created"], false)?,
                moderation,
                is_meta: flag("is_meta"),
                is_seed: flag("is_seed"),
                language: value
                    .get("lang")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
            line,
        ));
    }
    out.sort_by_key(|(s, _)| s.id);
    for pair in out.windows(2) {
        if pair[0].0.id == pair[1].0.id {
            return Err(FormatError::invalid(
                path,
                pair[0].1.max(pair[1].1),
                "tid",
                format!("statement {} appears twice", pair[0].0.id),
            ));
        }
    }
    Ok(out.into_iter().map(|(s, _)| s).collect())
}

/// Reads `votes.json` (export sign: 1 agree, -1 disagree, 0 pass); returns
/// the votes and the line each starts on.
pub fn read_votes(path: &Path) -> Result<(Vec<VoteEvent>, Vec<u64>), FormatError> {
    let text = read_text(path)?;
    let mut votes = Vec::new();
    let mut lines = Vec::new();
    for (value, line) in array_elements(path, &text)? {
        let v = int_field(path, line, &value, &["vote"], true)?.unwrap_or_default();
        let vote = Vote::from_value(v).ok_or_else(|| {
            FormatError::invalid(
                path,
                line,
                "vote",
                format!("`{v}` is not a vote (1 agree, -1 disagree, 0 pass)"),
            )
        })?;
        let statement: u32 = id_field(path, line, &value, &["tid", "statement_id"])?;
        if statement > StatementId::MAX {
            return Err(FormatError::invalid(
                path,
                line,
                "tid",
                format!(
                    "statement id {statement} is above the limit {}",
                    StatementId::MAX
                ),
            ));
        }
        votes.push(VoteEvent {
            participant: ParticipantId(id_field(path, line, &value, &["pid", "participant_id"])?),
            statement: StatementId(statement),
            vote,
            timestamp: int_field(path, line, &value, &["modified", "created"], false)?
                .unwrap_or(line as i64),
        });
        lines.push(line);
    }
    Ok((votes, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn dir_with(comments: &str, votes: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("comments.json"), comments).unwrap();
        fs::write(dir.path().join("votes.json"), votes).unwrap();
        dir
    }

    const COMMENTS: &str = r#"[{"tid": 0, "txt": "a", "mod": 1, "is_meta": false},
 {"tid": 1, "txt": "b", "mod": -1, "is_meta": true}]"#;

    #[test]
    fn reads_both_key_spellings() {
        let d = dir_with(
            COMMENTS,
            r#"[{"pid": 1, "tid": 0, "vote": 1, "modified": "1714782753431"},
                {"participant_id": 2, "statement_id": 1, "vote": -1, "modified": 1714782753432.0}]"#,
        );
        let c = read(d.path()).unwrap();
        assert_eq!(c.votes.len(), 2);
        assert_eq!(c.votes[1].timestamp, 1714782753432);
        assert!(c.statements[1].is_meta);
    }

    #[test]
    fn errors_point_at_the_line_of_the_bad_entry() {
        let d = dir_with(
            COMMENTS,
            "[\n {\"pid\": 1, \"tid\": 0, \"vote\": 1},\n {\"pid\": 1,\n  \"tid\": 0, \"vote\": 5}\n]",
        );
        let e = read(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("votes.json: line 3: field `vote`: `5` is not a vote"),
            "{e}"
        );
        let d = dir_with(COMMENTS, "[\n {\"pid\": 1, \"tid\": 7, \"vote\": 1}\n]");
        let e = read(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("line 2: field `tid`: statement 7 is not in comments.json"),
            "{e}"
        );
        let d = dir_with(
            COMMENTS,
            "[\n {\"pid\": 1, \"tid\": 0, \"vote\": 1},\n {\"pid\": 1, \"tid\": 0",
        );
        let e = read(d.path()).unwrap_err().to_string();
        assert!(e.contains("votes.json: line 3: invalid JSON"), "{e}");
        let d = dir_with(COMMENTS, "");
        assert!(
            read(d.path())
                .unwrap_err()
                .to_string()
                .contains("file is empty")
        );
    }
}
