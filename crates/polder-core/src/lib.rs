//! polder-core: the math of polder.
//!
//! People vote agree, disagree or pass on short statements. From those votes
//! this crate computes, the way Pol.is does (see `docs/fidelity.md`):
//! a two-dimensional opinion map (PCA), opinion groups (k-means over base
//! clusters, k chosen by silhouette), what characterises each group
//! (representative statements), what everyone shares (consensus) and which
//! statement to show a participant next (priorities).
//!
//! The crate is pure: no IO, no clocks, no global state. Given the same votes,
//! statements, previous state and seed, [`update`] returns the same result
//! bit for bit, whatever the number of threads or the order of the input.
//!
//! ```
//! use polder_core::{MathConfig, MathState, StatementCatalog, VoteMatrix, update};
//! use polder_core::{ParticipantId, StatementId, Vote, VoteEvent};
//!
//! let events: Vec<VoteEvent> = (0..40u32)
//!     .flat_map(|p| (0..8u32).map(move |s| VoteEvent {
//!         participant: ParticipantId(p),
//!         statement: StatementId(s),
//!         vote: if (p % 2 == 0) == (s < 4) { Vote::Agree } else { Vote::Disagree },
//!         timestamp: 0,
//!     }))
//!     .collect();
//! let matrix = VoteMatrix::from_events(&events)?;
//! let result = update(&MathState::default(), &matrix, &StatementCatalog::new(), &MathConfig::default())?;
//! assert_eq!(result.analysis.groups.len(), 2);
//! # Ok::<(), polder_core::MathError>(())
//! ```

pub mod analysis;
pub mod clustering;
pub mod comparison;
pub mod config;
pub mod consensus;
pub mod engine;
pub mod error;
pub mod integrity;
pub mod kmeans;
mod lookup;
pub mod matrix;
mod parallel;
pub mod participation;
pub mod pca;
pub mod priority;
pub mod replay;
pub mod repness;
pub mod report;
pub mod state;
pub mod statement;
pub mod stats;
pub mod tally;
pub mod vote;

pub use analysis::Analysis;
pub use config::MathConfig;
pub use engine::{Stage, Update, update, update_observed};
pub use error::MathError;
pub use matrix::{VoteMatrix, VoteMatrixBuilder};
pub use report::pca2::Pca2;
pub use report::{Report, ReportContext};
pub use state::MathState;
pub use statement::{Moderation, StatementCatalog, StatementInfo};
pub use vote::{ParticipantId, StatementId, Vote, VoteEvent};
