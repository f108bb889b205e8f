//! Where the time of an incremental update goes on a synthetic conversation:
//! the scale bench's incremental run (the state after the first 99 % of the
//! votes, then the latest 1 % merged in and one warm update), with the merge
//! and the warm update repeated `ROUNDS` times in this process on the same
//! input, printing each round's time per stage and the fastest.
//!
//! Generating the conversation and its warm state takes far longer than one
//! update, so repeating the update in one process is how to compare two
//! builds' stage times on a noisy machine, and how to profile the update
//! (`perf record`) without the generator dominating the profile. Run with
//! `cargo run --release -p polder-benches --example incremental_stages -- 50m [ROUNDS]`
//! (sizes as in the scale bench: 1m, 10m, 50m). With `--kmeans RUNS` it
//! times only the base-cluster k-means of the warm update, `RUNS` times, so
//! that a profile of the process shows that stage alone.

use polder_benches::{incremental_input, timed_update};
use polder_core::{MathConfig, MathState, Stage, StatementCatalog};
use polder_synth::{Preset, Synth};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let preset = match args.first().map(String::as_str).unwrap_or("50m") {
        "1m" => Preset::Scale1m,
        "10m" => Preset::Scale10m,
        "50m" => Preset::Scale50m,
        other => return Err(format!("unknown size `{other}` (1m, 10m, 50m)").into()),
    };
    let rounds: usize = match args.get(1).filter(|a| !a.starts_with("--")) {
        Some(r) => r.parse()?,
        None => 5,
    };
    let synth = Synth::new(preset.config(), 1)?;
    let (earlier, latest) = incremental_input(&synth);
    let catalog = StatementCatalog::new();
    let config = MathConfig::default();
    let (warm, _) = timed_update(&MathState::default(), &earlier, &catalog, &config);
    eprintln!(
        "warm state from {} votes; {} new votes",
        earlier.n_votes(),
        latest.len()
    );

    if let Some(runs) = args.iter().position(|a| a == "--kmeans") {
        let runs: usize = args.get(runs + 1).map_or(Ok(10), |r| r.parse())?;
        base_clusters_only(&warm.state, &earlier.with_events(&latest)?, runs, &config);
        return Ok(());
    }
    let mut best: BTreeMap<&'static str, Duration> = BTreeMap::new();
    for round in 0..rounds {
        let started = Instant::now();
        let merged = earlier.with_events(&latest)?;
        let merge = started.elapsed();
        let (_, times) = timed_update(&warm.state, &merged, &catalog, &config);
        let math: Duration = times.values().sum();
        let mut line = format!(
            "round {round}: total {:.3} s = merge {:.3} + math {:.3} |",
            (merge + math).as_secs_f64(),
            merge.as_secs_f64(),
            math.as_secs_f64()
        );
        let mut keep = |name: &'static str, d: Duration| {
            let b = best.entry(name).or_insert(d);
            *b = (*b).min(d);
        };
        keep("merge", merge);
        keep("math", math);
        keep("total", merge + math);
        for (stage, d) in &times {
            if *stage != Stage::Done {
                line.push_str(&format!(" {} {:.3}", stage.name(), d.as_secs_f64()));
                keep(stage.name(), *d);
            }
        }
        println!("{line}");
    }
    let fastest: Vec<String> = best
        .iter()
        .map(|(name, d)| format!("{name} {:.3}", d.as_secs_f64()))
        .collect();
    println!(
        "fastest per stage over {rounds} rounds: {}",
        fastest.join(", ")
    );
    Ok(())
}

/// Runs the warm update once for its points, then only its base-cluster
/// k-means (clean start from the previous clusters, then Lloyd's steps)
/// `runs` times.
fn base_clusters_only(
    state: &MathState,
    matrix: &polder_core::VoteMatrix,
    runs: usize,
    config: &MathConfig,
) {
    use polder_core::kmeans::{self, Cluster};
    let (update, _) = timed_update(state, matrix, &StatementCatalog::new(), config);
    let a = &update.analysis;
    let rows: Vec<usize> = (0..a.participants.len())
        .filter(|&r| a.in_conv[r])
        .collect();
    let ids: Vec<_> = rows.iter().map(|&r| a.participants[r]).collect();
    let points: Vec<[f64; 2]> = rows.iter().map(|&r| a.projections[r]).collect();
    let previous: Vec<Cluster> = state
        .base_clusters
        .iter()
        .map(|c| Cluster {
            id: c.id,
            center: c.center,
            members: c
                .members
                .iter()
                .filter_map(|m| ids.binary_search(m).ok().map(|i| i as u32))
                .collect(),
        })
        .collect();
    for run in 0..runs {
        let started = Instant::now();
        let start = kmeans::clean_start(&points, None, previous.clone(), config.base_k);
        let clusters = kmeans::kmeans(&points, None, start, config.base_iters);
        println!(
            "k-means run {run}: {:.3} s, {} clusters over {} points",
            started.elapsed().as_secs_f64(),
            clusters.len(),
            points.len()
        );
    }
}
