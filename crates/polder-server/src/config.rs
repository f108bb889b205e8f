//! Server settings, layered: built-in defaults < config file < `POLDER_*`
//! environment < command-line flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Everything `polder serve` can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub bind: String,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest batch of votes in one request.
    pub max_batch_votes: usize,
    /// How long a recompute waits for more votes after the first new one.
    pub recompute_debounce_ms: u64,
    /// How often a conversation's votes are checked for writes from other
    /// server nodes sharing the database.
    pub poll_interval_ms: u64,
    /// Least time between two stored report snapshots of one conversation.
    pub snapshot_interval_ms: u64,
    /// Requests per minute one participant token may make.
    pub participant_rate_per_minute: u32,
    /// Requests per minute one client (by keyed address hash) may make.
    pub client_rate_per_minute: u32,
    /// Proof-of-work bits asked of an anonymous or invited join in calm
    /// times (0: no puzzle until a flood).
    pub join_pow_bits: u8,
    /// The most bits a join flood can raise the puzzle to (0 with
    /// `join_pow_bits` 0: never any puzzle).
    pub join_pow_max_bits: u8,
    /// Joins per minute to one conversation above which the puzzle gets
    /// one bit harder per doubling of the rate.
    pub join_flood_per_minute: u32,
    /// Origins every conversation accepts in addition to its own list.
    pub cors_origins: Vec<String>,
    /// Seed for the math, so that reports are reproducible.
    pub seed: u64,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// HTTP worker threads (default: number of cores).
    pub workers: Option<usize>,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://./polder.db".to_owned(),
            max_body_bytes: 256 * 1024,
            max_batch_votes: 1000,
            recompute_debounce_ms: 300,
            poll_interval_ms: 5_000,
            snapshot_interval_ms: 60_000,
            participant_rate_per_minute: 600,
            client_rate_per_minute: 12_000,
            join_pow_bits: 12,
            join_pow_max_bits: 20,
            join_flood_per_minute: 300,
            cors_origins: Vec::new(),
            seed: 0,
            log_format: LogFormat::Text,
            workers: None,
        }
    }
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl ServerConfig {
    /// Every setting's name (also its `POLDER_` environment variable).
    pub const KEYS: [&'static str; 16] = [
        "bind",
        "database_url",
        "max_body_bytes",
        "max_batch_votes",
        "recompute_debounce_ms",
        "poll_interval_ms",
        "snapshot_interval_ms",
        "participant_rate_per_minute",
        "client_rate_per_minute",
        "join_pow_bits",
        "join_pow_max_bits",
        "join_flood_per_minute",
        "cors_origins",
        "seed",
        "log_format",
        "workers",
    ];

    /// Reads the layers. `file` is read when given (an explicitly named file
    /// must exist) or else `polder.toml` when present; `overrides` holds the
    /// flags given on the command line, as a partial config.
    pub fn load(file: Option<&Path>, overrides: &serde_json::Value) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(ServerConfig::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError(Box::new(figment::Error::from(format!(
                        "config file {} does not exist",
                        path.display()
                    )))));
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None => figment = figment.merge(Toml::file("polder.toml")),
        }
        figment
            // Only the known keys: other POLDER_* variables belong to other
            // tools (tests, benches) and must not make the server refuse to start.
            .merge(Env::prefixed("POLDER_").only(&ServerConfig::KEYS))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError(Box::new(e)))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's own error type
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "polder.toml",
                "bind = \"0.0.0.0:9000\"\nseed = 3\nmax_body_bytes = 10",
            )?;
            jail.set_env("POLDER_SEED", "5");
            let overrides = serde_json::json!({ "max_body_bytes": 20 });
            let config = ServerConfig::load(None, &overrides).map_err(|e| e.to_string())?;
            assert_eq!(config.bind, "0.0.0.0:9000"); // file over default
            assert_eq!(config.seed, 5); // environment over file
            assert_eq!(config.max_body_bytes, 20); // flag over everything
            assert_eq!(config.poll_interval_ms, 5_000); // default
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "bnid = \"x\"")?;
            let bad = ServerConfig::load(Some(Path::new("bad.toml")), &serde_json::json!({}));
            assert!(bad.unwrap_err().to_string().contains("bnid"));
            let missing = ServerConfig::load(Some(Path::new("nope.toml")), &serde_json::json!({}));
            assert!(missing.unwrap_err().to_string().contains("nope.toml"));
            Ok(())
        });
    }
}
