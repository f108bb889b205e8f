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

/// Result lines a child prints: `key value`.
type Measurements = BTreeMap<String, String>;

fn emit(out: &mut String, key: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{key} {value}");
}

fn emit_common(
    out: &mut String,
    synth: &Synth,
    update: &polder_core::Update,
    times: &BTreeMap<Stage, Duration>,
) {
    let a = &update.analysis;
    for stage in STAGES {
        emit(
            out,
            &format!("stage.{}", stage.name()),
            secs(times.get(&stage).copied().unwrap_or_default()),
        );
    }
    emit(out, "math", secs(times.values().sum()));
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
    let started = Instant::now();
    let mut count = 0u64;
    synth.for_each_vote(|_| count += 1);
    let generate = started.elapsed();
    eprintln!("  generated {count} votes in {generate:.2?}");

    let started = Instant::now();
    let matrix = match synth.vote_matrix() {
        Ok(m) => m,
        Err(e) => panic!("the generator produced an invalid matrix: {e}"),
    };
    let build = started.elapsed();
    eprintln!("  generated and built the matrix in {build:.2?}");
    let catalog = StatementCatalog::new();
    let (update, times) = timed_update(
        &MathState::default(),
        &matrix,
        &catalog,
        &MathConfig::default(),
    );
    emit(&mut out, "votes", matrix.n_votes());
    emit(&mut out, "generate", secs(generate));
    emit(&mut out, "matrix", secs(build.saturating_sub(generate)));
    emit(&mut out, "matrix_bytes", matrix.heap_bytes());
    emit_common(&mut out, synth, &update, &times);
    emit(&mut out, "peak", peak_rss_bytes().unwrap_or(0));
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

    let started = Instant::now();
    let merged = match earlier.with_events(&latest) {
        Ok(m) => m,
        Err(e) => panic!("merging generated votes failed: {e}"),
    };
    let merge = started.elapsed();
    drop(earlier);
    let (update, times) = timed_update(&warm.state, &merged, &catalog, &config_math);
    emit(&mut out, "votes", merged.n_votes());
    emit(&mut out, "new_votes", latest.len());
    emit(&mut out, "matrix", secs(merge));
    emit(&mut out, "matrix_bytes", merged.heap_bytes());
    emit_common(&mut out, synth, &update, &times);
    emit(&mut out, "peak", peak_rss_bytes().unwrap_or(0));
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
        format!("{x:.2} s")
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
        " math total | matrix + math | peak RSS | bytes/vote | groups (planted) | ARI | PCA iters |"
    );
    let _ = write!(t, "|---|---|--:|--:|--:|");
    for _ in STAGES {
        let _ = write!(t, "--:|");
    }
    let _ = writeln!(t, "--:|--:|--:|--:|--:|--:|--:|");
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
        let _ = writeln!(
            t,
            " {} | **{}** | {:.0} MB | {:.1} | {} ({}) | {:.3} | {} |",
            fmt_s(get(m, "math")),
            fmt_s(get(m, "math") + get(m, "matrix")),
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
    println!("{table}");
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
         *math total* is `engine::update` (all stages); *peak RSS* is the child process's VmHWM, \
         generator and warm-up included. ARI compares the groups found with the planted ones over the clustered participants.\n\n{table}\n",
        sizes.join(", "),
        machine.markdown()
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md");
    match write_section(&path, "scale", &body) {
        Ok(()) => eprintln!("wrote {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}
