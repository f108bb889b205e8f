//! Writing a stored conversation as a Polis export (`votes.csv`,
//! `comments.csv`, `participants-votes.csv`, `summary.csv`), shared by
//! `polder export` and the HTTP export endpoint.

use crate::error::StoreError;
use crate::store::Store;
use polder_core::{StatementId, Vote, VoteEvent};
use polder_formats::Statement as FileStatement;
use polder_formats::polis_export_write::{
    CommentRow, ParticipantRow, ParticipantsVotesWriter, VotesWriter, write_comments, write_summary,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What an export wrote.
#[derive(Debug, Clone, Copy)]
pub struct Exported {
    /// Rows in votes.csv.
    pub votes: u64,
    /// Rows in comments.csv.
    pub statements: usize,
    /// Rows in participants-votes.csv.
    pub participants: usize,
}

/// Writes a stored conversation as a Polis export into `dir` (created if needed).
pub async fn export_polis(
    store: &Arc<dyn Store>,
    id: &str,
    dir: &Path,
) -> Result<Exported, StoreError> {
    let conversation = store
        .get_conversation(id)
        .await?
        .ok_or_else(|| StoreError::ConversationNotFound(id.to_string()))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::Sink(format!("{}: cannot create: {e}", dir.display())))?;
    let statements: Vec<FileStatement> = store
        .list_statements(id)
        .await?
        .into_iter()
        .map(file_statement)
        .collect();
    let participants = store.list_participants(id).await?;

    // votes.csv: the whole history, streamed in sequence order.
    let votes_path = dir.join("votes.csv");
    let writer = Arc::new(Mutex::new(Some(VotesWriter::create(&votes_path)?)));
    let sink_writer = Arc::clone(&writer);
    let n_votes = store
        .stream_history(
            id,
            Box::new(move |v| {
                let mut guard = sink_writer
                    .lock()
                    .map_err(|_| StoreError::Sink("votes.csv writer lock poisoned".into()))?;
                let out = guard
                    .as_mut()
                    .ok_or_else(|| StoreError::Sink("votes.csv writer already closed".into()))?;
                out.write(&VoteEvent {
                    participant: v.participant,
                    statement: v.statement,
                    vote: v.vote,
                    timestamp: v.created_ms,
                })
                .map_err(|e| StoreError::Sink(e.to_string()))
            }),
        )
        .await?;
    let finished = writer
        .lock()
        .map_err(|_| StoreError::Sink("votes.csv writer lock poisoned".into()))?
        .take();
    if let Some(w) = finished {
        w.finish()?;
    }

    // The current votes, for the counts and participants-votes.csv.
    let loaded = store.load_matrix(id, None).await?;
    let matrix = &loaded.matrix;
    let mut tally: BTreeMap<StatementId, (u64, u64)> = BTreeMap::new();
    let mut authored: BTreeMap<u32, u64> = BTreeMap::new();
    for s in &statements {
        if let Some(a) = s.author {
            *authored.entry(a.0).or_default() += 1;
        }
    }
    for (_, statement, vote) in matrix.iter() {
        let t = tally.entry(statement).or_default();
        match vote {
            Vote::Agree => t.0 += 1,
            Vote::Disagree => t.1 += 1,
            Vote::Pass => {}
        }
    }
    write_comments(
        &dir.join("comments.csv"),
        statements.iter().map(|s| {
            let (agrees, disagrees) = tally.get(&s.id).copied().unwrap_or_default();
            CommentRow {
                statement: s,
                agrees,
                disagrees,
            }
        }),
    )?;

    let mut pv = ParticipantsVotesWriter::create(
        &dir.join("participants-votes.csv"),
        statements.iter().map(|s| s.id).collect(),
    )?;
    let mut row_votes = Vec::new();
    for p in &participants {
        row_votes.clear();
        if let Some(row) = matrix.row_of(p.id) {
            let (columns, values) = matrix.row(row);
            for (&c, &v) in columns.iter().zip(values) {
                if let Some(vote) = Vote::from_value(i64::from(v)) {
                    row_votes.push((matrix.statements()[c as usize], vote));
                }
            }
        }
        pv.write(ParticipantRow {
            participant: p.id,
            group: None,
            n_comments: authored.get(&p.id.0).copied().unwrap_or(0),
            votes: &row_votes,
        })?;
    }
    pv.finish()?;

    let voters = matrix.n_participants();
    write_summary(
        &dir.join("summary.csv"),
        &[
            ("topic", conversation.topic.clone()),
            ("voters", voters.to_string()),
            ("commenters", authored.len().to_string()),
            ("comments", statements.len().to_string()),
            ("conversation-description", conversation.description.clone()),
        ],
    )?;
    Ok(Exported {
        votes: n_votes,
        statements: statements.len(),
        participants: participants.len(),
    })
}

/// A stored statement as the Polis file formats see it.
pub fn file_statement(s: crate::model::Statement) -> FileStatement {
    FileStatement {
        id: s.id,
        text: s.text,
        author: s.author,
        created: Some(s.created_ms),
        moderation: s.moderation,
        is_meta: s.is_meta,
        is_seed: s.is_seed,
        language: s.lang,
    }
}
