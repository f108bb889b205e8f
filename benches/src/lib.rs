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

/// The input of an incremental update: the matrix of the votes cast before
/// the time that leaves the latest 1 % out, and those latest votes as
/// events (in the generator's participant order; a merge orders them by
/// time).
pub fn incremental_input(synth: &polder_synth::Synth) -> (VoteMatrix, Vec<VoteEvent>) {
    // Minute buckets over the conversation locate the 99 % time cut
    // without holding the timestamps.
    let config = synth.config();
    let first = config.start_ms - 3_600_000;
    let mut minutes = vec![0u64; ((config.duration_ms * 2 + 7_200_000) / 60_000) as usize + 1];
    synth.for_each_vote(|v| {
        let m = (((v.timestamp - first) / 60_000).max(0) as usize).min(minutes.len() - 1);
        minutes[m] += 1;
    });
    let total: u64 = minutes.iter().sum();
    let keep = (total as f64 * 0.99) as u64;
    let mut acc = 0;
    let mut cut_minute = minutes.len();
    for (m, &n) in minutes.iter().enumerate() {
        if acc + n > keep {
            cut_minute = m;
            break;
        }
        acc += n;
    }
    let cut = first + cut_minute as i64 * 60_000;

    let mut builder = polder_core::VoteMatrixBuilder::with_capacity(acc as usize);
    let mut latest = Vec::with_capacity((total - acc) as usize);
    let mut failed = None;
    synth.for_each_vote(|v| {
        if v.timestamp < cut {
            if let Err(e) = builder.push(v.participant, v.statement, v.vote) {
                failed = Some(e);
            }
        } else {
            latest.push(*v);
        }
    });
    if let Some(e) = failed {
        // Benchmarks run on generated, known-good input.
        panic!("the generator produced an invalid vote: {e}");
    }
    (builder.finish(), latest)
}

/// Splits events (sorted by time) into the first `1 - fraction` and the rest.
pub fn split_latest(events: &[VoteEvent], fraction: f64) -> (Vec<VoteEvent>, Vec<VoteEvent>) {
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| (e.timestamp, e.participant, e.statement));
    let at = ((sorted.len() as f64) * (1.0 - fraction)).round() as usize;
    let rest = sorted.split_off(at);
    (sorted, rest)
}

/// Peak resident memory of this process so far (`VmHWM`), in bytes; `None`
/// where `/proc` is not available.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_kb("VmHWM:").map(|kb| kb * 1024)
}

/// Current resident memory of this process (`VmRSS`), in bytes.
pub fn rss_bytes() -> Option<u64> {
    proc_status_kb("VmRSS:").map(|kb| kb * 1024)
}

fn proc_status_kb(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// What the benchmark ran on, for the results file.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// Cores the process may use.
    pub cores: usize,
    /// Installed memory, bytes.
    pub memory: u64,
    /// `rustc --version`.
    pub rustc: String,
    /// UTC date of the run.
    pub date: String,
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Machine {
    /// Describes the machine this process runs on.
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|m| m.trim().to_string())
            .unwrap_or_else(|| "unknown CPU".to_string());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory,
            rustc: command_output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into()),
            date: command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
                .unwrap_or_else(|| "unknown".into()),
        }
    }

    /// One Markdown line.
    pub fn markdown(&self) -> String {
        format!(
            "{} — {} cores available, {:.1} GiB RAM, {}, {}",
            self.cpu,
            self.cores,
            self.memory as f64 / (1u64 << 30) as f64,
            self.rustc,
            self.date
        )
    }
}

/// Replaces the text between `<!-- {name}:begin -->` and `<!-- {name}:end -->`
/// in `path` (creating the file or appending the section when missing).
pub fn write_section(path: &std::path::Path, name: &str, body: &str) -> std::io::Result<()> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let current = std::fs::read_to_string(path).unwrap_or_else(|_| {
        "# Benchmark results\n\nWritten by the benchmarks; see benches/README.md for how to reproduce them.\n".to_string()
    });
    let section = format!("{begin}\n{body}{end}");
    let updated = match (current.find(&begin), current.find(&end)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{}{}", &current[..b], section, &current[e + end.len()..])
        }
        _ => format!("{}\n{}\n", current.trim_end(), section),
    };
    std::fs::write(path, updated)
}

/// Adjusted Rand index of the groups an update found against planted
/// groups, over the participants it clustered.
pub fn ari_against(analysis: &polder_core::Analysis, planted: &[u32]) -> f64 {
    let (found, truth): (Vec<u32>, Vec<u32>) = analysis
        .group_of
        .iter()
        .zip(&analysis.participants)
        .filter_map(|(g, p)| g.map(|g| (g, planted[p.0 as usize])))
        .unzip();
    polder_core::stats::adjusted_rand_index(&found, &truth)
}
