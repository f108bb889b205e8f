//! Group commit for votes on PostgreSQL.
//!
//! Each conversation's vote counter (`conversations.last_seq`) is locked by
//! the transaction that writes votes, so that sequence numbers are gap-free
//! and commit in order — which is what lets incremental matrix loads use
//! `seq > since` without missing a vote. Held for one transaction per vote,
//! that lock would cap a conversation at one commit (one WAL flush) at a
//! time. So votes go through one task that takes every request waiting,
//! checks them all against facts loaded in a few set-based queries, writes
//! them with one multi-row insert per table and commits once. Callers hear
//! back only after the commit.

use crate::error::StoreError;
use crate::model::{NewVote, VoteReceipt};
use crate::votes::{self, VoteContext, id_u32, moderation_of};
use deadpool_postgres::{Pool, Transaction};
use std::collections::BTreeMap;
use tokio::sync::{mpsc, oneshot};

/// Most requests committed together.
const MAX_GROUP: usize = 1024;

type Reply = oneshot::Sender<Result<Vec<VoteReceipt>, StoreError>>;

/// One `cast_votes` call waiting for its group.
pub(super) struct VoteJob {
    pub conversation: String,
    pub votes: Vec<NewVote>,
    pub reply: Reply,
}

/// Runs until every sender is gone.
pub(super) async fn run(pool: Pool, mut jobs: mpsc::UnboundedReceiver<VoteJob>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let requests: Vec<(String, Vec<NewVote>)> = group
            .iter_mut()
            .map(|j| {
                (
                    std::mem::take(&mut j.conversation),
                    std::mem::take(&mut j.votes),
                )
            })
            .collect();
        match commit_group(&pool, &requests).await {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                let message = e.to_string();
                for job in group {
                    let _ = job
                        .reply
                        .send(Err(StoreError::CommitFailed(message.clone())));
                }
            }
        }
    }
}

/// Writes a group; the outer error fails every request, the inner ones only their own.
async fn commit_group(
    pool: &Pool,
    requests: &[(String, Vec<NewVote>)],
) -> Result<Vec<Result<Vec<VoteReceipt>, StoreError>>, StoreError> {
    let mut results: Vec<Option<Result<Vec<VoteReceipt>, StoreError>>> =
        requests.iter().map(|_| None).collect();
    // Conversations in id order: concurrent processes lock them in the same order.
    let mut by_conversation: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (conversation, _)) in requests.iter().enumerate() {
        by_conversation.entry(conversation).or_default().push(i);
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    for (conversation, indices) in by_conversation {
        let Some(mut ctx) =
            load_context(&tx, conversation, indices.iter().map(|&i| &requests[i].1)).await?
        else {
            for i in indices {
                results[i] = Some(Err(StoreError::ConversationNotFound(
                    conversation.to_string(),
                )));
            }
            continue;
        };
        let mut rows = Vec::new();
        for i in indices {
            results[i] = Some(
                votes::plan(&mut ctx, &requests[i].1).map(|(receipts, planned)| {
                    rows.extend(planned);
                    receipts
                }),
            );
        }
        if !rows.is_empty() {
            write_rows(&tx, conversation, &ctx, &rows).await?;
        }
    }
    tx.commit().await?;
    Ok(results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| Err(StoreError::Internal("vote request left unanswered".into())))
        })
        .collect())
}

async fn load_context<'a>(
    tx: &Transaction<'_>,
    conversation: &str,
    requests: impl Iterator<Item = &'a Vec<NewVote>>,
) -> Result<Option<VoteContext>, StoreError> {
    let Some(row) = tx
        .query_opt(
            "SELECT closed, last_seq, n_votes FROM conversations WHERE id = $1 FOR UPDATE",
            &[&conversation],
        )
        .await?
    else {
        return Ok(None);
    };
    let mut ctx = VoteContext {
        conversation: conversation.to_string(),
        closed: row.try_get::<_, i64>(0)? != 0,
        last_seq: row.try_get::<_, i64>(1)? as u64,
        n_votes: row.try_get::<_, i64>(2)? as u64,
        ..Default::default()
    };
    let all: Vec<NewVote> = requests.flatten().cloned().collect();
    let (pids, tids, keys) = votes::touched(&all);
    let pids: Vec<i64> = pids.into_iter().map(i64::from).collect();
    let tids: Vec<i64> = tids.into_iter().map(i64::from).collect();
    for r in tx
        .query(
            "SELECT pid, erased FROM participants WHERE conversation = $1 AND pid = ANY($2)",
            &[&conversation, &pids],
        )
        .await?
    {
        ctx.participants.insert(
            id_u32(r.try_get(0)?, "participant id")?,
            r.try_get::<_, i64>(1)? != 0,
        );
    }
    for r in tx
        .query(
            "SELECT tid, moderation FROM statements WHERE conversation = $1 AND tid = ANY($2)",
            &[&conversation, &tids],
        )
        .await?
    {
        ctx.statements.insert(
            id_u32(r.try_get(0)?, "statement id")?,
            moderation_of(r.try_get(1)?)?,
        );
    }
    if !keys.is_empty() {
        let key_pids: Vec<i64> = keys.iter().map(|(p, _)| i64::from(*p)).collect();
        let key_names: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
        for r in tx
            .query(
                "SELECT h.pid, h.client_key, h.seq FROM vote_history h \
                 JOIN UNNEST($2::bigint[], $3::text[]) AS k(pid, client_key) \
                   ON h.pid = k.pid AND h.client_key = k.client_key \
                 WHERE h.conversation = $1",
                &[&conversation, &key_pids, &key_names],
            )
            .await?
        {
            ctx.keys.insert(
                (id_u32(r.try_get(0)?, "participant id")?, r.try_get(1)?),
                r.try_get::<_, i64>(2)? as u64,
            );
        }
    }
    Ok(Some(ctx))
}

async fn write_rows(
    tx: &Transaction<'_>,
    conversation: &str,
    ctx: &VoteContext,
    rows: &[votes::VoteRow],
) -> Result<(), StoreError> {
    let now = crate::validate::now_ms();
    let seq: Vec<i64> = rows.iter().map(|r| r.seq as i64).collect();
    let pid: Vec<i64> = rows.iter().map(|r| i64::from(r.pid)).collect();
    let tid: Vec<i64> = rows.iter().map(|r| i64::from(r.tid)).collect();
    let vote: Vec<i64> = rows.iter().map(|r| i64::from(r.vote)).collect();
    let key: Vec<Option<&str>> = rows.iter().map(|r| r.client_key.as_deref()).collect();
    tx.execute(
        "INSERT INTO vote_history (conversation, seq, pid, tid, vote, created_ms, client_key) \
         SELECT $1, s, p, t, v, $7, k FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[]) AS u(s, p, t, v, k)",
        &[&conversation, &seq, &pid, &tid, &vote, &key, &now],
    )
    .await?;
    let current = votes::current_rows(rows);
    let seq: Vec<i64> = current.iter().map(|r| r.seq as i64).collect();
    let pid: Vec<i64> = current.iter().map(|r| i64::from(r.pid)).collect();
    let tid: Vec<i64> = current.iter().map(|r| i64::from(r.tid)).collect();
    let vote: Vec<i64> = current.iter().map(|r| i64::from(r.vote)).collect();
    tx.execute(
        "INSERT INTO current_votes (conversation, pid, tid, vote, seq, modified_ms) \
         SELECT $1, p, t, v, s, $6 FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS u(p, t, v, s) \
         ON CONFLICT (conversation, pid, tid) DO UPDATE SET vote = excluded.vote, seq = excluded.seq, modified_ms = excluded.modified_ms",
        &[&conversation, &pid, &tid, &vote, &seq, &now],
    )
    .await?;
    tx.execute(
        "UPDATE conversations SET last_seq = $2, n_votes = $3 WHERE id = $1",
        &[&conversation, &(ctx.last_seq as i64), &(ctx.n_votes as i64)],
    )
    .await?;
    Ok(())
}
