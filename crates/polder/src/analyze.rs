//! `polder analyze`: files in, report out.

use crate::progress;
use anyhow::Context;
use polder_core::replay::{self, Batching};
use polder_core::{MathConfig, MathState, Pca2, Report, ReportContext, Update, VoteMatrix};
use polder_formats::Conversation;

/// Length of one update window when replaying a history: Polis's math worker
/// polls for new votes every second and is often busy for several, so its
/// updates take in a few seconds of votes at a time.
pub const DEFAULT_WINDOW_MS: i64 = 10_000;

/// k-means++ starts beside Polis's own of each grouping in a one-shot
/// analysis (`MathConfig::group_starts`): on the 100 base-cluster centres
/// a start costs a few microseconds, and on the opendata conversations 8
/// reach the clusterings that 32 or 128 reach (docs/fidelity.md).
pub const ONCE_GROUP_STARTS: usize = 8;

/// Restarts that model the current Polis math worker: a conversation that
/// has been quiet for a day is reloaded from its published result before its
/// next update (see `MathState::after_restart`).
pub const CURRENT_POLIS_RESTARTS: replay::Restarts = replay::Restarts {
    before_last: false,
    after_gap_ms: Some(86_400_000),
};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// The native polder report (JSON).
    Json,
    /// The Polis `math-pca2` view (JSON).
    Pca2,
    /// A readable summary.
    Text,
}

/// How the votes are fed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One update over the final votes, from an empty state.
    Once,
    /// Replay the history in batches, carrying the state along, with
    /// simulated restarts of the math worker.
    History(Batching, replay::Restarts),
}

/// What an analysis produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The last update.
    pub update: Update,
    /// Updates that were run.
    pub updates: usize,
    /// The context for the reports.
    pub context: ReportContext,
}

/// Analyses a conversation.
pub fn analyze(
    conversation: &Conversation,
    config: &MathConfig,
    mode: Mode,
    show_progress: bool,
) -> anyhow::Result<Outcome> {
    let catalog = conversation.catalog();
    let large = conversation.votes.len() >= progress::LARGE_INPUT_VOTES;
    let (update, updates) = match mode {
        Mode::Once => {
            let spinner = progress::spinner(show_progress && large);
            spinner.set_message("building the vote matrix");
            let matrix = VoteMatrix::from_events(&conversation.votes)?;
            let update = polder_core::update_observed(
                &MathState::default(),
                &matrix,
                &catalog,
                config,
                &mut |stage| spinner.set_message(progress::describe(stage)),
            )?;
            spinner.finish_and_clear();
            (update, 1)
        }
        Mode::History(batching, restart) => {
            let bar = progress::bar(show_progress, 0, "updates replayed");
            let replayed = replay::replay(
                &conversation.votes,
                &catalog,
                config,
                batching,
                restart,
                |done, total| {
                    if done == 1 {
                        bar.set_length(total as u64);
                    }
                    bar.set_position(done as u64);
                },
            )?;
            bar.finish_and_clear();
            (replayed.last, replayed.updates)
        }
    };
    Ok(Outcome {
        update,
        updates,
        context: ReportContext {
            last_vote_timestamp: conversation.last_vote_timestamp(),
            last_mod_timestamp: None,
            seed: config.seed,
            include_participants: true,
        },
    })
}

/// Renders the outcome in the requested format.
pub fn render(
    conversation: &Conversation,
    outcome: &Outcome,
    format: OutputFormat,
) -> anyhow::Result<String> {
    let analysis = &outcome.update.analysis;
    Ok(match format {
        OutputFormat::Json => {
            let report = Report::new(analysis, &outcome.context);
            serde_json::to_string_pretty(&report).context("cannot serialise the report")? + "\n"
        }
        OutputFormat::Pca2 => {
            let view = Pca2::new(analysis, &outcome.context);
            serde_json::to_string(&view).context("cannot serialise the report")? + "\n"
        }
        OutputFormat::Text => crate::text::summary(conversation, analysis, outcome.updates),
    })
}
