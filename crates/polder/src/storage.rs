//! `polder import`, `polder export` and reading a stored conversation for
//! `polder analyze`: the command line's side of polder-store.

use crate::progress;
use anyhow::Context;
use polder_core::VoteEvent;
use polder_store::{ImportRequest, NewConversation, Store, StoreError};
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

/// Writes a stored conversation as a Polis export into `dir` (created if needed).
pub async fn export(
    store: &Arc<dyn Store>,
    id: &str,
    dir: &Path,
) -> anyhow::Result<polder_store::export::Exported> {
    Ok(polder_store::export::export_polis(store, id, dir).await?)
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
        .map(polder_store::export::file_statement)
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
