//! The Polis-compatible view: the keys and shapes of Polis's `math-pca2`
//! document, so that existing Polis clients and visualisations can read
//! polder's results.
//!
//! Polis computes with agree = -1; its centre, comment projections,
//! base-cluster positions and group centres therefore have the opposite sign
//! of polder's. This view converts them, so a Polis client draws the same
//! map it would have drawn from Polis. Components keep their sign (their
//! sign is arbitrary in both).

use super::ReportContext;
use crate::analysis::Analysis;
use crate::repness::{RepStatement, RepfulFor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `math-pca2` as Polis serves it from `/api/v3/math/pca2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2 {
    /// Participants with at least one vote.
    pub n: usize,
    /// Statements with at least one vote.
    #[serde(rename = "n-cmts")]
    pub n_cmts: usize,
    /// Column order of every per-statement array.
    pub tids: Vec<u32>,
    /// Clustered participants.
    #[serde(rename = "in-conv")]
    pub in_conv: Vec<u32>,
    /// Votes per participant.
    #[serde(rename = "user-vote-counts")]
    pub user_vote_counts: BTreeMap<u32, u32>,
    /// Moderated-out statements (rejected or meta).
    #[serde(rename = "mod-out")]
    pub mod_out: Vec<u32>,
    /// Moderated-in statements (accepted or meta).
    #[serde(rename = "mod-in")]
    pub mod_in: Vec<u32>,
    /// Meta statements.
    #[serde(rename = "meta-tids")]
    pub meta_tids: Vec<u32>,
    /// Latest vote, ms since the epoch.
    #[serde(rename = "lastVoteTimestamp")]
    pub last_vote_timestamp: Option<i64>,
    /// Latest moderation, ms since the epoch.
    #[serde(rename = "lastModTimestamp")]
    pub last_mod_timestamp: Option<i64>,
    /// Update counter.
    pub math_tick: u64,
    /// Principal components and statement projections.
    pub pca: Pca2Pca,
    /// Base clusters, column-wise.
    #[serde(rename = "base-clusters")]
    pub base_clusters: Pca2BaseClusters,
    /// Opinion groups.
    #[serde(rename = "group-clusters")]
    pub group_clusters: Vec<Pca2Group>,
    /// Votes per base cluster, indexed like `base-clusters.id`.
    #[serde(rename = "votes-base")]
    pub votes_base: BTreeMap<u32, Pca2VoteArrays>,
    /// Votes per group.
    #[serde(rename = "group-votes")]
    pub group_votes: BTreeMap<u32, Pca2GroupVotes>,
    /// Representative statements per group.
    pub repness: BTreeMap<u32, Vec<Pca2Repness>>,
    /// Consensus statements.
    pub consensus: Pca2Consensus,
    /// Group-aware consensus (agree) per statement.
    #[serde(rename = "group-aware-consensus")]
    pub group_aware_consensus: BTreeMap<u32, f64>,
    /// Priority per statement.
    #[serde(rename = "comment-priorities")]
    pub comment_priorities: BTreeMap<u32, f64>,
}

/// `pca` of `math-pca2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2Pca {
    /// Column means (Polis sign).
    pub center: Vec<f64>,
    /// The two components.
    pub comps: Vec<Vec<f64>>,
    /// Statement positions as `[[x…], [y…]]` (Polis sign).
    #[serde(rename = "comment-projection")]
    pub comment_projection: Vec<Vec<f64>>,
    /// Length of each statement position.
    #[serde(rename = "comment-extremity")]
    pub comment_extremity: Vec<f64>,
}

/// `base-clusters` of `math-pca2`: parallel arrays sorted by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2BaseClusters {
    /// Base-cluster ids.
    pub id: Vec<u32>,
    /// Participant ids of each base cluster.
    pub members: Vec<Vec<u32>>,
    /// Centre x (Polis sign).
    pub x: Vec<f64>,
    /// Centre y (Polis sign).
    pub y: Vec<f64>,
    /// Members per base cluster.
    pub count: Vec<usize>,
}

/// One entry of `group-clusters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2Group {
    /// Group id.
    pub id: u32,
    /// Base-cluster ids in the group.
    pub members: Vec<u32>,
    /// Weighted centre (Polis sign).
    pub center: [f64; 2],
}

/// Per-base-cluster vote arrays of one statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct Pca2VoteArrays {
    /// Agree counts.
    pub A: Vec<u32>,
    /// Disagree counts.
    pub D: Vec<u32>,
    /// Non-missing counts.
    pub S: Vec<u32>,
}

/// A/D/S counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct Pca2Counts {
    /// Agree.
    pub A: u32,
    /// Disagree.
    pub D: u32,
    /// Seen.
    pub S: u32,
}

/// One entry of `group-votes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2GroupVotes {
    /// Participants in the group.
    #[serde(rename = "n-members")]
    pub n_members: usize,
    /// Counts per statement.
    pub votes: BTreeMap<u32, Pca2Counts>,
}

/// One entry of `repness`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2Repness {
    /// Statement id.
    pub tid: u32,
    /// Votes in the representative direction.
    #[serde(rename = "n-success")]
    pub n_success: u32,
    /// Votes in the group.
    #[serde(rename = "n-trials")]
    pub n_trials: u32,
    /// Smoothed share.
    #[serde(rename = "p-success")]
    pub p_success: f64,
    /// z against ½.
    #[serde(rename = "p-test")]
    pub p_test: f64,
    /// Ratio to the other groups.
    pub repness: f64,
    /// z of the difference (32-bit, as Polis).
    #[serde(rename = "repness-test")]
    pub repness_test: f32,
    /// `agree` or `disagree`.
    #[serde(rename = "repful-for")]
    pub repful_for: RepfulFor,
    /// Present on the best-agree statement.
    #[serde(
        rename = "best-agree",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub best_agree: Option<bool>,
    /// Agree votes, on the best-agree statement.
    #[serde(rename = "n-agree", skip_serializing_if = "Option::is_none", default)]
    pub n_agree: Option<u32>,
}

impl From<&RepStatement> for Pca2Repness {
    fn from(r: &RepStatement) -> Self {
        Pca2Repness {
            tid: r.statement.0,
            n_success: r.n_success,
            n_trials: r.n_trials,
            p_success: r.p_success,
            p_test: r.p_test,
            repness: r.repness,
            repness_test: r.repness_test,
            repful_for: r.repful_for,
            best_agree: r.best_agree.then_some(true),
            n_agree: r.n_agree,
        }
    }
}

/// One consensus entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2ConsensusEntry {
    /// Statement id.
    pub tid: u32,
    /// Votes in the consensus direction.
    #[serde(rename = "n-success")]
    pub n_success: u32,
    /// Votes.
    #[serde(rename = "n-trials")]
    pub n_trials: u32,
    /// Smoothed share.
    #[serde(rename = "p-success")]
    pub p_success: f64,
    /// z against ½.
    #[serde(rename = "p-test")]
    pub p_test: f64,
}

/// `consensus` of `math-pca2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2Consensus {
    /// Agree side.
    pub agree: Vec<Pca2ConsensusEntry>,
    /// Disagree side.
    pub disagree: Vec<Pca2ConsensusEntry>,
}

fn flip(p: [f64; 2]) -> [f64; 2] {
    [-p[0], -p[1]]
}

impl Pca2 {
    /// Builds the Polis view of an analysis.
    pub fn new(a: &Analysis, context: &ReportContext) -> Pca2 {
        let tids: Vec<u32> = a.statements.iter().map(|s| s.0).collect();
        let pid = |row: u32| a.participants[row as usize].0;
        let select = |f: fn(&crate::statement::StatementInfo) -> bool| {
            a.statement_info
                .iter()
                .filter(|i| f(i))
                .map(|i| i.id.0)
                .collect::<Vec<u32>>()
        };
        let consensus_entry = |c: &crate::consensus::ConsensusStatement| Pca2ConsensusEntry {
            tid: c.statement.0,
            n_success: c.n_success,
            n_trials: c.n_trials,
            p_success: c.p_success,
            p_test: c.p_test,
        };
        let n_base = a.base_clusters.len();
        Pca2 {
            n: a.participants.len(),
            n_cmts: tids.len(),
            in_conv: (0..a.participants.len() as u32)
                .filter(|&r| a.in_conv[r as usize])
                .map(pid)
                .collect(),
            user_vote_counts: a
                .participants
                .iter()
                .zip(&a.vote_counts)
                .map(|(p, &n)| (p.0, n))
                .collect(),
            mod_out: select(|i| i.is_moderated_out()),
            mod_in: select(|i| i.is_moderated_in()),
            meta_tids: select(|i| i.is_meta),
            last_vote_timestamp: context.last_vote_timestamp,
            last_mod_timestamp: context.last_mod_timestamp,
            math_tick: a.tick,
            pca: Pca2Pca {
                center: a.center.iter().map(|c| -c).collect(),
                comps: a.components.to_vec(),
                comment_projection: (0..2)
                    .map(|k| a.statement_projections.iter().map(|p| -p[k]).collect())
                    .collect(),
                comment_extremity: a.extremity.clone(),
            },
            base_clusters: Pca2BaseClusters {
                id: a.base_clusters.iter().map(|b| b.id).collect(),
                members: a
                    .base_clusters
                    .iter()
                    .map(|b| b.members.iter().map(|&r| pid(r)).collect())
                    .collect(),
                x: a.base_clusters.iter().map(|b| -b.center[0]).collect(),
                y: a.base_clusters.iter().map(|b| -b.center[1]).collect(),
                count: a.base_clusters.iter().map(|b| b.members.len()).collect(),
            },
            group_clusters: a
                .groups
                .iter()
                .map(|g| Pca2Group {
                    id: g.id,
                    members: g.base_clusters.clone(),
                    center: flip(g.center),
                })
                .collect(),
            votes_base: tids
                .iter()
                .enumerate()
                .map(|(c, &tid)| {
                    let col = |f: fn(&crate::tally::Counts) -> u32| {
                        (0..n_base).map(|b| f(&a.base_votes.get(b, c))).collect()
                    };
                    (
                        tid,
                        Pca2VoteArrays {
                            A: col(|x| x.agree),
                            D: col(|x| x.disagree),
                            S: col(|x| x.seen),
                        },
                    )
                })
                .collect(),
            group_votes: a
                .groups
                .iter()
                .enumerate()
                .map(|(g, group)| {
                    let votes = tids
                        .iter()
                        .enumerate()
                        .map(|(c, &tid)| {
                            let v = a.group_votes.get(g, c);
                            (
                                tid,
                                Pca2Counts {
                                    A: v.agree,
                                    D: v.disagree,
                                    S: v.seen,
                                },
                            )
                        })
                        .collect();
                    (
                        group.id,
                        Pca2GroupVotes {
                            n_members: group.size,
                            votes,
                        },
                    )
                })
                .collect(),
            repness: a
                .groups
                .iter()
                .zip(&a.repness)
                .map(|(g, r)| (g.id, r.iter().map(Pca2Repness::from).collect()))
                .collect(),
            consensus: Pca2Consensus {
                agree: a.consensus.agree.iter().map(consensus_entry).collect(),
                disagree: a.consensus.disagree.iter().map(consensus_entry).collect(),
            },
            group_aware_consensus: tids
                .iter()
                .zip(&a.group_aware_consensus)
                .map(|(&t, g)| (t, g[0]))
                .collect(),
            comment_priorities: tids
                .iter()
                .zip(&a.priorities)
                .map(|(&t, &p)| (t, p))
                .collect(),
            tids,
        }
    }
}
