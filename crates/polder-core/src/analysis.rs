//! The complete result of one update, before it is shaped into a report.

use crate::clustering::KSmoother;
use crate::consensus::Consensus;
use crate::kmeans::Cluster;
use crate::repness::RepStatement;
use crate::statement::StatementInfo;
use crate::tally::{Counts, Tally};
use crate::vote::{ParticipantId, StatementId};
use std::collections::BTreeMap;

/// One opinion group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Stable group id (Polis `gid`).
    pub id: u32,
    /// Weighted centre on the opinion map.
    pub center: [f64; 2],
    /// Ids of the base clusters that make up the group, ascending.
    pub base_clusters: Vec<u32>,
    /// Number of participants in the group.
    pub size: usize,
}

/// One base cluster: a small knot of participants with nearly the same votes.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseCluster {
    /// Stable id.
    pub id: u32,
    /// Mean position of its members.
    pub center: [f64; 2],
    /// Member rows of the vote matrix, ascending.
    pub members: Vec<u32>,
}

/// Everything one update computed. Per-participant vectors are indexed by
/// matrix row, per-statement vectors by matrix column.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Update counter.
    pub tick: u64,
    /// Participant of each row.
    pub participants: Vec<ParticipantId>,
    /// Votes of each participant, passes included.
    pub vote_counts: Vec<u32>,
    /// Whether each participant is clustered.
    pub in_conv: Vec<bool>,
    /// Position of each participant on the opinion map.
    pub projections: Vec<[f64; 2]>,
    /// Group index (into `groups`) of each participant, if clustered.
    pub group_of: Vec<Option<u32>>,
    /// Statement of each column.
    pub statements: Vec<StatementId>,
    /// Moderation facts of each column.
    pub statement_info: Vec<StatementInfo>,
    /// Column means of the votes used for the geometry.
    pub center: Vec<f64>,
    /// The two principal components over the columns.
    pub components: [Vec<f64>; 2],
    /// Variance along each component.
    pub explained_variance: [f64; 2],
    /// Power-iteration passes needed, and whether the tolerance was reached.
    pub pca_iterations: (usize, bool),
    /// Position of each statement on the map (a virtual participant agreeing with it).
    pub statement_projections: Vec<[f64; 2]>,
    /// Distance of each statement projection from the origin.
    pub extremity: Vec<f64>,
    /// Base clusters sorted by id.
    pub base_clusters: Vec<BaseCluster>,
    /// The clustering of base clusters for every k tried (members are base-cluster indices).
    pub group_clusterings: BTreeMap<u32, Vec<Cluster>>,
    /// Silhouette of every k tried.
    pub silhouettes: BTreeMap<u32, f64>,
    /// Smoother state after this update.
    pub k_smoother: KSmoother,
    /// The groups shown, sorted by id.
    pub groups: Vec<Group>,
    /// Votes per base cluster (bucket = index in `base_clusters`).
    pub base_votes: Tally,
    /// Votes per group (bucket = index in `groups`).
    pub group_votes: Tally,
    /// Votes of all participants per column.
    pub totals: Vec<Counts>,
    /// Representative statements per group (index as `groups`).
    pub repness: Vec<Vec<RepStatement>>,
    /// Consensus over all participants.
    pub consensus: Consensus,
    /// Group-aware consensus per column: agree and disagree products.
    pub group_aware_consensus: Vec<[f64; 2]>,
    /// Priority of each column for choosing the next statement.
    pub priorities: Vec<f64>,
}

impl Analysis {
    /// Number of clustered participants.
    pub fn n_in_conv(&self) -> usize {
        self.in_conv.iter().filter(|&&x| x).count()
    }

    /// Group id of every participant, `None` if not clustered.
    pub fn group_ids(&self) -> Vec<Option<u32>> {
        self.group_of
            .iter()
            .map(|g| g.map(|g| self.groups[g as usize].id))
            .collect()
    }
}
