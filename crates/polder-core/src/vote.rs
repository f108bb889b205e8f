//! Votes and the identifiers they connect.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A participant, as the conversation numbers them (Polis calls this `pid`).
///
/// Participant ids are sparse and stable for the life of a conversation; the
/// engine maps them to dense row indices internally.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct ParticipantId(pub u32);

/// A statement (Polis: comment, `tid`).
///
/// Statement ids must be below [`StatementId::MAX`] so that one vote packs into
/// a single machine word while the matrix is built.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct StatementId(pub u32);

impl StatementId {
    /// Largest statement id the engine accepts (2^24 - 1); Polis itself stops at 10,000 statements.
    pub const MAX: u32 = (1 << 24) - 1;
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for StatementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One vote value.
///
/// polder uses the sign of the Polis exports (agree = +1, disagree = -1,
/// pass = 0); the Polis math worker internally uses the opposite sign, which
/// only matters for the Polis-compatible view (see `report::pca2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// -1 in the export sign.
    Disagree,
    /// 0: seen, but no opinion.
    Pass,
    /// +1 in the export sign.
    Agree,
}

impl Vote {
    /// The export-sign value: agree = 1, pass = 0, disagree = -1.
    pub const fn value(self) -> i8 {
        match self {
            Vote::Agree => 1,
            Vote::Pass => 0,
            Vote::Disagree => -1,
        }
    }

    /// Parses an export-sign value; anything outside {-1, 0, 1} is `None`.
    pub const fn from_value(value: i64) -> Option<Vote> {
        match value {
            1 => Some(Vote::Agree),
            0 => Some(Vote::Pass),
            -1 => Some(Vote::Disagree),
            _ => None,
        }
    }
}

/// One vote as it happened: who, on what, which way, and when.
///
/// Only the latest event per participant × statement counts. "Latest" is the
/// greatest `timestamp`; should two events for the same pair carry the same
/// timestamp, the greater vote (agree > pass > disagree) is taken as the later
/// one, so that the outcome never depends on the order events are given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteEvent {
    /// Who voted.
    pub participant: ParticipantId,
    /// On which statement.
    pub statement: StatementId,
    /// Which way.
    pub vote: Vote,
    /// When, in milliseconds since the Unix epoch.
    pub timestamp: i64,
}
