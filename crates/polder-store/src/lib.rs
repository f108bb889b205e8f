//! polder-store: where polder keeps conversations.
//!
//! One [`Store`] trait with two backends: SQLite (the default, `./polder.db`,
//! one writer thread with group commit) and PostgreSQL (a connection pool,
//! group commit for votes, `COPY` for imports). Both run the same versioned
//! migrations and obey the same contract (`tests/contract.rs`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), polder_store::StoreError> {
//! use polder_store::{NewConversation, NewParticipant, NewStatement, NewVote};
//! use polder_core::Vote;
//! let store = polder_store::open("sqlite::memory:").await?;
//! let c = store.create_conversation(NewConversation { topic: "Harbour".into(), ..Default::default() }).await?;
//! let s = store.add_statement(&c.id, NewStatement { text: "More ferries".into(), ..Default::default() }).await?;
//! let p = store.add_participant(&c.id, NewParticipant::default()).await?;
//! store.cast_votes(&c.id, vec![NewVote { participant: p.id, statement: s.id, vote: Vote::Agree, client_key: None }]).await?;
//! let loaded = store.load_matrix(&c.id, None).await?;
//! assert_eq!(loaded.n_votes, 1);
//! # Ok(()) }
//! ```
//!
//! See `docs/storage.md` for the schema, the durability argument and the
//! group-commit design.

pub mod error;
pub mod export;
pub mod import;
pub mod location;
pub mod migrate;
pub mod model;
mod names;
mod postgres;
mod sqlite;
pub mod store;
pub mod validate;
mod votes;

pub use error::StoreError;
pub use import::ImportRequest;
pub use location::{DEFAULT_URL, Location};
pub use model::*;
pub use store::{Backend, ImportProgress, SecretMaker, Store, StoreFuture, VoteSink, catalog_of};

use std::sync::Arc;

/// Opens (creating if needed) the database `url` names and brings its schema
/// up to date: `sqlite://PATH`, `sqlite::memory:` or `postgres://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    match Location::parse(url)? {
        Location::SqliteFile(path) => Ok(Arc::new(sqlite::SqliteStore::open_file(&path).await?)),
        Location::SqliteMemory => Ok(Arc::new(sqlite::SqliteStore::open_memory().await?)),
        Location::Postgres(url) => postgres::PgStore::connect(&url).await,
    }
}
