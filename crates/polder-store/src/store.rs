//! The `Store` trait: everything polder keeps, behind one object-safe interface.

use crate::error::StoreError;
use crate::import::ImportRequest;
use crate::model::*;
use polder_core::{ParticipantId, StatementCatalog, StatementId, StatementInfo};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The future every store method returns: boxed so that the trait can be used
/// as `Arc<dyn Store>`, `Send` so that servers can hold it across awaits.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Called while an import runs with the number of votes written so far.
pub type ImportProgress = Arc<dyn Fn(u64) + Send + Sync>;

/// Receives streamed votes one at a time (e.g. an export writer).
pub type VoteSink = Box<dyn FnMut(VoteRecord) -> Result<(), StoreError> + Send>;

/// Makes the initial value of a secret.
pub type SecretMaker = Box<dyn FnOnce() -> Vec<u8> + Send>;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (a file or memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Conversations, statements, participants, votes, moderation, snapshots,
/// access keys and secrets.
///
/// Every method is a transaction on its own: it either happens completely or
/// not at all. Methods that write return only after the write is durable.
/// Methods taking a conversation id fail with
/// [`StoreError::ConversationNotFound`] when there is no such conversation,
/// except the `get_`/`find_` methods, which answer `None`.
pub trait Store: Send + Sync {
    /// The backend behind this store.
    fn backend(&self) -> Backend;

    /// Creates a conversation; the id is validated or generated.
    fn create_conversation(&self, new: NewConversation) -> StoreFuture<'_, Conversation>;
    /// The conversation, if it exists.
    fn get_conversation(&self, id: &str) -> StoreFuture<'_, Option<Conversation>>;
    /// Changes topic, description or settings.
    fn update_conversation(
        &self,
        id: &str,
        patch: ConversationPatch,
    ) -> StoreFuture<'_, Conversation>;
    /// Every conversation, by id.
    fn list_conversations(&self) -> StoreFuture<'_, Vec<Conversation>>;
    /// Closes (or reopens) a conversation to new votes and statements.
    fn set_closed(&self, id: &str, closed: bool) -> StoreFuture<'_, Conversation>;

    /// Adds a statement with the next dense id.
    fn add_statement(&self, conversation: &str, new: NewStatement) -> StoreFuture<'_, Statement>;
    /// Every statement, by id.
    fn list_statements(&self, conversation: &str) -> StoreFuture<'_, Vec<Statement>>;
    /// Sets a statement's moderation state (and meta flag) and logs who did it.
    fn moderate_statement(
        &self,
        conversation: &str,
        statement: StatementId,
        action: ModerationAction,
    ) -> StoreFuture<'_, Statement>;
    /// The moderation audit log, oldest first.
    fn moderation_log(&self, conversation: &str) -> StoreFuture<'_, Vec<ModerationLogEntry>>;

    /// Adds a participant with the next dense id; with an xid already known,
    /// returns that participant instead.
    fn add_participant(
        &self,
        conversation: &str,
        new: NewParticipant,
    ) -> StoreFuture<'_, Participant>;
    /// The participant, if they exist (erased participants under the Remove
    /// policy do not).
    fn get_participant(
        &self,
        conversation: &str,
        participant: ParticipantId,
    ) -> StoreFuture<'_, Option<Participant>>;
    /// The participant with this external id, if any.
    fn find_participant_by_xid(
        &self,
        conversation: &str,
        xid: &str,
    ) -> StoreFuture<'_, Option<Participant>>;
    /// Every participant, by id.
    fn list_participants(&self, conversation: &str) -> StoreFuture<'_, Vec<Participant>>;

    /// Casts votes: appends them to the history and makes each the current
    /// vote of its cell. Returns once they are durable. All or nothing: one
    /// bad vote (unknown participant or statement, moderated-out statement,
    /// erased participant, closed conversation) fails the whole call.
    fn cast_votes(
        &self,
        conversation: &str,
        votes: Vec<NewVote>,
    ) -> StoreFuture<'_, Vec<VoteReceipt>>;
    /// Votes cast in the conversation (history rows: a changed vote counts twice).
    fn vote_count(&self, conversation: &str) -> StoreFuture<'_, u64>;
    /// Sequence number of the latest vote (0 when none).
    fn last_seq(&self, conversation: &str) -> StoreFuture<'_, u64>;
    /// Streams the current votes into a [`polder_core::VoteMatrix`]. With
    /// `since_seq`, only cells whose current vote is newer than it, for
    /// `previous.merge(&loaded.matrix)`. Rows are never all in memory at once.
    fn load_matrix(
        &self,
        conversation: &str,
        since_seq: Option<u64>,
    ) -> StoreFuture<'_, LoadedMatrix>;
    /// Streams the whole vote history, in sequence order, into `sink`;
    /// returns the number of votes streamed.
    fn stream_history(&self, conversation: &str, sink: VoteSink) -> StoreFuture<'_, u64>;

    /// Keeps a computed report.
    fn save_snapshot(
        &self,
        conversation: &str,
        snapshot: NewSnapshot,
    ) -> StoreFuture<'_, SnapshotMeta>;
    /// Every snapshot (without reports), oldest first.
    fn list_snapshots(&self, conversation: &str) -> StoreFuture<'_, Vec<SnapshotMeta>>;
    /// The latest snapshot computed at or before `at_ms`, or the latest overall.
    fn snapshot_at(
        &self,
        conversation: &str,
        at_ms: Option<i64>,
    ) -> StoreFuture<'_, Option<Snapshot>>;

    /// Stores (or replaces) an access key by its hash.
    fn put_key(&self, key: KeyRecord) -> StoreFuture<'_, ()>;
    /// The key with this hash, unless unknown or revoked.
    fn find_key(&self, hash: &str) -> StoreFuture<'_, Option<KeyRecord>>;
    /// Revokes a key; true when there was one to revoke.
    fn revoke_key(&self, hash: &str) -> StoreFuture<'_, bool>;

    /// The secret called `name`, made with `make` and stored the first time it is asked for.
    fn get_or_create_secret(&self, name: &str, make: SecretMaker) -> StoreFuture<'_, Vec<u8>>;
    /// The secret called `name`, if it was made. Lets a caller do expensive
    /// work (e.g. generating an RSA key) outside the store before offering
    /// the result to [`Store::get_or_create_secret`].
    fn find_secret(&self, name: &str) -> StoreFuture<'_, Option<Vec<u8>>>;

    /// Stores invite codes of a conversation, unused, by their hashes
    /// (lowercase hex SHA-256; the codes themselves are never stored).
    /// Returns how many were new: a hash already known is left as it is.
    /// Nothing else is recorded — no time, no batch, no order.
    fn create_invites(&self, conversation: &str, hashes: Vec<String>) -> StoreFuture<'_, u64>;
    /// Redeems an invite code by its hash, atomically: of any number of
    /// concurrent calls with one hash, exactly one gets
    /// [`Redemption::Redeemed`]. Only the `used` flag changes; nothing
    /// records when, or for whom.
    fn redeem_invite(&self, conversation: &str, hash: &str) -> StoreFuture<'_, Redemption>;
    /// How many invite codes the conversation has and how many are used.
    fn invite_counts(&self, conversation: &str) -> StoreFuture<'_, InviteCounts>;
    /// Records that the eligibility token with this nullifier (lowercase hex
    /// SHA-256) was spent; true the first time, false ever after. Atomic like
    /// [`Store::redeem_invite`]; stores the nullifier and nothing else.
    fn spend_token(&self, conversation: &str, nullifier: &str) -> StoreFuture<'_, bool>;

    /// Everything stored about one participant.
    fn participant_data(
        &self,
        conversation: &str,
        participant: ParticipantId,
    ) -> StoreFuture<'_, ParticipantExport>;
    /// Erases a participant (one transaction): their statements keep their
    /// text but lose the author; then Remove deletes their votes and row,
    /// Anonymise drops the xid and marks them erased.
    fn erase_participant(
        &self,
        conversation: &str,
        participant: ParticipantId,
        policy: Erasure,
    ) -> StoreFuture<'_, ErasureReport>;

    /// Retention: forgets the external id (the link to the embedding site's
    /// user) of every participant of `conversation` who joined before
    /// `joined_before_ms`. Votes, statements and pids stay, so reports do not
    /// change; the same xid joining later becomes a new participant. Returns
    /// how many links were dropped.
    fn forget_participant_links(
        &self,
        conversation: &str,
        joined_before_ms: i64,
    ) -> StoreFuture<'_, u64>;

    /// Imports a whole conversation in one transaction (bulk path: `COPY` on
    /// PostgreSQL). On any error nothing is stored.
    fn import(
        &self,
        request: ImportRequest,
        progress: ImportProgress,
    ) -> StoreFuture<'_, Conversation>;
}

impl dyn Store {
    /// 32 random bytes stored under `name` the first time, the same bytes ever after.
    pub async fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        self.get_or_create_secret(name, Box::new(random_secret))
            .await
    }

    /// The moderation facts of every statement, for the engine.
    pub async fn statement_catalog(
        &self,
        conversation: &str,
    ) -> Result<StatementCatalog, StoreError> {
        Ok(catalog_of(&self.list_statements(conversation).await?))
    }
}

/// The engine's view of stored statements.
pub fn catalog_of(statements: &[Statement]) -> StatementCatalog {
    statements
        .iter()
        .map(|s| StatementInfo {
            id: s.id,
            moderation: s.moderation,
            is_meta: s.is_meta,
        })
        .collect()
}

fn random_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}
