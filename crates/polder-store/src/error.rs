//! What can go wrong in the store, named precisely enough to act on.

use polder_core::{ParticipantId, StatementId};

/// An error from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one polder understands.
    #[error("database URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database was written by a newer polder; running older code
    /// against it could corrupt it, so the store refuses to open it.
    #[error(
        "the database has schema version {found}, but this polder supports at most {supported}: upgrade polder"
    )]
    SchemaTooNew {
        /// The newest migration applied to the database.
        found: u32,
        /// The newest migration this build knows.
        supported: u32,
    },
    /// An applied migration differs from the one in this build.
    #[error(
        "migration {version} ({name}) applied to the database differs from the one in this build (checksum mismatch)"
    )]
    MigrationChanged {
        /// Migration version.
        version: u32,
        /// Migration name.
        name: String,
    },
    /// No conversation with this id.
    #[error("conversation `{0}` does not exist")]
    ConversationNotFound(String),
    /// The id is taken.
    #[error("conversation `{0}` already exists")]
    ConversationExists(String),
    /// The id is not a valid slug.
    #[error("conversation id `{id}` is invalid: {reason}")]
    InvalidConversationId {
        /// The id as given.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The conversation is closed to new votes and statements.
    #[error("conversation `{0}` is closed")]
    ConversationClosed(String),
    /// No statement with this id in the conversation.
    #[error("conversation `{conversation}`: statement {statement} does not exist")]
    StatementNotFound {
        /// Conversation id.
        conversation: String,
        /// Statement id.
        statement: StatementId,
    },
    /// Votes on moderated-out statements are refused.
    #[error("conversation `{conversation}`: statement {statement} is moderated out")]
    StatementModeratedOut {
        /// Conversation id.
        conversation: String,
        /// Statement id.
        statement: StatementId,
    },
    /// The statement text or another field of a statement is not acceptable.
    #[error("conversation `{conversation}`: statement{}: {reason}", statement.map(|s| format!(" {s}")).unwrap_or_default())]
    InvalidStatement {
        /// Conversation id.
        conversation: String,
        /// The statement, when it already has an id (e.g. on import).
        statement: Option<StatementId>,
        /// What is wrong.
        reason: String,
    },
    /// No participant with this id in the conversation.
    #[error("conversation `{conversation}`: participant {participant} does not exist")]
    ParticipantNotFound {
        /// Conversation id.
        conversation: String,
        /// Participant id.
        participant: ParticipantId,
    },
    /// The participant was erased and can no longer vote.
    #[error("conversation `{conversation}`: participant {participant} has been erased")]
    ParticipantErased {
        /// Conversation id.
        conversation: String,
        /// Participant id.
        participant: ParticipantId,
    },
    /// A value (external id, client key, …) is out of bounds.
    #[error("conversation `{conversation}`: {reason}")]
    InvalidValue {
        /// Conversation id.
        conversation: String,
        /// What is wrong.
        reason: String,
    },
    /// The same files were imported before.
    #[error("these files were already imported as conversation `{existing}`")]
    DuplicateImport {
        /// The conversation they became.
        existing: String,
    },
    /// An access-key hash is not 64 hexadecimal digits.
    #[error("access key hash `{0}` is not 64 hexadecimal digits (SHA-256)")]
    InvalidKeyHash(String),
    /// A stored value is out of range: the database was changed behind polder's back.
    #[error("corrupt database: {0}")]
    Corrupt(String),
    /// A Polis file could not be read.
    #[error(transparent)]
    Format(#[from] polder_formats::FormatError),
    /// The math engine refused the votes (e.g. a statement id beyond its limit).
    #[error(transparent)]
    Math(#[from] polder_core::MathError),
    /// A consumer of streamed rows (e.g. an export writer) failed.
    #[error("{0}")]
    Sink(String),
    /// SQLite reported an error.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    /// The commit of a group of writes failed; none of them was stored.
    #[error("commit failed, nothing was stored: {0}")]
    CommitFailed(String),
    /// The background writer has stopped (the store is shutting down or a
    /// previous fatal error stopped it).
    #[error("the store's writer has stopped")]
    WriterGone,
    /// A background task failed unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
    /// Settings or a stored JSON value could not be (de)serialised.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Pool(e.to_string())
    }
}
