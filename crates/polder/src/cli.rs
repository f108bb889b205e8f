//! Command-line interface.

use crate::analyze::{self, Mode, OutputFormat};
use crate::fidelity;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use polder_core::MathConfig;
use polder_core::replay::Batching;
use std::path::PathBuf;

/// polder: find the opinion groups in a conversation, what each group stands
/// for and what all groups share.
#[derive(Debug, Parser)]
#[command(name = "polder", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a conversation from files and print the report.
    Analyze(AnalyzeArgs),
    /// Compare polder with the real Polis results in the fixtures and write the fidelity table.
    Fidelity(FidelityArgs),
    /// Write a synthetic conversation with planted opinion groups as a Polis export.
    Synth(SynthArgs),
}

/// Arguments of `polder synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Size and shape: small (the bundled harbour example), scale_1m,
    /// scale_10m or scale_50m.
    #[arg(long, default_value = "small")]
    pub preset: polder_synth::Preset,
    /// Seed; the same preset and seed always give the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Overwrite files in a directory that is not empty.
    #[arg(long)]
    pub force: bool,
    /// Directory to write votes.csv, comments.csv, summary.csv and
    /// (when not too large) participants-votes.csv into.
    pub dir: PathBuf,
}

/// Arguments of `polder analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A Polis export directory (votes.csv, comments.csv) or a directory with
    /// votes.json and comments.json in the shape the Polis API returns.
    pub path: PathBuf,
    /// `json`: the native polder report; `pca2`: the Polis math-pca2 view;
    /// `text`: a readable summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
    /// Write the report here instead of to standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Seed of the PCA start vector (only a fresh start uses it).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How to feed the votes to the engine. `history` (default) replays the
    /// timestamped votes in time windows, carrying the state from update to
    /// update as Polis's math worker does; `once` analyses the final votes in
    /// one from-scratch update.
    #[arg(long, value_enum, default_value_t = ModeArg::History)]
    pub mode: ModeArg,
    /// Window of one update in `history` mode (e.g. 10s, 10m, 1h).
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse_millis)]
    pub window: i64,
    /// In `history` mode, re-initialise the groups after a pause in voting
    /// longer than this, as Polis's math worker does when it reloads a quiet
    /// conversation (`never` to keep every update's state).
    #[arg(long, default_value = "1d", value_parser = parse_gap)]
    pub restart_after: Gap,
    /// Print to standard error how long the math took in this process
    /// (vote matrix and updates, not reading files or writing the report),
    /// for comparisons with other implementations.
    #[arg(long)]
    pub timings: bool,
}

/// A pause in voting after which the math worker restarts, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap(pub Option<i64>);

fn parse_gap(text: &str) -> Result<Gap, String> {
    if text == "never" {
        Ok(Gap(None))
    } else {
        crate::duration::parse_millis(text).map(|ms| Gap(Some(ms)))
    }
}

/// How `analyze` feeds votes to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Replay the vote history in time windows.
    History,
    /// One update over the final votes.
    Once,
}

/// Arguments of `polder fidelity`.
#[derive(Debug, Args)]
pub struct FidelityArgs {
    /// The fixtures directory (holding `polis-math/` and `opendata/`).
    #[arg(long, default_value = "../shared/fixtures")]
    pub fixtures: PathBuf,
    /// Write the Markdown table into this file between the fidelity markers.
    #[arg(long)]
    pub write: Option<PathBuf>,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Analyze(args) => {
            let config = MathConfig {
                seed: args.seed,
                ..MathConfig::default()
            };
            let mode = match args.mode {
                ModeArg::History => Mode::History(
                    Batching::Window {
                        millis: args.window,
                    },
                    polder_core::replay::Restarts {
                        before_last: false,
                        after_gap_ms: args.restart_after.0,
                    },
                ),
                ModeArg::Once => Mode::Once,
            };
            let conversation = polder_formats::read_conversation(&args.path)?;
            let started = std::time::Instant::now();
            let result = analyze::analyze(&conversation, &config, mode, !args.timings)?;
            if args.timings {
                let math = started.elapsed();
                eprintln!(
                    "timings: math_ms={:.3} updates={} votes={} peak_rss_kb={}",
                    math.as_secs_f64() * 1e3,
                    result.updates,
                    conversation.votes.len(),
                    peak_rss_kb().unwrap_or(0)
                );
            }
            let rendered = analyze::render(&conversation, &result, args.format)?;
            match &args.output {
                Some(path) => std::fs::write(path, rendered)
                    .with_context(|| format!("{}: cannot write the report", path.display()))?,
                None => {
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    out.write_all(rendered.as_bytes())
                        .and_then(|_| out.flush())
                        .context("cannot write the report to standard output")?;
                }
            }
            Ok(())
        }
        Command::Synth(args) => {
            let message = crate::synth::run(args.preset, args.seed, &args.dir, args.force)?;
            eprint!("{message}");
            Ok(())
        }
        Command::Fidelity(args) => {
            let rows = fidelity::run_all(&args.fixtures)?;
            let table = fidelity::markdown(&rows);
            match &args.write {
                Some(path) => fidelity::write_into(path, &table)?,
                None => print!("{table}"),
            }
            Ok(())
        }
    }
}

/// Peak resident memory of this process (`VmHWM`), where `/proc` has it.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line["VmHWM:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
