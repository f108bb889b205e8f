//! The `polder` command-line tool, as a library so that its pieces can be
//! tested and benchmarked.

pub mod analyze;
pub mod cli;
pub mod duration;
pub mod fidelity;
pub mod invites;
pub mod progress;
pub mod serve;
pub mod storage;
pub mod synth;
pub mod text;
