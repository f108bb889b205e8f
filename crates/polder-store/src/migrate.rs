//! Versioned schema migrations, one SQL file per version and backend.
//!
//! The files live in `migrations/sqlite/` and `migrations/postgres/` and are
//! compiled into the binary. Applied versions are recorded with a checksum
//! in `schema_migrations`; a database with a version this build does not know
//! is refused ([`StoreError::SchemaTooNew`]) and an applied migration whose
//! file has changed since is refused ([`StoreError::MigrationChanged`]).

use crate::error::StoreError;
use sha2::Digest;

/// One migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version, from 1, without gaps.
    pub version: u32,
    /// Short name.
    pub name: &'static str,
    /// The SQL, run as one batch inside the migration transaction.
    pub sql: &'static str,
}

/// The SQLite migrations.
pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "eligibility",
        sql: include_str!("../migrations/sqlite/0002_eligibility.sql"),
    },
];

/// The PostgreSQL migrations.
pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "eligibility",
        sql: include_str!("../migrations/postgres/0002_eligibility.sql"),
    },
];

/// The bookkeeping table (the same SQL on both backends).
pub(crate) const CREATE_BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_ms BIGINT NOT NULL
)";

impl Migration {
    /// SHA-256 of the SQL, hex.
    pub fn checksum(&self) -> String {
        crate::validate::hex(&sha2::Sha256::digest(self.sql.as_bytes()))
    }
}

/// The migrations still to apply, given those applied (version, checksum).
pub(crate) fn pending<'a>(
    known: &'a [Migration],
    applied: &[(i64, String)],
) -> Result<Vec<&'a Migration>, StoreError> {
    let supported = known.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(&(found, _)) = applied.iter().max_by_key(|(v, _)| *v)
        && found > i64::from(supported)
    {
        return Err(StoreError::SchemaTooNew {
            found: u32::try_from(found).unwrap_or(u32::MAX),
            supported,
        });
    }
    let mut todo = Vec::new();
    for m in known {
        match applied.iter().find(|(v, _)| *v == i64::from(m.version)) {
            Some((_, sum)) if *sum != m.checksum() => {
                return Err(StoreError::MigrationChanged {
                    version: m.version,
                    name: m.name.to_string(),
                });
            }
            Some(_) => {}
            None => todo.push(m),
        }
    }
    Ok(todo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_and_changed_schemas_are_refused() {
        assert_eq!(pending(SQLITE, &[]).unwrap().len(), SQLITE.len());
        let current: Vec<(i64, String)> = SQLITE
            .iter()
            .map(|m| (i64::from(m.version), m.checksum()))
            .collect();
        assert!(pending(SQLITE, &current).unwrap().is_empty());
        let mut newer = current.clone();
        newer.push((99, "x".into()));
        assert!(matches!(
            pending(SQLITE, &newer),
            Err(StoreError::SchemaTooNew { found: 99, .. })
        ));
        let changed = vec![(1, "not the checksum".to_string())];
        assert!(matches!(
            pending(SQLITE, &changed),
            Err(StoreError::MigrationChanged { version: 1, .. })
        ));
    }

    #[test]
    fn versions_are_dense_and_backends_agree() {
        for list in [SQLITE, POSTGRES] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version as usize, i + 1);
            }
        }
        assert_eq!(SQLITE.len(), POSTGRES.len());
    }
}
