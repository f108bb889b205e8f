//! The SQLite backend: the default, one file, no server.
//!
//! Writes go through one writer thread with group commit (`writer.rs`);
//! reads use a small pool of separate connections, which WAL mode lets run
//! alongside the writer without blocking it. An in-memory database has only
//! the writer's connection, so there reads go through the writer too.

mod ops;
mod writer;

use crate::error::StoreError;
use crate::import::ImportRequest;
use crate::migrate;
use crate::model::*;
use crate::store::{Backend, ImportProgress, SecretMaker, Store, StoreFuture, VoteSink};
use polder_core::{ParticipantId, StatementId};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use writer::Writer;

/// How long a connection waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 8;

/// A store in an SQLite database.
pub(crate) struct SqliteStore {
    writer: Writer,
    readers: Option<Arc<Readers>>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().map_err(|_| poisoned())?.pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
    }
}

fn poisoned() -> StoreError {
    StoreError::Internal("reader pool lock poisoned".into())
}

/// Settings every writer connection gets.
///
/// `journal_mode=WAL`: readers do not block the writer nor it them.
/// `synchronous=FULL`: in WAL mode every commit fsyncs the WAL before
/// returning, so a committed transaction survives a power cut. (`NORMAL`
/// would only fsync at checkpoints: fast, but the last commits could be lost.)
fn configure(conn: &Connection, memory: bool) -> Result<(), StoreError> {
    if !memory {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Internal(format!(
                "SQLite refused WAL mode (journal_mode is {mode})"
            )));
        }
    }
    // 64 MiB of page cache (default 2 MiB): bulk imports update several
    // indexes in an order unrelated to the table's, and thrash a small cache.
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;",
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(migrate::CREATE_BOOKKEEPING)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let applied: Vec<(i64, String)> = tx
        .prepare("SELECT version, checksum FROM schema_migrations")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for m in migrate::pending(migrate::SQLITE, &applied)? {
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_ms) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![i64::from(m.version), m.name, m.checksum(), crate::validate::now_ms()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

impl SqliteStore {
    /// Opens (or creates) the database file and migrates it.
    pub(crate) async fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        let readers_path = path.clone();
        let writer = tokio::task::spawn_blocking(move || {
            let mut conn = Connection::open(&path)?;
            configure(&conn, false)?;
            migrate(&mut conn)?;
            Writer::start(conn)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
        Ok(SqliteStore {
            writer,
            readers: Some(Arc::new(Readers {
                path: readers_path,
                idle: Mutex::new(Vec::new()),
            })),
        })
    }

    /// A private in-memory database (for tests).
    pub(crate) async fn open_memory() -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn, true)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            writer: Writer::start(conn)?,
            readers: None,
        })
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.run(f).await
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let Some(readers) = &self.readers else {
            return self.writer.run(f).await;
        };
        let readers = Arc::clone(readers);
        tokio::task::spawn_blocking(move || {
            let conn = readers.take()?;
            let result = f(&conn);
            readers.give_back(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn create_conversation(&self, new: NewConversation) -> StoreFuture<'_, Conversation> {
        Box::pin(self.write(move |c| ops::create_conversation(c, new)))
    }

    fn get_conversation(&self, id: &str) -> StoreFuture<'_, Option<Conversation>> {
        let id = id.to_owned();
        Box::pin(self.read(move |c| ops::get_conversation(c, &id)))
    }

    fn update_conversation(
        &self,
        id: &str,
        patch: ConversationPatch,
    ) -> StoreFuture<'_, Conversation> {
        let id = id.to_owned();
        Box::pin(self.write(move |c| ops::update_conversation(c, &id, patch)))
    }

    fn list_conversations(&self) -> StoreFuture<'_, Vec<Conversation>> {
        Box::pin(self.read(ops::list_conversations))
    }

    fn set_closed(&self, id: &str, closed: bool) -> StoreFuture<'_, Conversation> {
        let id = id.to_owned();
        Box::pin(self.write(move |c| ops::set_closed(c, &id, closed)))
    }

    fn add_statement(&self, conversation: &str, new: NewStatement) -> StoreFuture<'_, Statement> {
        let id = conversation.to_owned();
        Box::pin(self.write(move |c| ops::add_statement(c, &id, new)))
    }

    fn list_statements(&self, conversation: &str) -> StoreFuture<'_, Vec<Statement>> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::list_statements(c, &id)))
    }

    fn moderate_statement(
        &self,
        conversation: &str,
        statement: StatementId,
        action: ModerationAction,
    ) -> StoreFuture<'_, Statement> {
        let id = conversation.to_owned();
        Box::pin(self.write(move |c| ops::moderate_statement(c, &id, statement, action)))
    }

    fn moderation_log(&self, conversation: &str) -> StoreFuture<'_, Vec<ModerationLogEntry>> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::moderation_log(c, &id)))
    }

    fn add_participant(
        &self,
        conversation: &str,
        new: NewParticipant,
    ) -> StoreFuture<'_, Participant> {
        let id = conversation.to_owned();
        Box::pin(self.write(move |c| ops::add_participant(c, &id, new)))
    }

    fn get_participant(
        &self,
        conversation: &str,
        participant: ParticipantId,
    ) -> StoreFuture<'_, Option<Participant>> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::get_participant(c, &id, participant)))
    }

    fn find_participant_by_xid(
        &self,
        conversation: &str,
        xid: &str,
    ) -> StoreFuture<'_, Option<Participant>> {
        let id = conversation.to_owned();
        let xid = xid.to_owned();
        Box::pin(self.read(move |c| ops::find_participant_by_xid(c, &id, &xid)))
    }

    fn list_participants(&self, conversation: &str) -> StoreFuture<'_, Vec<Participant>> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::list_participants(c, &id)))
    }

    fn cast_votes(
        &self,
        conversation: &str,
        votes: Vec<NewVote>,
    ) -> StoreFuture<'_, Vec<VoteReceipt>> {
        let id = conversation.to_owned();
        Box::pin(self.write(move |c| ops::cast_votes(c, &id, &votes)))
    }

    fn vote_count(&self, conversation: &str) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::counters(c, &id).map(|(n, _)| n)))
    }

    fn last_seq(&self, conversation: &str) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::counters(c, &id).map(|(_, s)| s)))
    }

    fn load_matrix(
        &self,
        conversation: &str,
        since_seq: Option<u64>,
    ) -> StoreFuture<'_, LoadedMatrix> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::load_matrix(c, &id, since_seq)))
    }

    fn stream_history(&self, conversation: &str, sink: VoteSink) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::stream_history(c, &id, sink)))
    }

    fn save_snapshot(
        &self,
        conversation: &str,
        snapshot: NewSnapshot,
    ) -> StoreFuture<'_, SnapshotMeta> {
        let id = conversation.to_owned();
        Box::pin(self.write(move |c| ops::save_snapshot(c, &id, snapshot)))
    }

    fn list_snapshots(&self, conversation: &str) -> StoreFuture<'_, Vec<SnapshotMeta>> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::list_snapshots(c, &id)))
    }

    fn snapshot_at(
        &self,
        conversation: &str,
        at_ms: Option<i64>,
    ) -> StoreFuture<'_, Option<Snapshot>> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::snapshot_at(c, &id, at_ms)))
    }

    fn put_key(&self, key: KeyRecord) -> StoreFuture<'_, ()> {
        Box::pin(self.write(move |c| ops::put_key(c, key)))
    }

    fn find_key(&self, hash: &str) -> StoreFuture<'_, Option<KeyRecord>> {
        let hash = hash.to_owned();
        Box::pin(self.read(move |c| ops::find_key(c, &hash)))
    }

    fn revoke_key(&self, hash: &str) -> StoreFuture<'_, bool> {
        let hash = hash.to_owned();
        Box::pin(self.write(move |c| ops::revoke_key(c, &hash)))
    }

    fn get_or_create_secret(&self, name: &str, make: SecretMaker) -> StoreFuture<'_, Vec<u8>> {
        let name = name.to_owned();
        Box::pin(self.write(move |c| ops::get_or_create_secret(c, &name, make)))
    }

    fn find_secret(&self, name: &str) -> StoreFuture<'_, Option<Vec<u8>>> {
        let name = name.to_owned();
        Box::pin(self.read(move |c| ops::find_secret(c, &name)))
    }

    fn create_invites(&self, conversation: &str, hashes: Vec<String>) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(self.write(move |c| ops::create_invites(c, &id, &hashes)))
    }

    fn redeem_invite(&self, conversation: &str, hash: &str) -> StoreFuture<'_, Redemption> {
        let id = conversation.to_owned();
        let hash = hash.to_owned();
        Box::pin(self.write(move |c| ops::redeem_invite(c, &id, &hash)))
    }

    fn invite_counts(&self, conversation: &str) -> StoreFuture<'_, InviteCounts> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::invite_counts(c, &id)))
    }

    fn spend_token(&self, conversation: &str, nullifier: &str) -> StoreFuture<'_, bool> {
        let id = conversation.to_owned();
        let nullifier = nullifier.to_owned();
        Box::pin(self.write(move |c| ops::spend_token(c, &id, &nullifier)))
    }

    fn participant_data(
        &self,
        conversation: &str,
        participant: ParticipantId,
    ) -> StoreFuture<'_, ParticipantExport> {
        let id = conversation.to_owned();
        Box::pin(self.read(move |c| ops::participant_data(c, &id, participant)))
    }

    fn erase_participant(
        &self,
        conversation: &str,
        participant: ParticipantId,
        policy: Erasure,
    ) -> StoreFuture<'_, ErasureReport> {
        let id = conversation.to_owned();
        Box::pin(self.write(move |c| ops::erase_participant(c, &id, participant, policy)))
    }

    fn forget_participant_links(
        &self,
        conversation: &str,
        joined_before_ms: i64,
    ) -> StoreFuture<'_, u64> {
        let id = conversation.to_owned();
        Box::pin(self.write(move |c| ops::forget_participant_links(c, &id, joined_before_ms)))
    }

    fn import(
        &self,
        request: ImportRequest,
        progress: ImportProgress,
    ) -> StoreFuture<'_, Conversation> {
        Box::pin(self.write(move |c| ops::import(c, request, progress)))
    }
}
