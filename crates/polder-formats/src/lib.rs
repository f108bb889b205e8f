//! Conversations on disk: the Polis export format (`votes.csv`,
//! `comments.csv`, `participants-votes.csv`, `summary.csv`) and the JSON
//! the Polis API returns (`votes.json`, `comments.json`,
//! `conversation.json`).
//!
//! Readers check everything they read and report the first problem with the
//! file, line and field it is in; they never panic on bad input.

mod csv_table;
pub mod error;
pub mod polis_export;
pub mod polis_export_write;
pub mod polis_json;

pub use error::FormatError;

use polder_core::{
    Moderation, ParticipantId, StatementCatalog, StatementId, StatementInfo, VoteEvent,
};
use std::path::Path;

/// One statement with everything the formats carry about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Statement id (Polis `tid`, `comment-id`).
    pub id: StatementId,
    /// The text shown to participants.
    pub text: String,
    /// Who wrote it, when known.
    pub author: Option<ParticipantId>,
    /// When it was written, ms since the epoch.
    pub created: Option<i64>,
    /// Moderation state.
    pub moderation: Moderation,
    /// Whether it is a meta statement.
    pub is_meta: bool,
    /// Whether the conversation's owner seeded it.
    pub is_seed: bool,
    /// Language tag, when known.
    pub language: Option<String>,
}

/// A conversation as read from disk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conversation {
    /// Topic (title), when the files carry one.
    pub topic: Option<String>,
    /// Description, when the files carry one.
    pub description: Option<String>,
    /// Where the conversation was held, when known.
    pub url: Option<String>,
    /// Whether only accepted statements are shown.
    pub strict_moderation: Option<bool>,
    /// Every statement, in id order.
    pub statements: Vec<Statement>,
    /// Every vote event, in file order.
    pub votes: Vec<VoteEvent>,
}

impl Conversation {
    /// The moderation facts the engine needs.
    pub fn catalog(&self) -> StatementCatalog {
        self.statements
            .iter()
            .map(|s| StatementInfo {
                id: s.id,
                moderation: s.moderation,
                is_meta: s.is_meta,
            })
            .collect()
    }

    /// Time of the latest vote.
    pub fn last_vote_timestamp(&self) -> Option<i64> {
        self.votes.iter().map(|v| v.timestamp).max()
    }

    /// The statement with this id.
    pub fn statement(&self, id: StatementId) -> Option<&Statement> {
        self.statements
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.statements[i])
    }
}

/// Which layout a directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `votes.csv` + `comments.csv`.
    PolisExport,
    /// `votes.json` + `comments.json`.
    PolisJson,
}

/// Detects the layout of a conversation directory.
pub fn detect_layout(dir: &Path) -> Result<Layout, FormatError> {
    if !dir.is_dir() {
        return Err(FormatError::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        ));
    }
    if dir.join("votes.csv").exists() || dir.join("comments.csv").exists() {
        Ok(Layout::PolisExport)
    } else if dir.join("votes.json").exists() || dir.join("comments.json").exists() {
        Ok(Layout::PolisJson)
    } else {
        Err(FormatError::UnknownLayout { dir: dir.into() })
    }
}

/// Reads a conversation directory in either layout.
pub fn read_conversation(dir: &Path) -> Result<Conversation, FormatError> {
    match detect_layout(dir)? {
        Layout::PolisExport => polis_export::read(dir),
        Layout::PolisJson => polis_json::read(dir),
    }
}

/// Checks that every vote names a known statement; `locate(i)` gives the
/// error for vote `i`.
pub(crate) fn check_statements_known(
    statements: &[Statement],
    votes: &[VoteEvent],
    locate: impl Fn(usize) -> FormatError,
) -> Result<(), FormatError> {
    for (i, v) in votes.iter().enumerate() {
        if statements
            .binary_search_by_key(&v.statement, |s| s.id)
            .is_err()
        {
            return Err(locate(i));
        }
    }
    Ok(())
}
