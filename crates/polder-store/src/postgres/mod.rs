//! The PostgreSQL backend: for several server processes or very large
//! conversations. Same schema and rules as SQLite; votes go through a
//! group-commit task (`batcher.rs`), imports through `COPY`.

mod batcher;
mod ops;

use crate::error::StoreError;
use crate::import::ImportRequest;
use crate::migrate;
use crate::model::*;
use crate::store::{Backend, ImportProgress, SecretMaker, Store, StoreFuture, VoteSink};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use polder_core::{ParticipantId, StatementId};
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::IsolationLevel;

/// Connections in the pool.
const POOL_SIZE: usize = 16;
/// Any constant shared by every polder process: the key of the advisory lock
/// that keeps two processes from migrating at once.
const MIGRATION_LOCK: i64 = 0x706f_6c64_6572; // "polder"

/// A store in a PostgreSQL database.
pub(crate) struct PgStore {
    pool: Pool,
    votes: mpsc::UnboundedSender<batcher::VoteJob>,
}

/// Runs `$body` inside a transaction on a pooled connection and commits.
macro_rules! in_tx {
    ($self:ident, $tx:ident => $body:expr) => {{
        let mut client = $self.pool.get().await?;
        let $tx = client.transaction().await?;
        let out = $body;
        $tx.commit().await?;
        Ok(out)
    }};
}

impl PgStore {
    /// Connects, migrates and starts the vote batcher.
    pub(crate) async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| StoreError::InvalidUrl {
            url: redact(url),
            reason: e.to_string(),
        })?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        migrate_pg(&pool).await?;
        let (votes, jobs) = mpsc::unbounded_channel();
        tokio::spawn(batcher::run(pool.clone(), jobs));
        Ok(Arc::new(PgStore { pool, votes }))
    }
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!("{}:***{}", &url[..scheme + 3 + colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn migrate_pg(pool: &Pool) -> Result<(), StoreError> {
    let mut client = pool.get().await?;
    // Session-level advisory lock: a second process starting at the same time
    // waits here instead of racing to create the same tables.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = async {
        client.batch_execute(migrate::CREATE_BOOKKEEPING).await?;
        let tx = client.transaction().await?;
        let applied: Vec<(i64, String)> = tx
            .query("SELECT version, checksum FROM schema_migrations", &[])
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, tokio_postgres::Error>>()?;
        for m in migrate::pending(migrate::POSTGRES, &applied)? {
            tx.batch_execute(m.sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_ms) VALUES ($1, $2, $3, $4)",
                &[&i64::from(m.version), &m.name, &m.checksum(), &crate::validate::now_ms()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<(), StoreError>(())
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    result
}

impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn create_conversation(&self, new: NewConversation) -> StoreFuture<'_, Conversation> {
        Box::pin(async move { in_tx!(self, tx => ops::create_conversation(&tx, new).await?) })
    }

    fn get_conversation(&self, id: &str) -> StoreFuture<'_, Option<Conversation>> {
        let id = id.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::get_conversation(&tx, &id).await?) })
    }

    fn update_conversation(
        &self,
        id: &str,
        patch: ConversationPatch,
    ) -> StoreFuture<'_, Conversation> {
        let id = id.to_owned();
        Box::pin(
            async move { in_tx!(self, tx => ops::update_conversation(&tx, &id, patch).await?) },
        )
    }

    fn list_conversations(&self) -> StoreFuture<'_, Vec<Conversation>> {
        Box::pin(async move { in_tx!(self, tx => ops::list_conversations(&tx).await?) })
    }

    fn set_closed(&self, id: &str, closed: bool) -> StoreFuture<'_, Conversation> {
        let id = id.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::set_closed(&tx, &id, closed).await?) })
    }

    fn add_statement(&self, conversation: &str, new: NewStatement) -> StoreFuture<'_, Statement> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::add_statement(&tx, &id, new).await?) })
    }

    fn list_statements(&self, conversation: &str) -> StoreFuture<'_, Vec<Statement>> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::list_statements(&tx, &id).await?) })
    }

    fn moderate_statement(
        &self,
        conversation: &str,
        statement: StatementId,
        action: ModerationAction,
    ) -> StoreFuture<'_, Statement> {
        let id = conversation.to_owned();
        Box::pin(async move {
            in_tx!(self, tx => ops::moderate_statement(&tx, &id, statement, action).await?)
        })
    }

    fn moderation_log(&self, conversation: &str) -> StoreFuture<'_, Vec<ModerationLogEntry>> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::moderation_log(&tx, &id).await?) })
    }

    fn add_participant(
        &self,
        conversation: &str,
        new: NewParticipant,
    ) -> StoreFuture<'_, Participant> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::add_participant(&tx, &id, new).await?) })
    }

    fn get_participant(
        &self,
        conversation: &str,
        participant: ParticipantId,
    ) -> StoreFuture<'_, Option<Participant>> {
        let id = conversation.to_owned();
        Box::pin(
            async move { in_tx!(self, tx => ops::get_participant(&tx, &id, participant).await?) },
        )
    }

    fn find_participant_by_xid(
        &self,
        conversation: &str,
        xid: &str,
    ) -> StoreFuture<'_, Option<Participant>> {
        let id = conversation.to_owned();
        let xid = xid.to_owned();
        Box::pin(
            async move { in_tx!(self, tx => ops::find_participant_by_xid(&tx, &id, &xid).await?) },
        )
    }

    fn list_participants(&self, conversation: &str) -> StoreFuture<'_, Vec<Participant>> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::list_participants(&tx, &id).await?) })
    }

    fn cast_votes(
        &self,
        conversation: &str,
        votes: Vec<NewVote>,
    ) -> StoreFuture<'_, Vec<VoteReceipt>> {
        let conversation = conversation.to_owned();
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            self.votes
                .send(batcher::VoteJob {
                    conversation,
                    votes,
                    reply,
                })
                .map_err(|_| StoreError::WriterGone)?;
            answer.await.map_err(|_| StoreError::WriterGone)?
        })
    }

    fn vote_count(&self, conversation: &str) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::counters(&tx, &id).await?.0) })
    }

    fn last_seq(&self, conversation: &str) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::counters(&tx, &id).await?.1) })
    }

    fn load_matrix(
        &self,
        conversation: &str,
        since_seq: Option<u64>,
    ) -> StoreFuture<'_, LoadedMatrix> {
        let id = conversation.to_owned();
        Box::pin(async move {
            let mut client = self.pool.get().await?;
            // One snapshot for the counter and the rows.
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let loaded = ops::load_matrix(&tx, &id, since_seq).await?;
            tx.commit().await?;
            Ok(loaded)
        })
    }

    fn stream_history(&self, conversation: &str, sink: VoteSink) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::stream_history(&tx, &id, sink).await?) })
    }

    fn save_snapshot(
        &self,
        conversation: &str,
        snapshot: NewSnapshot,
    ) -> StoreFuture<'_, SnapshotMeta> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::save_snapshot(&tx, &id, snapshot).await?) })
    }

    fn list_snapshots(&self, conversation: &str) -> StoreFuture<'_, Vec<SnapshotMeta>> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::list_snapshots(&tx, &id).await?) })
    }

    fn snapshot_at(
        &self,
        conversation: &str,
        at_ms: Option<i64>,
    ) -> StoreFuture<'_, Option<Snapshot>> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::snapshot_at(&tx, &id, at_ms).await?) })
    }

    fn put_key(&self, key: KeyRecord) -> StoreFuture<'_, ()> {
        Box::pin(async move { in_tx!(self, tx => ops::put_key(&tx, key).await?) })
    }

    fn find_key(&self, hash: &str) -> StoreFuture<'_, Option<KeyRecord>> {
        let hash = hash.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::find_key(&tx, &hash).await?) })
    }

    fn revoke_key(&self, hash: &str) -> StoreFuture<'_, bool> {
        let hash = hash.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::revoke_key(&tx, &hash).await?) })
    }

    fn get_or_create_secret(&self, name: &str, make: SecretMaker) -> StoreFuture<'_, Vec<u8>> {
        let name = name.to_owned();
        Box::pin(
            async move { in_tx!(self, tx => ops::get_or_create_secret(&tx, &name, make).await?) },
        )
    }

    fn find_secret(&self, name: &str) -> StoreFuture<'_, Option<Vec<u8>>> {
        let name = name.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::find_secret(&tx, &name).await?) })
    }

    fn create_invites(&self, conversation: &str, hashes: Vec<String>) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::create_invites(&tx, &id, &hashes).await?) })
    }

    fn redeem_invite(&self, conversation: &str, hash: &str) -> StoreFuture<'_, Redemption> {
        let id = conversation.to_owned();
        let hash = hash.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::redeem_invite(&tx, &id, &hash).await?) })
    }

    fn invite_counts(&self, conversation: &str) -> StoreFuture<'_, InviteCounts> {
        let id = conversation.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::invite_counts(&tx, &id).await?) })
    }

    fn spend_token(&self, conversation: &str, nullifier: &str) -> StoreFuture<'_, bool> {
        let id = conversation.to_owned();
        let nullifier = nullifier.to_owned();
        Box::pin(async move { in_tx!(self, tx => ops::spend_token(&tx, &id, &nullifier).await?) })
    }

    fn participant_data(
        &self,
        conversation: &str,
        participant: ParticipantId,
    ) -> StoreFuture<'_, ParticipantExport> {
        let id = conversation.to_owned();
        Box::pin(
            async move { in_tx!(self, tx => ops::participant_data(&tx, &id, participant).await?) },
        )
    }

    fn erase_participant(
        &self,
        conversation: &str,
        participant: ParticipantId,
        policy: Erasure,
    ) -> StoreFuture<'_, ErasureReport> {
        let id = conversation.to_owned();
        Box::pin(async move {
            in_tx!(self, tx => ops::erase_participant(&tx, &id, participant, policy).await?)
        })
    }

    fn forget_participant_links(
        &self,
        conversation: &str,
        joined_before_ms: i64,
    ) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(async move {
            in_tx!(self, tx => ops::forget_participant_links(&tx, &id, joined_before_ms).await?)
        })
    }

    fn import(
        &self,
        request: ImportRequest,
        progress: ImportProgress,
    ) -> StoreFuture<'_, Conversation> {
        Box::pin(async move { in_tx!(self, tx => ops::import(&tx, request, progress).await?) })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
