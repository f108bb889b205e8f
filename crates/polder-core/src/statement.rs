//! What the engine needs to know about statements besides their votes.

use crate::vote::StatementId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Moderation state of a statement (Polis `mod`: -1, 0, 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Moderation {
    /// Not yet looked at by a moderator (Polis 0).
    #[default]
    Unmoderated,
    /// Accepted by a moderator (Polis 1).
    Accepted,
    /// Moderated out (Polis -1).
    Rejected,
}

impl Moderation {
    /// Maps the Polis integer (-1, 0, 1); other values are `None`.
    pub const fn from_polis(value: i64) -> Option<Moderation> {
        match value {
            -1 => Some(Moderation::Rejected),
            0 => Some(Moderation::Unmoderated),
            1 => Some(Moderation::Accepted),
            _ => None,
        }
    }
}

/// The moderation facts of one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementInfo {
    /// The statement.
    pub id: StatementId,
    /// Its moderation state.
    pub moderation: Moderation,
    /// A meta statement is about the conversation itself ("I find this hard
    /// to answer"); Polis keeps its votes but takes it out of the geometry.
    pub is_meta: bool,
}

impl StatementInfo {
    /// Polis `mod-out`: meta statements and rejected statements. Their columns
    /// are zeroed for the geometry and they are never chosen as
    /// representative or consensus statements.
    pub fn is_moderated_out(&self) -> bool {
        self.is_meta || self.moderation == Moderation::Rejected
    }

    /// Polis `mod-in`: meta statements and accepted statements.
    pub fn is_moderated_in(&self) -> bool {
        self.is_meta || self.moderation == Moderation::Accepted
    }

    /// Whether a participant may be shown this statement (Polis server rule):
    /// under strict moderation only accepted statements, otherwise every
    /// statement that is not rejected.
    pub fn is_visible(&self, strict_moderation: bool) -> bool {
        if strict_moderation {
            self.moderation == Moderation::Accepted
        } else {
            self.moderation != Moderation::Rejected
        }
    }
}

/// Every statement of a conversation that the engine should know about.
///
/// Statements without an entry are treated as unmoderated and not meta, so a
/// catalog is optional for a first look at bare votes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementCatalog {
    by_id: BTreeMap<StatementId, StatementInfo>,
}

impl StatementCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a statement.
    pub fn insert(&mut self, info: StatementInfo) {
        self.by_id.insert(info.id, info);
    }

    /// The facts for `id`, with defaults for an unknown statement.
    pub fn get(&self, id: StatementId) -> StatementInfo {
        self.by_id.get(&id).copied().unwrap_or(StatementInfo {
            id,
            moderation: Moderation::Unmoderated,
            is_meta: false,
        })
    }

    /// Whether the catalog lists `id`.
    pub fn contains(&self, id: StatementId) -> bool {
        self.by_id.contains_key(&id)
    }

    /// All known statements in id order.
    pub fn iter(&self) -> impl Iterator<Item = &StatementInfo> {
        self.by_id.values()
    }

    /// Number of known statements.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no statement is known.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl FromIterator<StatementInfo> for StatementCatalog {
    fn from_iter<I: IntoIterator<Item = StatementInfo>>(iter: I) -> Self {
        let mut catalog = StatementCatalog::new();
        for info in iter {
            catalog.insert(info);
        }
        catalog
    }
}
