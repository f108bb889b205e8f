//! `polder import`, `polder export` and reading a stored conversation for
//! `polder analyze`: the command line's side of polder-store.

use crate::progress;
use anyhow::Context;
use polder_core::{StatementId, Vote, VoteEvent};
use polder_formats::Statement as FileStatement;
use polder_formats::polis_export_write::{
    CommentRow, ParticipantRow, ParticipantsVotesWriter, VotesWriter, write_comments, write_summary,
};
use polder_store::{ImportRequest, NewConversation, Store, StoreError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Runs `future` on a runtime made for this one command.
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(future))
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The new conversation's id.
    pub id: String,
    /// Statements imported.
    pub statements: usize,
    /// Participants imported.
    pub participants: usize,
    /// Votes imported (the whole history).
    pub votes: usize,
}

/// Imports the conversation in `dir` (Polis export or Polis API JSON) as
/// `id`, or under an id made from the directory's name when `id` is `None`.
pub async fn import(
    store: &Arc<dyn Store>,
    dir: &Path,
    id: Option<String>,
    show_progress: bool,
) -> anyhow::Result<Imported> {
    if let Some(id) = &id {
        polder_store::validate::conversation_id(id)?;
    }
    let id = match id {
        Some(id) => id,
        None => free_id(store, dir).await?,
    };
    let request = ImportRequest::from_dir(
        dir,
        NewConversation {
            id: Some(id),
            ..NewConversation::default()
        },
    )?;
    let (statements, participants, votes) = (
        request.statements.len(),
        request.participants.len(),
        request.votes.len(),
    );
    let bar = progress::bar(show_progress, votes as u64, "votes imported");
    let shown = bar.clone();
    let conversation = store
        .import(request, Arc::new(move |n| shown.set_position(n)))
        .await?;
    bar.finish_and_clear();
    Ok(Imported {
        id: conversation.id,
        statements,
        participants,
        votes,
    })
}

/// The directory's name as an id, with `-2`, `-3`, … when it is taken.
async fn free_id(store: &Arc<dyn Store>, dir: &Path) -> anyhow::Result<String> {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .and_then(|n| polder_store::validate::slugify(&n));
    let Some(base) = name else {
        return Ok(polder_store::validate::generate_conversation_id());
    };
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if store.get_conversation(&candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
    Ok(polder_store::validate::generate_conversation_id())
}

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
pub async fn export(store: &Arc<dyn Store>, id: &str, dir: &Path) -> anyhow::Result<Exported> {
    let conversation = store
        .get_conversation(id)
        .await?
        .ok_or_else(|| StoreError::ConversationNotFound(id.to_string()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
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
        .map_err(|_| anyhow::anyhow!("votes.csv writer lock poisoned"))?
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

fn file_statement(s: polder_store::Statement) -> FileStatement {
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

/// A stored conversation in the shape `analyze` reads from files: every
/// statement and the whole vote history.
pub async fn read_stored(
    store: &Arc<dyn Store>,
    id: &str,
) -> anyhow::Result<polder_formats::Conversation> {
    let conversation = store
        .get_conversation(id)
        .await?
        .ok_or_else(|| StoreError::ConversationNotFound(id.to_string()))?;
    let statements = store
        .list_statements(id)
        .await?
        .into_iter()
        .map(file_statement)
        .collect();
    let votes = Arc::new(Mutex::new(Vec::with_capacity(
        conversation.vote_count as usize,
    )));
    let sink_votes = Arc::clone(&votes);
    store
        .stream_history(
            id,
            Box::new(move |v| {
                sink_votes
                    .lock()
                    .map_err(|_| StoreError::Sink("vote buffer lock poisoned".into()))?
                    .push(VoteEvent {
                        participant: v.participant,
                        statement: v.statement,
                        vote: v.vote,
                        timestamp: v.created_ms,
                    });
                Ok(())
            }),
        )
        .await?;
    let votes = std::mem::take(
        &mut *votes
            .lock()
            .map_err(|_| anyhow::anyhow!("vote buffer lock poisoned"))?,
    );
    Ok(polder_formats::Conversation {
        topic: Some(conversation.topic),
        description: Some(conversation.description),
        url: None,
        strict_moderation: Some(conversation.settings.strict_moderation),
        statements,
        votes,
    })
}
