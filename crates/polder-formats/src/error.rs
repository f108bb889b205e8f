//! Errors that say which file, line and field is wrong.

use std::path::PathBuf;

/// A problem with an input or output file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The directory holds neither known layout.
    #[error(
        "{dir}: not a conversation directory: expected votes.csv + comments.csv (Polis export) or votes.json + comments.json (Polis API)"
    )]
    UnknownLayout {
        /// The directory.
        dir: PathBuf,
    },
    /// A file the layout requires is missing.
    #[error("{path}: file is missing ({why})")]
    MissingFile {
        /// The file that should exist.
        path: PathBuf,
        /// Why it is needed.
        why: &'static str,
    },
    /// The file has no content at all (not even a header).
    #[error("{path}: file is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A required column is missing from the header.
    #[error("{path}: line 1: missing column `{column}`")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
    },
    /// A column name appears twice in the header.
    #[error("{path}: line 1: column `{column}` appears more than once")]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
    },
    /// One value is wrong.
    #[error("{path}: line {line}: field `{field}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Column or key name.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The file is not well-formed (bad CSV or JSON syntax, not UTF-8, a
    /// record cut short).
    #[error("{path}: line {line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

impl FormatError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FormatError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(
        path: impl Into<PathBuf>,
        line: u64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FormatError::Invalid {
            path: path.into(),
            line,
            field: field.into(),
            message: message.into(),
        }
    }
}
