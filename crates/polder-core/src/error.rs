//! Errors of the math engine.

use crate::vote::StatementId;

/// What can go wrong in the engine. The math itself is total; errors come
/// only from input that breaks a documented limit.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MathError {
    /// Statement ids are packed into 24 bits while the matrix is built.
    #[error(
        "statement id {0} is too large: polder accepts statement ids up to {max}",
        max = StatementId::MAX
    )]
    StatementIdTooLarge(StatementId),
    /// A configuration value outside its documented range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}
