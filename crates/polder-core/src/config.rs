//! Tuning of the math, with Polis's defaults.

use crate::error::MathError;
use crate::pca::PcaConfig;
use serde::{Deserialize, Serialize};

/// Every knob of the pipeline. [`MathConfig::default`] is Polis's setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MathConfig {
    /// Seed of the random choices the engine makes: the start vector of a
    /// PCA without warm start, and the k-means++ starts of `group_starts`.
    pub seed: u64,
    /// Power-iteration budget and tolerance.
    pub pca: PcaConfig,
    /// Votes needed to be clustered (Polis 7, capped by the statement count).
    pub min_votes: usize,
    /// Clustered participants Polis tops up to with the most active voters (15).
    pub greedy_n: usize,
    /// Number of base clusters (Polis `base-k`, 100).
    pub base_k: usize,
    /// Iteration budget of the base clustering (Polis `base-iters`, 100).
    pub base_iters: usize,
    /// Largest number of groups (Polis `max-k`, 5).
    pub max_k: usize,
    /// Iteration budget of the group clustering. Polis passes 100 under a
    /// key its k-means ignores, so its effective value is the default, 20.
    pub group_iters: usize,
    /// Updates in a row a new group count must win before it is shown
    /// (Polis `group-k-buffer`, 4).
    pub group_k_buffer: u32,
    /// Extra starts of a group clustering that has no previous clustering
    /// to continue from: seeded k-means++ starts run beside Polis's start
    /// (the first distinct base clusters), and the clustering with the
    /// smallest weighted within-group sum of squares is kept, Polis's on a
    /// tie. 0 (the default) is Polis: its one start only. A one-shot
    /// analysis (`polder analyze --mode once`) uses several, because from
    /// scratch Polis's start depends on who voted first.
    pub group_starts: usize,
    /// Representative statements kept per group (5).
    pub rep_statements_per_group: usize,
    /// Consensus statements kept each way (5).
    pub consensus_per_side: usize,
}

impl Default for MathConfig {
    fn default() -> Self {
        MathConfig {
            seed: 0,
            pca: PcaConfig::default(),
            min_votes: 7,
            greedy_n: 15,
            base_k: 100,
            base_iters: 100,
            max_k: 5,
            group_iters: 20,
            group_k_buffer: 4,
            group_starts: 0,
            rep_statements_per_group: 5,
            consensus_per_side: 5,
        }
    }
}

impl MathConfig {
    /// Checks the values that would make the pipeline meaningless.
    pub fn validate(&self) -> Result<(), MathError> {
        let fail = |what: &str| Err(MathError::InvalidConfig(what.to_string()));
        if self.base_k == 0 {
            return fail("base_k must be at least 1");
        }
        if self.max_k < 2 {
            return fail("max_k must be at least 2");
        }
        if self.group_k_buffer == 0 {
            return fail("group_k_buffer must be at least 1");
        }
        if self.pca.max_iterations == 0 {
            return fail("pca.max_iterations must be at least 1");
        }
        if !(self.pca.tolerance.is_finite() && self.pca.tolerance >= 0.0) {
            return fail("pca.tolerance must be a finite, non-negative number");
        }
        Ok(())
    }
}
