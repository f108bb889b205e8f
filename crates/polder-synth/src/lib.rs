//! polder-synth: synthetic conversations with a known answer.
//!
//! A conversation is drawn from a planted model: 2 to 6 opinion groups of
//! uneven size sit on a circle; every statement points somewhere on that
//! circle (or is a consensus statement every group agrees with), and a
//! participant agrees with a statement with a probability that grows with how
//! closely their position matches its direction. Passes, heavy-tailed
//! participation (most people vote on a few statements, a few on almost
//! all), statements that arrive over time (later ones collect fewer votes)
//! and timestamps make it look like a real Polis conversation.
//!
//! Everything is a function of the configuration and the seed: the same
//! pair gives the same votes, whatever the thread count. Votes are produced
//! as a stream ([`Synth::for_each_participant`]), straight into a
//! [`polder_core::VoteMatrix`], or as a Polis export on disk
//! ([`write_polis_export`]).
//!
//! ```
//! use polder_synth::{Preset, Synth};
//!
//! let synth = Synth::new(Preset::Small.config(), 1)?;
//! let matrix = synth.vote_matrix()?;
//! let planted = synth.planted_groups();
//! assert_eq!(planted.len(), matrix.n_participants());
//! # Ok::<(), polder_synth::SynthError>(())
//! ```

pub mod config;
pub mod error;
pub mod export;
mod generate;
mod model;
pub mod text;

pub use config::{Preset, SynthConfig};
pub use error::SynthError;
pub use export::{ExportOptions, ExportSummary, write_polis_export};
pub use generate::Synth;
