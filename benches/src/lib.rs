//! Shared helpers of polder's benchmarks.

use polder_core::{
    MathConfig, MathState, Stage, StatementCatalog, VoteEvent, VoteMatrix, update_observed,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The shared fixtures directory (`../shared/fixtures` beside the checkout).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures")
}

/// Runs one update and returns the time spent in each stage.
pub fn timed_update(
    state: &MathState,
    matrix: &VoteMatrix,
    catalog: &StatementCatalog,
    config: &MathConfig,
) -> (polder_core::Update, BTreeMap<Stage, Duration>) {
    let mut times = BTreeMap::new();
    let mut current = None;
    let mut started = Instant::now();
    let result = update_observed(state, matrix, catalog, config, &mut |stage| {
        let now = Instant::now();
        if let Some(previous) = current {
            *times.entry(previous).or_insert(Duration::ZERO) += now - started;
        }
        current = Some(stage);
        started = now;
    });
    match result {
        Ok(update) => (update, times),
        // Benchmarks run on known-good inputs; a failure is a bug worth a loud stop.
        Err(e) => panic!("update failed: {e}"),
    }
}

/// Splits events (sorted by time) into the first `1 - fraction` and the rest.
pub fn split_latest(events: &[VoteEvent], fraction: f64) -> (Vec<VoteEvent>, Vec<VoteEvent>) {
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| (e.timestamp, e.participant, e.statement));
    let at = ((sorted.len() as f64) * (1.0 - fraction)).round() as usize;
    let rest = sorted.split_off(at);
    (sorted, rest)
}
