//! Replaying a conversation's history the way Polis's math worker saw it.
//!
//! Polis's math is stateful: who is clustered, the group ids and the number
//! of groups all depend on the order in which votes arrived and on how they
//! were batched into updates. A single from-scratch run over the final votes
//! can therefore disagree with the groups Polis showed. Replaying the
//! timestamped votes in batches and carrying the state from one update to
//! the next reproduces that history.

use crate::config::MathConfig;
use crate::engine::{Update, update};
use crate::error::MathError;
use crate::matrix::VoteMatrix;
use crate::state::MathState;
use crate::statement::StatementCatalog;
use crate::vote::VoteEvent;
use serde::{Deserialize, Serialize};

/// How votes are cut into updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Batching {
    /// One update per time window of this many milliseconds (windows without
    /// votes cause no update, as Polis only updates on new votes).
    Window {
        /// Window length in milliseconds.
        millis: i64,
    },
    /// One update per this many votes.
    Votes(usize),
}

/// When to simulate a restart of Polis's math worker, which drops the
/// group clusterings and the group-count smoother (see
/// [`MathState::after_restart`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Restarts {
    /// Restart before the last update.
    pub before_last: bool,
    /// Restart before any update that follows a pause in voting longer than this.
    pub after_gap_ms: Option<i64>,
}

/// Final result of a replay.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The last update.
    pub last: Update,
    /// The matrix of all votes.
    pub matrix: VoteMatrix,
    /// Number of updates run.
    pub updates: usize,
}

/// Cuts time-sorted events into batches.
pub fn batches(events: &[VoteEvent], batching: Batching) -> Vec<&[VoteEvent]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < events.len() {
        let end = match batching {
            Batching::Votes(n) => (start + n.max(1)).min(events.len()),
            Batching::Window { millis } => {
                let limit = events[start].timestamp.saturating_add(millis.max(1));
                start + events[start..].partition_point(|e| e.timestamp < limit)
            }
        };
        out.push(&events[start..end]);
        start = end;
    }
    out
}

/// Replays `events` (any order; they are sorted by time here) and returns
/// the final update. `progress(done, total)` is called after every update.
pub fn replay(
    events: &[VoteEvent],
    catalog: &StatementCatalog,
    config: &MathConfig,
    batching: Batching,
    restarts: Restarts,
    mut progress: impl FnMut(usize, usize),
) -> Result<Replay, MathError> {
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| (e.timestamp, e.participant, e.statement, e.vote));
    let parts = batches(&sorted, batching);
    let mut matrix = VoteMatrix::empty();
    let mut state = MathState::default();
    let mut last = None;
    for (i, batch) in parts.iter().enumerate() {
        matrix = matrix.with_events(batch)?;
        let gap = i > 0
            && restarts.after_gap_ms.is_some_and(|g| {
                batch[0].timestamp - parts[i - 1][parts[i - 1].len() - 1].timestamp > g
            });
        if gap || (restarts.before_last && i + 1 == parts.len()) {
            state = state.after_restart();
        }
        let next = update(&state, &matrix, catalog, config)?;
        state = next.state.clone();
        last = Some(next);
        progress(i + 1, parts.len());
    }
    let last = match last {
        Some(u) => u,
        None => update(&state, &matrix, catalog, config)?,
    };
    Ok(Replay {
        last,
        matrix,
        updates: parts.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vote::{ParticipantId, StatementId, Vote};

    #[test]
    fn windows_cut_at_the_right_times() {
        let e = |t| VoteEvent {
            participant: ParticipantId(0),
            statement: StatementId(0),
            vote: Vote::Agree,
            timestamp: t,
        };
        let events = [e(0), e(5), e(10), e(11), e(40)];
        let b = batches(&events, Batching::Window { millis: 10 });
        let sizes: Vec<usize> = b.iter().map(|x| x.len()).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
        let b = batches(&events, Batching::Votes(2));
        assert_eq!(b.len(), 3);
    }
}
