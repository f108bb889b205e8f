//! Where the time goes on small conversations: the five `opendata` exports,
//! each analysed from scratch (vote matrix from the events, then one update)
//! `ROUNDS` times in this process, printing the fastest round's total and its
//! time per stage.
//!
//! The fastest of many rounds, unlike criterion's mean, shows the cost of
//! the work itself on a noisy machine; a first cold round is what
//! `polder analyze --timings` reports. Run with
//! `cargo run --release -p polder-benches --example opendata_stages`.
//!
//! Data: the Computational Democracy Project's open data, gathered using the
//! Polis software (compdemocracy.org/polis), CC BY 4.0.

use polder_benches::{fixtures, timed_update};
use polder_core::{MathConfig, MathState, VoteMatrix};
use std::time::{Duration, Instant};

/// Rounds per conversation.
const ROUNDS: usize = 30;

/// The conversations, in the order `benches/RESULTS.md` lists them.
const CONVERSATIONS: [&str; 5] = [
    "vtaiwan.uberx",
    "football-concussions",
    "canadian-electoral-reform",
    "15-per-hour-seattle",
    "brexit-consensus",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = MathConfig::default();
    for name in CONVERSATIONS {
        let dir = fixtures().join("opendata").join(name);
        let conversation = polder_formats::read_conversation(&dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let catalog = conversation.catalog();
        let mut best: Option<(Duration, Duration, Vec<_>)> = None;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let matrix = VoteMatrix::from_events(&conversation.votes)?;
            let matrix_time = started.elapsed();
            let (_, stages) = timed_update(&MathState::default(), &matrix, &catalog, &config);
            let total = started.elapsed();
            if best.as_ref().is_none_or(|(t, _, _)| total < *t) {
                best = Some((total, matrix_time, stages.into_iter().collect()));
            }
        }
        let Some((total, matrix_time, stages)) = best else {
            continue;
        };
        println!(
            "{name}: {} votes, best of {ROUNDS}: {:.2} ms (matrix {:.2} ms)",
            conversation.votes.len(),
            ms(total),
            ms(matrix_time)
        );
        for (stage, time) in stages {
            println!("    {:<14} {:.3} ms", stage.name(), ms(time));
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
