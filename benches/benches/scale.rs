//! The scale bench: the whole pipeline on synthetic conversations of 1 M,
//! 10 M and 50 M votes, a full recompute and an incremental update (+1 %
//! of the votes), with per-stage wall time, peak memory and how well the
//! planted groups are found.
//!
//! ```sh
//! cargo bench -p polder-benches --bench scale              # 1m, 10m, 50m; writes benches/RESULTS.md
//! cargo bench -p polder-benches --bench scale -- --smoke   # a few seconds, writes nothing (CI)
//! POLDER_SCALE=1m,10m cargo bench -p polder-benches --bench scale
//! ```
//!
//! Every size and run kind executes in a child process (this same binary
//! with `--child`), so that the peak resident memory (`VmHWM`) of one
//! measurement is not inflated by the one before.
//!
//! Inside a child, the matrix build (or merge) and the update are run
//! several times on the same input (see [`runs_for`]) and the table shows
//! each column's median: a 1 M-vote update lasts a few tens of
//! milliseconds, and one sample of that on a shared VM is mostly noise. The
//! first, cold run of the update is reported beside the median, and the peak
//! memory is read after that first run, before any repeat.

use polder_benches::{
    Machine, ari_against, incremental_input, peak_rss_bytes, timed_update, write_section,
};
use polder_core::{MathConfig, MathState, Stage, StatementCatalog};
use polder_synth::{Preset, Synth, SynthConfig};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 1;

/// Stages in pipeline order, as columns of the table.
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

fn config_of(size: &str) -> Option<SynthConfig> {
    Some(match size {
        // Small enough for CI, big enough to exercise every stage in parallel.
        "smoke" => SynthConfig {
            participants: 5_000,
            statements: 200,
            median_votes: 30.0,
            ..Preset::Scale1m.config()
        },
        "1m" => Preset::Scale1m.config(),
        "10m" => Preset::Scale10m.config(),
        "50m" => Preset::Scale50m.config(),
        _ => return None,
    })
}

fn label(size: &str) -> String {
    match config_of(size) {
        Some(c) => format!("{} × {}", c.participants, c.statements),
        None => size.to_string(),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

/// How many times a child runs a measurement whose first run took `first`:
/// enough for about two seconds in all, at least 3 and at most 11 (odd, so
/// the median is one of the samples).
fn runs_for(first: Duration) -> usize {
    let runs = (2.0 / first.as_secs_f64().max(1e-6)).ceil() as usize;
    runs.clamp(3, 11) | 1
}

/// The median of samples (the middle one of an odd count).
fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Runs `measure` until it has `runs_for(first)` samples, where `first` is
/// the sample taken before the call, and returns their median.
fn median_of_runs(first: Duration, mut measure: impl FnMut() -> Duration) -> (Duration, usize) {
    let mut samples = vec![first];
    while samples.len() < runs_for(first) {
        samples.push(measure());
    }
    let runs = samples.len();
    (median(&mut samples), runs)
}

/// Stage times of one update.
type StageTimes = BTreeMap<Stage, Duration>;

/// Runs an update `runs_for(first run)` times: the first run's result, every
/// run's stage times, and the peak RSS read after the first run — before any
/// repeat, which would hold a second analysis.
fn repeated(
    mut run: impl FnMut() -> (polder_core::Update, StageTimes),
) -> (polder_core::Update, Vec<StageTimes>, u64) {
    let (update, first) = run();
    let peak = peak_rss_bytes().unwrap_or(0);
    let first_total: Duration = first.values().sum();
    let mut runs = vec![first];
    while runs.len() < runs_for(first_total) {
        runs.push(run().1);
    }
    (update, runs, peak)
}

/// Result lines a child prints: `key value`.
type Measurements = BTreeMap<String, String>;

fn emit(out: &mut String, key: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{key} {value}");
}

fn emit_common(out: &mut String, synth: &Synth, update: &polder_core::Update, runs: &[StageTimes]) {
    let a = &update.analysis;
    for stage in STAGES {
        let mut samples: Vec<Duration> = runs
            .iter()
            .map(|times| times.get(&stage).copied().unwrap_or_default())
            .collect();
        emit(
            out,
            &format!("stage.{}", stage.name()),
            secs(median(&mut samples)),
        );
    }
    let mut totals: Vec<Duration> = runs.iter().map(|t| t.values().sum()).collect();
    emit(
        out,
        "math_first",
        secs(totals.first().copied().unwrap_or_default()),
    );
    emit(out, "math", secs(median(&mut totals)));
    emit(out, "runs", runs.len());
    emit(out, "groups", a.groups.len());
    emit(out, "planted", synth.n_groups());
    emit(
        out,
        "ari",
        format!("{:.4}", ari_against(a, &synth.planted_groups())),
    );
    emit(out, "clustered", a.n_in_conv());
    emit(out, "pca_iterations", a.pca_iterations.0);
    emit(out, "base_signature", format!("{:016x}", base_signature(a)));
}

/// A hash of the base clusters (ids, centre bits, members), to check that
/// a change to k-means leaves its result bit for bit as it was: compare the
/// line between two builds of the same toolchain.
fn base_signature(a: &polder_core::Analysis) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for c in &a.base_clusters {
        c.id.hash(&mut h);
        c.center[0].to_bits().hash(&mut h);
        c.center[1].to_bits().hash(&mut h);
        c.members.hash(&mut h);
    }
    h.finish()
}

/// A full recompute: generate, build the matrix, update from an empty state.
fn child_full(synth: &Synth) -> String {
    let mut out = String::new();
    // Generation is timed alone so that it can be taken out of the build,
    // which consumes the generator's stream.
    let time_generate = || {
        let started = Instant::now();
        let mut count = 0u64;
        synth.for_each_vote(|_| count += 1);
        (started.elapsed(), count)
    };
    let time_build = || {
        let started = Instant::now();
        let matrix = match synth.vote_matrix() {
            Ok(m) => m,
            Err(e) => panic!("the generator produced an invalid matrix: {e}"),
        };
        (started.elapsed(), matrix)
    };
    let (generate, count) = time_generate();
    eprintln!("  generated {count} votes in {generate:.2?}");
    let (build, matrix) = time_build();
    eprintln!("  generated and built the matrix in {build:.2?}");
    let catalog = StatementCatalog::new();
    let run = || {
        timed_update(
            &MathState::default(),
            &matrix,
            &catalog,
            &MathConfig::default(),
        )
    };
    let (update, runs, peak) = repeated(run);
    emit(&mut out, "votes", matrix.n_votes());
    emit(&mut out, "matrix_bytes", matrix.heap_bytes());
    emit_common(&mut out, synth, &update, &runs);
    drop((update, matrix));

    // The matrix build, repeated after the update's peak was read: each
    // repeat drops the previous matrix first.
    let mut generates = vec![generate];
    let mut builds = vec![build.saturating_sub(generate)];
    while builds.len() < runs_for(builds[0]) {
        let generate = time_generate().0;
        generates.push(generate);
        builds.push(time_build().0.saturating_sub(generate));
    }
    let build_runs = builds.len();
    emit(&mut out, "generate", secs(median(&mut generates)));
    emit(&mut out, "matrix", secs(median(&mut builds)));
    emit(&mut out, "matrix_runs", build_runs);
    emit(&mut out, "peak", peak);
    out
}

/// An incremental update: the state after the first 99 % of the votes (by
/// time), then the latest 1 % merged into the matrix and one warm update.
fn child_incremental(synth: &Synth) -> String {
    let mut out = String::new();
    let (earlier, latest) = incremental_input(synth);
    let catalog = StatementCatalog::new();
    let config_math = MathConfig::default();
    let started = Instant::now();
    let (warm, _) = timed_update(&MathState::default(), &earlier, &catalog, &config_math);
    eprintln!(
        "  warm state from {} votes in {:.2?}",
        earlier.n_votes(),
        started.elapsed()
    );

    let merge = || {
        let started = Instant::now();
        let merged = match earlier.with_events(&latest) {
            Ok(m) => m,
            Err(e) => panic!("merging generated votes failed: {e}"),
        };
        (started.elapsed(), merged)
    };
    // Repeats of the merge first, each dropped at once, so that the update
    // below runs with only the kept merge (and its shared rows) alive.
    let (first_merge, merged) = merge();
    drop(merged);
    let (merge_time, merge_runs) = median_of_runs(first_merge, || merge().0);
    let (_, merged) = merge();
    drop(earlier);
    let run = || timed_update(&warm.state, &merged, &catalog, &config_math);
    let (update, runs, peak) = repeated(run);
    emit(&mut out, "votes", merged.n_votes());
    emit(&mut out, "new_votes", latest.len());
    emit(&mut out, "matrix", secs(merge_time));
    emit(&mut out, "matrix_runs", merge_runs);
    emit(&mut out, "matrix_bytes", merged.heap_bytes());
    emit_common(&mut out, synth, &update, &runs);
    emit(&mut out, "peak", peak);
    out
}

fn run_child(kind: &str, size: &str) -> Option<Measurements> {
    let exe = std::env::current_exe().ok()?;
    let output = Command::new(exe)
        .args(["--child", kind, size])
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!("  {kind} {size}: child failed ({})", output.status);
        return None;
    }
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn get(m: &Measurements, key: &str) -> f64 {
    m.get(key).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

fn fmt_s(x: f64) -> String {
    if x < 0.01 {
        format!("{:.1} ms", x * 1e3)
    } else {
        format!("{x:.3} s")
    }
}

fn table(rows: &[(String, &'static str, Measurements)]) -> String {
    let mut t = String::new();
    let _ = write!(t, "| size | run | votes | generate | matrix |");
    for s in STAGES {
        let _ = write!(t, " {} |", s.name());
    }
    let _ = writeln!(
        t,
        " math total | first run | matrix + math | per M votes | runs | peak RSS | bytes/vote | groups (planted) | ARI | PCA iters |"
    );
    let _ = write!(t, "|---|---|--:|--:|--:|");
    for _ in STAGES {
        let _ = write!(t, "--:|");
    }
    let _ = writeln!(t, "--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (size, kind, m) in rows {
        let votes = get(m, "votes");
        let generate = m
            .get("generate")
            .map_or("–".to_string(), |_| fmt_s(get(m, "generate")));
        let _ = write!(
            t,
            "| {size} | {kind} | {:.2} M | {generate} | {} |",
            votes / 1e6,
            fmt_s(get(m, "matrix"))
        );
        for s in STAGES {
            let _ = write!(t, " {} |", fmt_s(get(m, &format!("stage.{}", s.name()))));
        }
        let peak = get(m, "peak");
        let total = get(m, "math") + get(m, "matrix");
        let _ = writeln!(
            t,
            " {} | {} | **{}** | {} | {} | {:.0} MB | {:.1} | {} ({}) | {:.3} | {} |",
            fmt_s(get(m, "math")),
            fmt_s(get(m, "math_first")),
            fmt_s(total),
            fmt_s(total / (votes / 1e6)),
            m.get("runs").map_or("?", String::as_str),
            peak / 1e6,
            peak / votes,
            m.get("groups").map_or("?", String::as_str),
            m.get("planted").map_or("?", String::as_str),
            get(m, "ari"),
            m.get("pca_iterations").map_or("?", String::as_str),
        );
    }
    t
}

/// How flat the time per million votes of the full runs is across sizes:
/// each size's figure and its distance from their mean, for matrix + math
/// and for the math alone. Empty with fewer than two full runs.
fn scaling(rows: &[(String, &'static str, Measurements)]) -> String {
    let full: Vec<_> = rows.iter().filter(|(_, kind, _)| *kind == "full").collect();
    if full.len() < 2 {
        return String::new();
    }
    let line = |what: &str, of: &dyn Fn(&Measurements) -> f64| {
        let per_m: Vec<f64> = full
            .iter()
            .map(|(_, _, m)| of(m) / (get(m, "votes") / 1e6))
            .collect();
        let mean = per_m.iter().sum::<f64>() / per_m.len() as f64;
        let parts: Vec<String> = full
            .iter()
            .zip(&per_m)
            .map(|((size, _, m), x)| {
                format!(
                    "{:.1} ms at {:.0} M votes ({size}, {:+.0} %)",
                    x * 1e3,
                    get(m, "votes") / 1e6,
                    (x / mean - 1.0) * 100.0
                )
            })
            .collect();
        let spread = per_m
            .iter()
            .fold(0.0f64, |w, x| w.max((x / mean - 1.0).abs()));
        format!(
            "- {what} per million votes: {} — at most {:.0} % from their mean.\n",
            parts.join(", "),
            spread * 100.0
        )
    };
    let mut out = String::from("Time per million votes of the full runs (medians):\n\n");
    out += &line("matrix + math", &|m| get(m, "math") + get(m, "matrix"));
    out += &line("math alone", &|m| get(m, "math"));
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let (kind, size) = (args.get(at + 1), args.get(at + 2));
        let Some(config) = size.and_then(|s| config_of(s)) else {
            panic!("--child needs a kind and a known size");
        };
        let synth = match Synth::new(config, SEED) {
            Ok(s) => s,
            Err(e) => panic!("bad preset: {e}"),
        };
        let out = match kind.map(String::as_str) {
            Some("full") => child_full(&synth),
            Some("incremental") => child_incremental(&synth),
            _ => panic!("unknown child kind"),
        };
        print!("{out}");
        return;
    }
    let smoke = args.iter().any(|a| a == "--smoke")
        || std::env::var("POLDER_SCALE").is_ok_and(|v| v == "smoke");
    let sizes: Vec<String> = if smoke {
        vec!["smoke".into()]
    } else {
        match std::env::var("POLDER_SCALE") {
            Ok(v) if v != "all" => v.split(',').map(|s| s.trim().to_string()).collect(),
            _ => vec!["1m".into(), "10m".into(), "50m".into()],
        }
    };
    if let Some(bad) = sizes.iter().find(|s| config_of(s).is_none()) {
        eprintln!("unknown size `{bad}` (smoke, 1m, 10m, 50m)");
        std::process::exit(2);
    }
    let machine = Machine::detect();
    eprintln!("scale bench on {}", machine.markdown());
    let mut rows = Vec::new();
    for size in &sizes {
        for kind in ["full", "incremental"] {
            eprintln!("{kind} {} ({size})", label(size));
            let started = Instant::now();
            match run_child(kind, size) {
                Some(m) => {
                    eprintln!("  done in {:.2?}", started.elapsed());
                    rows.push((label(size), kind, m));
                }
                None => eprintln!("  no result"),
            }
        }
    }
    let table = table(&rows);
    let scaling = scaling(&rows);
    println!("{table}\n{scaling}");
    if smoke {
        if rows.len() != 2 {
            std::process::exit(1);
        }
        return;
    }
    let body = format!(
        "## Scale bench\n\n`cargo bench -p polder-benches --bench scale` (sizes: {}; seed {SEED}).\n\nMachine: {}.\n\n\
         Wall times; the machine was shared with other builds, so absolute times are noisy. \
         *matrix* is building the vote matrix from the generator's stream (generation time subtracted) for a full run, \
         and merging the latest 1 % of the votes into the previous matrix for an incremental one. \
         *math total* is `engine::update` (all stages). Each child runs the matrix build (or merge) and the update \
         several times on the same input (*runs*: enough for about 2 s, 3 to 11) and every time column is the median of its runs; \
         *first run* is the first, cold update alone. *per M votes* is *matrix + math* per million votes. \
         *peak RSS* is the child process's VmHWM after the first update (generator and warm-up included, repeats not). \
         ARI compares the groups found with the planted ones over the clustered participants.\n\n{table}\n{scaling}",
        sizes.join(", "),
        machine.markdown()
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md");
    match write_section(&path, "scale", &body) {
        Ok(()) => eprintln!("wrote {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}
