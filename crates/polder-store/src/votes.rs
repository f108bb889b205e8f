//! Deciding what a batch of votes does, the same way for every backend.
//!
//! A backend loads the facts the votes touch into a [`VoteContext`], asks
//! [`plan`] for the rows to write, and writes them. Keeping the rules here
//! means SQLite and PostgreSQL cannot drift apart.

use crate::error::StoreError;
use crate::model::{NewVote, VoteReceipt};
use crate::validate;
use polder_core::{Moderation, ParticipantId, StatementId};
use std::collections::HashMap;

/// What a batch of votes needs to know about its conversation.
#[derive(Debug, Default)]
pub(crate) struct VoteContext {
    pub conversation: String,
    pub closed: bool,
    pub last_seq: u64,
    pub n_votes: u64,
    /// pid → erased
    pub participants: HashMap<u32, bool>,
    pub statements: HashMap<u32, Moderation>,
    /// (pid, client key) → seq of the vote that used it
    pub keys: HashMap<(u32, String), u64>,
}

/// One history row to write.
#[derive(Debug, Clone)]
pub(crate) struct VoteRow {
    pub seq: u64,
    pub pid: u32,
    pub tid: u32,
    pub vote: i8,
    pub client_key: Option<String>,
}

/// The distinct participants, statements and (participant, client key)
/// pairs `votes` touch.
pub(crate) type Touched = (Vec<u32>, Vec<u32>, Vec<(u32, String)>);

/// What [`Touched`] says for `votes`.
pub(crate) fn touched(votes: &[NewVote]) -> Touched {
    let mut pids: Vec<u32> = votes.iter().map(|v| v.participant.0).collect();
    let mut tids: Vec<u32> = votes.iter().map(|v| v.statement.0).collect();
    let mut keys: Vec<(u32, String)> = votes
        .iter()
        .filter_map(|v| v.client_key.clone().map(|k| (v.participant.0, k)))
        .collect();
    for list in [&mut pids, &mut tids] {
        list.sort_unstable();
        list.dedup();
    }
    keys.sort_unstable();
    keys.dedup();
    (pids, tids, keys)
}

/// Checks every vote and assigns sequence numbers. On success the context
/// is advanced (seq, counts, keys); on error it is left as it was.
pub(crate) fn plan(
    ctx: &mut VoteContext,
    votes: &[NewVote],
) -> Result<(Vec<VoteReceipt>, Vec<VoteRow>), StoreError> {
    if ctx.closed {
        return Err(StoreError::ConversationClosed(ctx.conversation.clone()));
    }
    let mut seq = ctx.last_seq;
    let mut receipts = Vec::with_capacity(votes.len());
    let mut rows = Vec::with_capacity(votes.len());
    let mut new_keys: HashMap<(u32, String), u64> = HashMap::new();
    for v in votes {
        let pid = v.participant.0;
        if let Some(key) = &v.client_key {
            validate::key(&ctx.conversation, "a vote's client_key", key)?;
            let k = (pid, key.clone());
            if let Some(&first) = ctx.keys.get(&k).or_else(|| new_keys.get(&k)) {
                receipts.push(VoteReceipt {
                    seq: first,
                    duplicate: true,
                });
                continue;
            }
        }
        match ctx.participants.get(&pid) {
            None => {
                return Err(StoreError::ParticipantNotFound {
                    conversation: ctx.conversation.clone(),
                    participant: ParticipantId(pid),
                });
            }
            Some(true) => {
                return Err(StoreError::ParticipantErased {
                    conversation: ctx.conversation.clone(),
                    participant: ParticipantId(pid),
                });
            }
            Some(false) => {}
        }
        match ctx.statements.get(&v.statement.0) {
            None => {
                return Err(StoreError::StatementNotFound {
                    conversation: ctx.conversation.clone(),
                    statement: v.statement,
                });
            }
            Some(Moderation::Rejected) => {
                return Err(StoreError::StatementModeratedOut {
                    conversation: ctx.conversation.clone(),
                    statement: v.statement,
                });
            }
            Some(_) => {}
        }
        seq += 1;
        if let Some(key) = &v.client_key {
            new_keys.insert((pid, key.clone()), seq);
        }
        receipts.push(VoteReceipt {
            seq,
            duplicate: false,
        });
        rows.push(VoteRow {
            seq,
            pid,
            tid: v.statement.0,
            vote: v.vote.value(),
            client_key: v.client_key.clone(),
        });
    }
    ctx.n_votes += rows.len() as u64;
    ctx.last_seq = seq;
    ctx.keys.extend(new_keys);
    Ok((receipts, rows))
}

/// The rows that become current votes: the last row of each cell, so that
/// one multi-row upsert never touches a cell twice.
pub(crate) fn current_rows(rows: &[VoteRow]) -> Vec<&VoteRow> {
    let mut last: HashMap<(u32, u32), usize> = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert((r.pid, r.tid), i);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_unstable();
    keep.into_iter().map(|i| &rows[i]).collect()
}

/// Converts a stored integer to an id, refusing values that cannot be ours.
pub(crate) fn id_u32(value: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is out of range")))
}

/// Converts a stored vote value.
pub(crate) fn vote_of(value: i64) -> Result<polder_core::Vote, StoreError> {
    polder_core::Vote::from_value(value)
        .ok_or_else(|| StoreError::Corrupt(format!("vote value {value} is not -1, 0 or 1")))
}

/// Converts a stored moderation value.
pub(crate) fn moderation_of(value: i64) -> Result<Moderation, StoreError> {
    Moderation::from_polis(value)
        .ok_or_else(|| StoreError::Corrupt(format!("moderation value {value} is not -1, 0 or 1")))
}

/// The stored integer of a moderation state (Polis `mod`).
pub(crate) fn moderation_value(m: Moderation) -> i64 {
    match m {
        Moderation::Rejected => -1,
        Moderation::Unmoderated => 0,
        Moderation::Accepted => 1,
    }
}

/// Whether a statement id fits the engine.
pub(crate) fn check_statement_id(id: u32) -> Result<StatementId, StoreError> {
    if id > StatementId::MAX {
        return Err(StoreError::Math(
            polder_core::MathError::StatementIdTooLarge(StatementId(id)),
        ));
    }
    Ok(StatementId(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polder_core::Vote;

    fn ctx() -> VoteContext {
        VoteContext {
            conversation: "c".into(),
            participants: [(0, false), (1, true)].into_iter().collect(),
            statements: [(0, Moderation::Accepted), (1, Moderation::Rejected)]
                .into_iter()
                .collect(),
            ..Default::default()
        }
    }

    fn v(p: u32, s: u32, key: Option<&str>) -> NewVote {
        NewVote {
            participant: ParticipantId(p),
            statement: StatementId(s),
            vote: Vote::Agree,
            client_key: key.map(String::from),
        }
    }

    #[test]
    fn a_failing_vote_leaves_the_context_untouched() {
        let mut c = ctx();
        let err = plan(&mut c, &[v(0, 0, Some("k")), v(0, 1, None)]).unwrap_err();
        assert!(matches!(err, StoreError::StatementModeratedOut { .. }));
        assert_eq!(c.last_seq, 0);
        assert!(c.keys.is_empty());
        let err = plan(&mut c, &[v(1, 0, None)]).unwrap_err();
        assert!(matches!(err, StoreError::ParticipantErased { .. }));
    }

    #[test]
    fn repeated_client_keys_return_the_first_seq() {
        let mut c = ctx();
        let (receipts, rows) = plan(&mut c, &[v(0, 0, Some("k")), v(0, 0, Some("k"))]).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            receipts[1],
            VoteReceipt {
                seq: 1,
                duplicate: true
            }
        );
        let (receipts, _) = plan(&mut c, &[v(0, 0, Some("k"))]).unwrap();
        assert_eq!(
            receipts[0],
            VoteReceipt {
                seq: 1,
                duplicate: true
            }
        );
    }
}
