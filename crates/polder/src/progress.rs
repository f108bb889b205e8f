//! Progress display on standard error (hidden when it is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use polder_core::Stage;
use std::time::Duration;

/// Inputs at least this large get a progress display.
pub const LARGE_INPUT_VOTES: usize = 200_000;

/// A spinner that names the current stage.
pub fn spinner(enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar over a known number of steps.
pub fn bar(enabled: bool, len: u64, what: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} ({elapsed}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}

/// Text shown while a stage runs.
pub fn describe(stage: Stage) -> &'static str {
    match stage {
        Stage::Counts => "counting votes",
        Stage::Participation => "selecting participants to cluster",
        Stage::Pca => "computing principal components",
        Stage::Projection => "placing participants on the map",
        Stage::BaseClusters => "forming base clusters",
        Stage::Groups => "choosing opinion groups",
        Stage::Tally => "counting votes per group",
        Stage::Repness => "finding representative statements",
        Stage::Consensus => "finding consensus",
        Stage::Priorities => "ranking statements",
        Stage::Done => "done",
    }
}
