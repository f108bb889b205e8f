//! Per-stage criterion benchmarks of the math pipeline.
//!
//! Every stage is timed inside the real pipeline (via the engine's stage
//! callbacks), for a full recompute (empty state) and for an incremental
//! update that adds the latest 1 % of the votes to a warm state.
//!
//! Inputs: `vtaiwan.uberx` from the shared fixtures (1,921 participants,
//! 197 statements, 49,443 current votes; data gathered using the Polis
//! software, CC BY 4.0, The Computational Democracy Project), and with
//! `POLDER_STAGES_SYNTHETIC=1` also the generated 100,000 × 2,000
//! conversation (`polder synth --preset scale_10m --seed 1`, ≈ 10 M votes;
//! about 6 s an update, so with criterion's minimum of ten samples per
//! stage that input takes about half an hour).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use polder_benches::{fixtures, split_latest, timed_update};
use polder_core::{MathConfig, MathState, Stage, StatementCatalog, VoteEvent, VoteMatrix};
use std::hint::black_box;
use std::time::Duration;

const STAGES: [Stage; 10] = [
    Stage::Counts,
    Stage::Participation,
    Stage::Pca,
    Stage::Projection,
    Stage::BaseClusters,
    Stage::Groups,
    Stage::Tally,
    Stage::Repness,
    Stage::Consensus,
    Stage::Priorities,
];

struct Input {
    name: &'static str,
    events: Vec<VoteEvent>,
    catalog: StatementCatalog,
}

fn inputs() -> Vec<Input> {
    let dir = fixtures().join("opendata/vtaiwan.uberx");
    let conversation = match polder_formats::read_conversation(&dir) {
        Ok(c) => c,
        Err(e) => panic!("the benchmark needs {}: {e}", dir.display()),
    };
    let mut inputs = vec![Input {
        name: "vtaiwan.uberx",
        catalog: conversation.catalog(),
        events: conversation.votes,
    }];
    if std::env::var_os("POLDER_STAGES_SYNTHETIC").is_some() {
        let synth = match polder_synth::Synth::new(polder_synth::Preset::Scale10m.config(), 1) {
            Ok(s) => s,
            Err(e) => panic!("the scale_10m preset is invalid: {e}"),
        };
        inputs.push(Input {
            name: "synthetic-100k-x-2k",
            catalog: StatementCatalog::new(),
            events: synth.votes(),
        });
    }
    inputs
}

fn bench_input(c: &mut Criterion, input: &Input) {
    let config = MathConfig::default();
    let matrix = VoteMatrix::from_events(&input.events).unwrap_or_default();
    let (before, latest) = split_latest(&input.events, 0.01);
    let earlier = VoteMatrix::from_events(&before).unwrap_or_default();
    let warm = timed_update(&MathState::default(), &earlier, &input.catalog, &config)
        .0
        .state;

    // Seconds an update on the large input: the fewest samples criterion allows.
    let samples = if input.events.len() > 1_000_000 {
        10
    } else {
        20
    };
    let mut group = c.benchmark_group(format!("{}/full", input.name));
    group.sample_size(samples);
    group.bench_function("matrix", |b| {
        b.iter(|| VoteMatrix::from_events(black_box(&input.events)))
    });
    for stage in STAGES {
        group.bench_function(BenchmarkId::from_parameter(stage.name()), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let (_, times) =
                            timed_update(&MathState::default(), &matrix, &input.catalog, &config);
                        times.get(&stage).copied().unwrap_or(Duration::ZERO)
                    })
                    .sum()
            })
        });
    }
    group.bench_function("total", |b| {
        b.iter(|| timed_update(&MathState::default(), &matrix, &input.catalog, &config))
    });
    group.finish();

    let mut group = c.benchmark_group(format!("{}/incremental", input.name));
    group.sample_size(samples);
    group.bench_function("matrix", |b| {
        b.iter(|| earlier.with_events(black_box(&latest)))
    });
    for stage in STAGES {
        group.bench_function(BenchmarkId::from_parameter(stage.name()), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let (_, times) = timed_update(&warm, &matrix, &input.catalog, &config);
                        times.get(&stage).copied().unwrap_or(Duration::ZERO)
                    })
                    .sum()
            })
        });
    }
    group.bench_function("total", |b| {
        b.iter(|| {
            let merged = earlier.with_events(&latest).unwrap_or_default();
            timed_update(&warm, &merged, &input.catalog, &config)
        })
    });
    group.finish();
}

fn stages(c: &mut Criterion) {
    for input in inputs() {
        bench_input(c, &input);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = stages
}
criterion_main!(benches);
