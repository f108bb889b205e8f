//! Which database a URL names.

use crate::error::StoreError;
use std::path::PathBuf;

/// The default database: `polder.db` in the working directory.
pub const DEFAULT_URL: &str = "sqlite://polder.db";

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (tests).
    SqliteMemory,
    /// A PostgreSQL connection string (`postgres://…`).
    Postgres(String),
}

impl Location {
    /// Parses `sqlite://PATH` (`sqlite:///abs/path` for an absolute path),
    /// `sqlite:PATH`, `sqlite::memory:`, `postgres://…`, `postgresql://…`, or a
    /// bare file path (SQLite).
    pub fn parse(url: &str) -> Result<Location, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(Location::SqliteMemory);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_string()));
        }
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if url.contains("://") {
            return Err(invalid(
                "unknown scheme: use sqlite://PATH, sqlite::memory: or postgres://…",
            ));
        } else {
            url
        };
        if path.is_empty() {
            return Err(invalid("no file path given"));
        }
        Ok(Location::SqliteFile(PathBuf::from(path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(
            Location::parse("sqlite://polder.db").unwrap(),
            Location::SqliteFile("polder.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///tmp/x.db").unwrap(),
            Location::SqliteFile("/tmp/x.db".into())
        );
        assert_eq!(
            Location::parse("data/x.db").unwrap(),
            Location::SqliteFile("data/x.db".into())
        );
        assert_eq!(
            Location::parse("sqlite::memory:").unwrap(),
            Location::SqliteMemory
        );
        assert!(matches!(
            Location::parse("postgres://u@h/db").unwrap(),
            Location::Postgres(_)
        ));
        assert!(matches!(
            Location::parse("mysql://h/db"),
            Err(StoreError::InvalidUrl { .. })
        ));
        assert!(matches!(
            Location::parse("sqlite://"),
            Err(StoreError::InvalidUrl { .. })
        ));
    }
}
