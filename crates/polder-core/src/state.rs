//! What one update hands to the next.

use crate::clustering::{KSmoother, StoredCluster};
use crate::vote::{ParticipantId, StatementId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state Polis's math carries from one update to the next. An empty
/// state means "compute from scratch"; persisting it next to a report lets
/// a restarted server continue exactly where it stopped.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MathState {
    /// Number of updates so far (Polis `math_tick`).
    pub tick: u64,
    /// Clustered participants, ascending; this set only grows.
    pub in_conv: Vec<ParticipantId>,
    /// Last components, for the warm start of the power iteration.
    pub components: Option<WarmComponents>,
    /// Last base clusters, members as participant ids.
    pub base_clusters: Vec<StoredCluster<ParticipantId>>,
    /// Last clustering of the base clusters for each k, members as base-cluster ids.
    pub group_clusterings: BTreeMap<u32, Vec<StoredCluster<u32>>>,
    /// Group-count smoother.
    pub k_smoother: KSmoother,
}

impl MathState {
    /// The state Polis's math worker has after a restart: it reloads the
    /// published result (clustered participants, components, base clusters)
    /// but not the clusterings for every k nor the group-count smoother, so
    /// the next update re-initialises the groups from the base clusters and
    /// takes the silhouette winner at once.
    pub fn after_restart(&self) -> MathState {
        MathState {
            group_clusterings: Default::default(),
            k_smoother: Default::default(),
            ..self.clone()
        }
    }
}

/// Principal components keyed by statement, so that they can be mapped onto
/// a matrix that has gained statements since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarmComponents {
    /// Column order of `vectors`.
    pub statements: Vec<StatementId>,
    /// The two components.
    pub vectors: [Vec<f64>; 2],
}

impl WarmComponents {
    /// The components over `statements`; a statement they have not seen
    /// starts at 1.0, as Polis pads its start vectors.
    pub fn aligned_to(&self, statements: &[StatementId]) -> [Vec<f64>; 2] {
        std::array::from_fn(|k| {
            statements
                .iter()
                .map(|s| {
                    self.statements
                        .binary_search(s)
                        .map_or(1.0, |i| self.vectors[k][i])
                })
                .collect()
        })
    }
}
