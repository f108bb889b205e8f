//! Errors of the generator.

use std::path::PathBuf;

/// What can go wrong while generating or writing a synthetic conversation.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A configuration value outside its documented range.
    #[error("invalid synthetic configuration: {0}")]
    InvalidConfig(String),
    /// A preset name that does not exist.
    #[error("unknown preset `{0}` (known: small, scale_1m, scale_10m, scale_50m)")]
    UnknownPreset(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The engine refused the generated votes (cannot happen for valid configs).
    #[error(transparent)]
    Math(#[from] polder_core::MathError),
}

impl SynthError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SynthError::Io {
            path: path.into(),
            source,
        }
    }
}
