//! Command-line interface.

use crate::analyze::{self, Mode, OutputFormat};
use crate::fidelity;
use crate::storage;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use polder_core::MathConfig;
use polder_core::replay::Batching;
use std::io::IsTerminal;
use std::path::PathBuf;

/// polder: find the opinion groups in a conversation, what each group stands
/// for and what all groups share.
#[derive(Debug, Parser)]
#[command(name = "polder", version, about, long_about = None)]
pub struct Cli {
    /// The database: `sqlite://PATH` (default `sqlite://polder.db`, i.e.
    /// ./polder.db), `sqlite::memory:` or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        global = true,
        env = "POLDER_DATABASE_URL",
        default_value = polder_store::DEFAULT_URL
    )]
    pub database_url: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a conversation (from files or from the database) and print the report.
    Analyze(AnalyzeArgs),
    /// Import a conversation (Polis export or Polis API JSON) into the
    /// database; prints the new conversation's id as the last line.
    Import(ImportArgs),
    /// Write a stored conversation as a Polis export (votes.csv,
    /// comments.csv, participants-votes.csv, summary.csv).
    Export(ExportArgs),
    /// Run the HTTP API (REST + live reports over Server-Sent Events).
    Serve(crate::serve::ServeArgs),
    /// Make API keys for the HTTP API.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Make invite codes for a conversation's panel (shown once; only their
    /// hashes are stored), or show how many were used.
    Invites(crate::invites::InvitesArgs),
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

/// `polder keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it (shown once; only its hash is stored).
    Create {
        /// An administrator key (every conversation).
        #[arg(long, conflicts_with = "moderator")]
        admin: bool,
        /// A moderator key of this conversation.
        #[arg(long)]
        moderator: Option<String>,
        /// Who the key is for (shown in the moderation log).
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Revoke a key: requests that present it are refused from now on.
    Revoke {
        /// The key as `keys create` printed it, or `-` to read it from
        /// standard input (keeps it out of the shell history).
        key: String,
    },
}

/// Arguments of `polder analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A Polis export directory (votes.csv, comments.csv) or a directory with
    /// votes.json and comments.json in the shape the Polis API returns.
    #[arg(
        required_unless_present = "conversation",
        conflicts_with = "conversation"
    )]
    pub path: Option<PathBuf>,
    /// Analyse this stored conversation instead of files (see --database-url).
    #[arg(long)]
    pub conversation: Option<String>,
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
    /// k-means++ starts tried beside Polis's own when a grouping is made
    /// from scratch, keeping the tightest (smallest within-group sum of
    /// squares). Polis starts from the first base clusters in row order,
    /// so from scratch its groups depend on who voted first; `0` is Polis.
    /// Default: 8 in `once` mode, 0 in `history` mode (whose fresh
    /// groupings are Polis's first ones, with few voters).
    #[arg(long)]
    pub group_starts: Option<usize>,
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

/// Arguments of `polder import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The conversation directory.
    pub path: PathBuf,
    /// Id of the new conversation (`[a-z0-9-]{1,64}`); by default made from
    /// the directory's name.
    #[arg(long)]
    pub id: Option<String>,
}

/// Arguments of `polder export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The conversation's id.
    pub conversation: String,
    /// The directory to write into (created if needed; files are replaced).
    pub dir: PathBuf,
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
                group_starts: args.group_starts.unwrap_or(match args.mode {
                    ModeArg::Once => crate::analyze::ONCE_GROUP_STARTS,
                    ModeArg::History => 0,
                }),
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
            let conversation = match (&args.path, &args.conversation) {
                (Some(path), _) => polder_formats::read_conversation(path)?,
                (None, Some(id)) => storage::block_on(async {
                    let store = polder_store::open(&cli.database_url).await?;
                    storage::read_stored(&store, id).await
                })??,
                (None, None) => anyhow::bail!("give a conversation directory or --conversation ID"),
            };
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
        Command::Import(args) => {
            let imported = storage::block_on(async {
                let store = polder_store::open(&cli.database_url).await?;
                storage::import(
                    &store,
                    &args.path,
                    args.id.clone(),
                    std::io::stderr().is_terminal(),
                )
                .await
            })??;
            println!(
                "imported {} votes on {} statements by {} participants from {}",
                imported.votes,
                imported.statements,
                imported.participants,
                args.path.display()
            );
            println!("{}", imported.id);
            Ok(())
        }
        Command::Export(args) => {
            let exported = storage::block_on(async {
                let store = polder_store::open(&cli.database_url).await?;
                storage::export(&store, &args.conversation, &args.dir).await
            })??;
            println!(
                "exported {} votes, {} statements and {} participants to {}",
                exported.votes,
                exported.statements,
                exported.participants,
                args.dir.display()
            );
            Ok(())
        }
        Command::Serve(args) => {
            // Only an explicit flag or environment variable overrides the
            // config file; clap's default would hide the file's setting.
            let explicit = std::env::args().any(|a| a.starts_with("--database-url"))
                || std::env::var_os("POLDER_DATABASE_URL").is_some();
            crate::serve::serve(&args, explicit.then_some(cli.database_url.as_str()))
        }
        Command::Keys(KeysCommand::Create {
            admin,
            moderator,
            label,
        }) => {
            let role = match (admin, moderator) {
                (true, _) => polder_store::Role::Admin,
                (false, Some(conversation)) => polder_store::Role::Moderator { conversation },
                (false, None) => {
                    anyhow::bail!("say which key: --admin or --moderator CONVERSATION")
                }
            };
            let key = storage::block_on(async {
                let store = polder_store::open(&cli.database_url).await?;
                if let polder_store::Role::Moderator { conversation } = &role
                    && store.get_conversation(conversation).await?.is_none()
                {
                    anyhow::bail!("conversation `{conversation}` does not exist");
                }
                crate::serve::make_key(&store, role, &label).await
            })??;
            println!("{key}");
            Ok(())
        }
        Command::Keys(KeysCommand::Revoke { key }) => {
            let key = if key == "-" {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim().to_owned()
            } else {
                key
            };
            if key.is_empty() {
                anyhow::bail!(
                    "no key given: pass it as the argument or on standard input with `-`"
                );
            }
            let hash = polder_server::auth::hash_api_key(&key);
            let revoked = storage::block_on(async {
                let store = polder_store::open(&cli.database_url).await?;
                anyhow::Ok(store.revoke_key(&hash).await?)
            })??;
            if !revoked {
                anyhow::bail!("no active key matches (unknown, mistyped, or already revoked)");
            }
            eprintln!("key revoked");
            Ok(())
        }
        Command::Invites(args) => crate::invites::run(&args, &cli.database_url),
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
