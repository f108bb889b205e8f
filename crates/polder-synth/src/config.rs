//! What a synthetic conversation looks like, and the named presets.

use crate::error::SynthError;
use crate::text::{HARBOUR_STATEMENTS, HARBOUR_TOPIC, StatementText};
use std::fmt;
use std::str::FromStr;

/// The knobs of the generator. Every field is documented with the range
/// [`SynthConfig::validate`] accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Number of participants (ids `0..participants`), ≥ 1.
    pub participants: u32,
    /// Number of statements (ids `0..statements`), 1 ..= `StatementId::MAX`.
    /// With `texts` set, at most `texts.len()`.
    pub statements: u32,
    /// Relative size of each planted group; 2 to 6 positive weights.
    pub group_weights: Vec<f64>,
    /// How sharply a group's opinion decides its votes: the logit of
    /// agreeing is `separation × ⟨participant position, statement direction⟩`.
    pub separation: f64,
    /// Standard deviation of a participant's position around their group's.
    pub spread: f64,
    /// Share of statements that every group agrees with (0 ..= 1); ignored
    /// when `texts` says which statements are consensus.
    pub consensus_share: f64,
    /// Range of the per-statement probability of a pass vote, within 0 ..= 1.
    pub pass_range: (f64, f64),
    /// Median number of votes a participant casts (log-normal, before the
    /// cap of statements available when they arrive), > 0.
    pub median_votes: f64,
    /// Log-scale standard deviation of votes per participant (≥ 0); larger
    /// means a heavier tail of very active participants.
    pub votes_sigma: f64,
    /// Statements present from the start (the rest arrive over time), ≥ 1.
    pub seed_statements: u32,
    /// Time of the first vote, ms since the Unix epoch.
    pub start_ms: i64,
    /// Length of the conversation in ms, > 0.
    pub duration_ms: i64,
    /// Mean time between two votes of one participant, ms, > 0.
    pub vote_interval_ms: i64,
    /// Title written to `summary.csv`.
    pub topic: String,
    /// Hand-written statements; `None` gives numbered placeholder texts and
    /// random opinion directions.
    pub texts: Option<&'static [StatementText]>,
}

impl SynthConfig {
    /// Checks every field against its documented range.
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |what: &str| Err(SynthError::InvalidConfig(what.to_string()));
        if self.participants == 0 {
            return bad("participants must be at least 1");
        }
        if self.statements == 0 || self.statements > polder_core::StatementId::MAX {
            return bad("statements must be between 1 and 2^24 - 1");
        }
        if let Some(texts) = self.texts
            && self.statements as usize > texts.len()
        {
            return bad("more statements than hand-written texts");
        }
        if !(2..=6).contains(&self.group_weights.len()) {
            return bad("between 2 and 6 planted groups");
        }
        if self
            .group_weights
            .iter()
            .any(|w| !w.is_finite() || *w <= 0.0)
        {
            return bad("group weights must be positive");
        }
        let finite_nonneg = |x: f64| x.is_finite() && x >= 0.0;
        if !finite_nonneg(self.separation) || !finite_nonneg(self.spread) {
            return bad("separation and spread must be finite and non-negative");
        }
        if !(0.0..=1.0).contains(&self.consensus_share) {
            return bad("consensus_share must be within 0..=1");
        }
        let (lo, hi) = self.pass_range;
        if !(0.0..=1.0).contains(&lo) || !(lo..=1.0).contains(&hi) {
            return bad("pass_range must satisfy 0 <= low <= high <= 1");
        }
        if !(self.median_votes.is_finite() && self.median_votes > 0.0) {
            return bad("median_votes must be positive");
        }
        if !finite_nonneg(self.votes_sigma) {
            return bad("votes_sigma must be finite and non-negative");
        }
        if self.seed_statements == 0 {
            return bad("at least one seed statement");
        }
        if self.duration_ms <= 0 || self.vote_interval_ms <= 0 {
            return bad("duration_ms and vote_interval_ms must be positive");
        }
        Ok(())
    }
}

/// Named configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// ≈ 400 participants × 24 statements about the Polderdam harbour: the
    /// readable bundled example.
    Small,
    /// 10,000 participants × 500 statements, ≈ 1 M votes.
    Scale1m,
    /// 100,000 participants × 2,000 statements, ≈ 10 M votes.
    Scale10m,
    /// 1,000,000 participants × 5,000 statements, ≈ 50 M votes.
    Scale50m,
}

impl Preset {
    /// Every preset, smallest first.
    pub const ALL: [Preset; 4] = [
        Preset::Small,
        Preset::Scale1m,
        Preset::Scale10m,
        Preset::Scale50m,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Small => "small",
            Preset::Scale1m => "scale_1m",
            Preset::Scale10m => "scale_10m",
            Preset::Scale50m => "scale_50m",
        }
    }

    /// The configuration of this preset.
    pub fn config(self) -> SynthConfig {
        // 1 March 2025, 09:00 UTC: an arbitrary, fixed start.
        const START: i64 = 1_740_819_600_000;
        const DAY: i64 = 86_400_000;
        let scale = |participants, statements, median_votes, topic: &str| SynthConfig {
            participants,
            statements,
            // Three uneven groups: with four on the circle, Polis's
            // silhouette choice prefers two (opposite groups pair up).
            group_weights: vec![0.5, 0.3, 0.2],
            separation: 5.0,
            spread: 0.2,
            consensus_share: 0.1,
            pass_range: (0.05, 0.3),
            median_votes,
            votes_sigma: 1.0,
            seed_statements: (statements / 20).max(10),
            start_ms: START,
            duration_ms: 30 * DAY,
            vote_interval_ms: 12_000,
            topic: topic.to_string(),
            texts: None,
        };
        match self {
            Preset::Small => SynthConfig {
                participants: 400,
                statements: HARBOUR_STATEMENTS.len() as u32,
                group_weights: vec![0.45, 0.35, 0.2],
                separation: 4.0,
                spread: 0.2,
                consensus_share: 0.0,
                pass_range: (0.05, 0.25),
                median_votes: 14.0,
                votes_sigma: 0.7,
                seed_statements: 8,
                start_ms: START,
                duration_ms: 10 * DAY,
                vote_interval_ms: 6_000,
                topic: HARBOUR_TOPIC.to_string(),
                texts: Some(HARBOUR_STATEMENTS),
            },
            Preset::Scale1m => scale(10_000, 500, 80.0, "Synthetic scale conversation, 1 M votes"),
            Preset::Scale10m => scale(
                100_000,
                2_000,
                64.0,
                "Synthetic scale conversation, 10 M votes",
            ),
            Preset::Scale50m => scale(
                1_000_000,
                5_000,
                30.5,
                "Synthetic scale conversation, 50 M votes",
            ),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = SynthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s || p.name().replace('_', "-") == s)
            .ok_or_else(|| SynthError::UnknownPreset(s.to_string()))
    }
}
