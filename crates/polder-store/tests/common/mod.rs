//! Test databases for both backends.
//!
//! SQLite: a fresh file in a temporary directory. PostgreSQL: a fresh schema
//! in the database `DATABASE_URL` names (run the tests under
//! `../shared/scripts/with-postgres`), selected through the connection's
//! `search_path`, so tests running in parallel never see each other's rows.
//! Without `DATABASE_URL` the PostgreSQL tests skip with a notice — except on
//! CI (`CI=true`), where they fail.

#![allow(dead_code, clippy::unwrap_used)]

use polder_store::Store;
use std::sync::Arc;

/// One test database, which can be opened (and reopened) as a store.
pub struct TestDb {
    /// The URL to open.
    pub url: String,
    /// Keeps the SQLite directory alive.
    _dir: Option<tempfile::TempDir>,
    /// Plain connection string for raw SQL on PostgreSQL.
    pg_raw: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        TestDb {
            url,
            _dir: Some(dir),
            pg_raw: None,
        }
    }

    /// `None` (after printing why) when no PostgreSQL is available outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let base = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!(
                        "DATABASE_URL is not set, but CI=true: PostgreSQL tests must run on CI \
                         (use ../shared/scripts/with-postgres cargo test)"
                    );
                }
                eprintln!(
                    "notice: DATABASE_URL is not set; skipping a PostgreSQL test \
                     (run under ../shared/scripts/with-postgres to include it)"
                );
                return None;
            }
        };
        let schema = format!("t_{}", polder_store::validate::generate_conversation_id());
        let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
        Some(TestDb {
            url,
            _dir: None,
            pg_raw: Some((base, schema)),
        })
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        polder_store::open(&self.url).await.unwrap()
    }

    pub async fn try_open(&self) -> Result<Arc<dyn Store>, polder_store::StoreError> {
        polder_store::open(&self.url).await
    }

    /// Runs raw SQL outside the store (to simulate what another program did).
    pub async fn exec(&self, sql: &str) {
        match &self.pg_raw {
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute_batch(sql).unwrap();
            }
            Some((base, schema)) => {
                let (client, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("SET search_path = {schema}; {sql}"))
                    .await
                    .unwrap();
            }
        }
    }
}

/// The opendata fixtures, relative to the crate (tests run in the crate directory).
pub fn opendata(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/opendata")
        .join(name)
}

/// All five opendata conversations.
pub const OPENDATA: [&str; 5] = [
    "15-per-hour-seattle",
    "brexit-consensus",
    "canadian-electoral-reform",
    "football-concussions",
    "vtaiwan.uberx",
];
