//! Preparing a Polis conversation for a bulk import.
//!
//! Everything that can be checked is checked here, before the database is
//! touched, and the rows are put in the order the backends write them: the
//! vote history in the order the votes happened (that order gives the
//! sequence numbers), the current votes by participant and statement.

use crate::error::StoreError;
use crate::model::NewConversation;
use crate::validate;
use polder_core::{ParticipantId, VoteEvent};
use polder_formats::Statement as FileStatement;
use sha2::Digest;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// A conversation ready to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The conversation to create.
    pub conversation: NewConversation,
    /// When it started (its earliest statement or vote).
    pub created_ms: i64,
    /// Fingerprint of the source files; importing the same files twice is refused.
    pub source: Option<String>,
    /// Statements, by id.
    pub statements: Vec<FileStatement>,
    /// Every participant with the time they were first seen, by id.
    pub participants: Vec<(ParticipantId, i64)>,
    /// The vote history, oldest first: vote `i` gets sequence number `i + 1`.
    pub votes: Vec<VoteEvent>,
    /// For every participant × statement cell, the index in `votes` of its
    /// current (latest) vote; sorted by participant, then statement.
    pub current: Vec<u32>,
}

impl ImportRequest {
    /// Reads a conversation directory (Polis export CSV or Polis API JSON) and
    /// prepares it for import as `conversation`; topic and description are
    /// taken from the files when `conversation` leaves them empty.
    pub fn from_dir(dir: &Path, mut conversation: NewConversation) -> Result<Self, StoreError> {
        let data = polder_formats::read_conversation(dir)?;
        let mut extra = Vec::new();
        let groups = dir.join("participants-votes.csv");
        if groups.exists() {
            extra.extend(polder_formats::polis_export::read_polis_groups(&groups)?.into_keys());
        }
        if conversation.topic.is_empty() {
            conversation.topic = data.topic.clone().unwrap_or_default();
        }
        if conversation.description.is_empty() {
            conversation.description = data.description.clone().unwrap_or_default();
        }
        if let Some(strict) = data.strict_moderation {
            conversation.settings.strict_moderation = strict;
        }
        let mut request = Self::from_data(conversation, data, extra)?;
        request.source = Some(fingerprint(dir)?);
        Ok(request)
    }

    /// Prepares conversation data already read.
    pub fn from_data(
        conversation: NewConversation,
        data: polder_formats::Conversation,
        extra_participants: Vec<ParticipantId>,
    ) -> Result<Self, StoreError> {
        let name = conversation.id.clone().unwrap_or_default();
        let mut statements = data.statements;
        statements.sort_by_key(|s| s.id);
        for pair in statements.windows(2) {
            if pair[0].id == pair[1].id {
                return Err(StoreError::InvalidStatement {
                    conversation: name,
                    statement: Some(pair[0].id),
                    reason: "the id appears twice".into(),
                });
            }
        }
        for s in &statements {
            validate::statement_text(&name, Some(s.id), &s.text, s.moderation)?;
            crate::votes::check_statement_id(s.id.0)?;
        }
        let mut votes = data.votes;
        // The order VoteMatrix::from_events resolves ties in, so that the
        // current votes stored are exactly the ones the engine would keep.
        votes.sort_by_key(|e| (e.timestamp, e.participant, e.statement, e.vote));
        for v in &votes {
            if statements
                .binary_search_by_key(&v.statement, |s| s.id)
                .is_err()
            {
                return Err(StoreError::StatementNotFound {
                    conversation: name,
                    statement: v.statement,
                });
            }
        }
        let mut first_seen: BTreeMap<ParticipantId, i64> = BTreeMap::new();
        let mut see = |p: ParticipantId, t: i64| {
            let at = first_seen.entry(p).or_insert(t);
            *at = (*at).min(t);
        };
        for v in &votes {
            see(v.participant, v.timestamp);
        }
        for s in &statements {
            if let Some(author) = s.author {
                see(author, s.created.unwrap_or(i64::MAX));
            }
        }
        let earliest = votes
            .first()
            .map(|v| v.timestamp)
            .into_iter()
            .chain(statements.iter().filter_map(|s| s.created))
            .min()
            .unwrap_or_else(validate::now_ms);
        for p in extra_participants {
            see(p, i64::MAX);
        }
        let participants = first_seen
            .into_iter()
            .map(|(p, t)| (p, if t == i64::MAX { earliest } else { t }))
            .collect();
        if votes.len() > u32::MAX as usize {
            return Err(StoreError::InvalidValue {
                conversation: name,
                reason: "more than 4 billion votes in one import".into(),
            });
        }
        let mut current: Vec<u32> = (0..votes.len() as u32).collect();
        current.sort_unstable_by_key(|&i| {
            let v = &votes[i as usize];
            (v.participant, v.statement, i)
        });
        let mut keep = 0;
        for read in 0..current.len() {
            let cell = |i: u32| {
                let v = &votes[i as usize];
                (v.participant, v.statement)
            };
            if keep > 0 && cell(current[keep - 1]) == cell(current[read]) {
                current[keep - 1] = current[read];
            } else {
                current[keep] = current[read];
                keep += 1;
            }
        }
        current.truncate(keep);
        Ok(ImportRequest {
            conversation,
            created_ms: earliest,
            source: None,
            statements,
            participants,
            votes,
            current,
        })
    }
}

/// SHA-256 over the statements and votes files of a directory.
pub fn fingerprint(dir: &Path) -> Result<String, StoreError> {
    let mut hasher = sha2::Sha256::new();
    for name in ["comments.csv", "votes.csv", "comments.json", "votes.json"] {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        let io = |e| polder_formats::FormatError::Io {
            path: path.clone(),
            source: e,
        };
        let mut file = std::fs::File::open(&path).map_err(io)?;
        hasher.update(name.as_bytes());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
    }
    Ok(validate::hex(&hasher.finalize()))
}
