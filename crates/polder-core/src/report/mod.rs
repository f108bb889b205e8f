//! Reports: the native polder report and the Polis-compatible view.
//!
//! Both are plain serde types built from an [`Analysis`]; all maps are
//! ordered and all lists sorted, so the same analysis always serialises to
//! the same bytes.

pub mod pca2;

use crate::analysis::Analysis;
use crate::consensus::ConsensusStatement;
use crate::priority;
use crate::repness::RepStatement;
use crate::statement::{Moderation, StatementCatalog};
use crate::tally::Counts;
use crate::vote::{ParticipantId, StatementId};
use serde::{Deserialize, Serialize};

/// Identifies the report layout; bumped on breaking changes.
pub const REPORT_FORMAT: &str = "polder-report/1";

/// Version of the math, carried in every report so that stored reports can
/// be told apart after an upgrade.
pub const MATH_VERSION: &str = concat!("polder-core ", env!("CARGO_PKG_VERSION"));

/// Facts about the input that the analysis itself does not know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportContext {
    /// Time of the latest vote the report reflects (ms since the epoch).
    pub last_vote_timestamp: Option<i64>,
    /// Time of the latest moderation action (ms since the epoch).
    pub last_mod_timestamp: Option<i64>,
    /// Seed the analysis ran with.
    pub seed: u64,
    /// Whether to list every participant (large for big conversations).
    pub include_participants: bool,
}

/// The native polder report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// What the report is and what it reflects.
    pub meta: ReportMeta,
    /// The opinion groups, by id.
    pub groups: Vec<GroupReport>,
    /// What all participants share.
    pub consensus: ConsensusReport,
    /// Every statement: position, priority and votes per group.
    pub statements: Vec<StatementReport>,
    /// The principal components behind the opinion map.
    pub pca: PcaReport,
    /// Every participant with a vote, when requested (see [`ReportContext`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<ParticipantReport>>,
}

/// Header of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportMeta {
    /// Report layout, [`REPORT_FORMAT`].
    pub format: String,
    /// Engine that computed it, [`MATH_VERSION`].
    pub math_version: String,
    /// Update counter of the conversation (Polis `math_tick`).
    pub tick: u64,
    /// Seed of the fresh PCA start.
    pub seed: u64,
    /// Participants with at least one vote.
    pub n_participants: usize,
    /// Participants placed in a group.
    pub n_clustered: usize,
    /// Statements with at least one vote.
    pub n_statements: usize,
    /// Current votes (one per participant and statement).
    pub n_votes: usize,
    /// Opinion groups shown.
    pub n_groups: usize,
    /// Latest vote reflected, ms since the epoch.
    pub last_vote_timestamp: Option<i64>,
    /// Latest moderation reflected, ms since the epoch.
    pub last_mod_timestamp: Option<i64>,
    /// Silhouette of each group count tried, the basis of the choice of k.
    pub silhouettes: Vec<KSilhouette>,
    /// Power-iteration passes of this update.
    pub pca_iterations: usize,
    /// Whether the power iteration reached its tolerance.
    pub pca_converged: bool,
}

/// Silhouette of one group count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KSilhouette {
    /// Number of groups.
    pub k: u32,
    /// Mean silhouette over base clusters (-1 to 1, higher is cleaner).
    pub silhouette: f64,
}

/// One opinion group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// Group id, stable across updates.
    pub id: u32,
    /// Participants in the group.
    pub size: usize,
    /// Centre on the opinion map.
    pub center: [f64; 2],
    /// Base clusters that make up the group.
    pub base_clusters: Vec<u32>,
    /// Statements that set the group apart, strongest first, agree before disagree.
    pub representative: Vec<RepresentativeStatement>,
}

/// A statement that characterises a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepresentativeStatement {
    /// The statement.
    pub statement_id: StatementId,
    /// `agree` or `disagree`: how the group stands out.
    pub repful_for: crate::repness::RepfulFor,
    /// Votes of the group in that direction.
    pub n_success: u32,
    /// Votes of the group, passes included.
    pub n_trials: u32,
    /// Smoothed share of the group voting that way.
    pub p_success: f64,
    /// z statistic of `p_success` against ½.
    pub p_test: f64,
    /// How much likelier the group votes that way than everyone else.
    pub repness: f64,
    /// z statistic of that difference.
    pub repness_test: f32,
    /// Whether this is the statement the group agrees with most.
    pub best_agree: bool,
    /// Share of the group that agrees (0-1; passes count in the denominator).
    pub group_agree: f64,
    /// Share of the other groups that agrees.
    pub others_agree: f64,
    /// Share of the group that disagrees.
    pub group_disagree: f64,
    /// Share of the other groups that disagrees.
    pub others_disagree: f64,
}

fn share(n: u32, of: u32) -> f64 {
    if of == 0 {
        0.0
    } else {
        f64::from(n) / f64::from(of)
    }
}

impl From<&RepStatement> for RepresentativeStatement {
    fn from(r: &RepStatement) -> Self {
        RepresentativeStatement {
            statement_id: r.statement,
            repful_for: r.repful_for,
            n_success: r.n_success,
            n_trials: r.n_trials,
            p_success: r.p_success,
            p_test: r.p_test,
            repness: r.repness,
            repness_test: r.repness_test,
            best_agree: r.best_agree,
            group_agree: share(r.group.agree, r.group.seen),
            others_agree: share(r.others.agree, r.others.seen),
            group_disagree: share(r.group.disagree, r.group.seen),
            others_disagree: share(r.others.disagree, r.others.seen),
        }
    }
}

/// Consensus over the whole conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsensusReport {
    /// Statements most participants agree with.
    pub agree: Vec<ConsensusEntry>,
    /// Statements most participants disagree with.
    pub disagree: Vec<ConsensusEntry>,
    /// Statements every group agrees with, by group-aware consensus, strongest first.
    pub group_aware_agree: Vec<GroupAwareEntry>,
    /// Statements every group disagrees with, strongest first.
    pub group_aware_disagree: Vec<GroupAwareEntry>,
}

/// A consensus statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsensusEntry {
    /// The statement.
    pub statement_id: StatementId,
    /// Votes in the consensus direction.
    pub n_success: u32,
    /// Votes, passes included.
    pub n_trials: u32,
    /// Smoothed share voting that way.
    pub p_success: f64,
    /// z statistic against ½.
    pub p_test: f64,
}

impl From<&ConsensusStatement> for ConsensusEntry {
    fn from(c: &ConsensusStatement) -> Self {
        ConsensusEntry {
            statement_id: c.statement,
            n_success: c.n_success,
            n_trials: c.n_trials,
            p_success: c.p_success,
            p_test: c.p_test,
        }
    }
}

/// A statement with high group-aware consensus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupAwareEntry {
    /// The statement.
    pub statement_id: StatementId,
    /// Product over groups of the smoothed share voting that way.
    pub score: f64,
    /// The smallest such share in any group.
    pub weakest_group: f64,
}

/// Votes on one statement, with shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteTotals {
    /// Agree votes.
    pub agree: u32,
    /// Disagree votes.
    pub disagree: u32,
    /// Pass votes.
    pub pass: u32,
    /// All votes.
    pub seen: u32,
}

impl From<Counts> for VoteTotals {
    fn from(c: Counts) -> Self {
        VoteTotals {
            agree: c.agree,
            disagree: c.disagree,
            pass: c.pass(),
            seen: c.seen,
        }
    }
}

/// One group's votes on a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVotes {
    /// Group id.
    pub group_id: u32,
    /// The group's votes.
    #[serde(flatten)]
    pub votes: VoteTotals,
}

/// Everything about one statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementReport {
    /// The statement.
    pub id: StatementId,
    /// Moderation state.
    pub moderation: Moderation,
    /// Whether it is a meta statement.
    pub is_meta: bool,
    /// Whether it is out of the geometry and the selections (rejected or meta).
    pub moderated_out: bool,
    /// Position on the opinion map (a virtual participant who agrees).
    pub position: [f64; 2],
    /// Distance of `position` from the centre.
    pub extremity: f64,
    /// Weight for choosing it as the next statement to show.
    pub priority: f64,
    /// Votes of all participants.
    pub votes: VoteTotals,
    /// Votes per group, in group order.
    pub by_group: Vec<GroupVotes>,
    /// Group-aware consensus: agree and disagree products over groups.
    pub group_aware_consensus: [f64; 2],
}

/// The principal components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaReport {
    /// Column order of the vectors below (= `statements[*].id`).
    pub statement_ids: Vec<StatementId>,
    /// Mean vote per statement (agree = 1, disagree = -1).
    pub center: Vec<f64>,
    /// The two components, unit length.
    pub components: [Vec<f64>; 2],
    /// Variance along each component.
    pub explained_variance: [f64; 2],
}

/// One participant on the opinion map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantReport {
    /// The participant.
    pub id: ParticipantId,
    /// Group id, if clustered.
    pub group_id: Option<u32>,
    /// Whether the participant is clustered (Polis `in-conv`).
    pub clustered: bool,
    /// Position on the opinion map.
    pub position: [f64; 2],
    /// Votes cast, passes included.
    pub n_votes: u32,
}

impl Report {
    /// Builds the native report.
    pub fn new(analysis: &Analysis, context: &ReportContext) -> Report {
        let a = analysis;
        let groups = a
            .groups
            .iter()
            .zip(&a.repness)
            .map(|(g, rep)| GroupReport {
                id: g.id,
                size: g.size,
                center: g.center,
                base_clusters: g.base_clusters.clone(),
                representative: rep.iter().map(RepresentativeStatement::from).collect(),
            })
            .collect();

        let statements: Vec<StatementReport> = (0..a.statements.len())
            .map(|c| {
                let info = &a.statement_info[c];
                StatementReport {
                    id: a.statements[c],
                    moderation: info.moderation,
                    is_meta: info.is_meta,
                    moderated_out: info.is_moderated_out(),
                    position: a.statement_projections[c],
                    extremity: a.extremity[c],
                    priority: a.priorities[c],
                    votes: a.totals[c].into(),
                    by_group: a
                        .groups
                        .iter()
                        .enumerate()
                        .map(|(g, group)| GroupVotes {
                            group_id: group.id,
                            votes: a.group_votes.get(g, c).into(),
                        })
                        .collect(),
                    group_aware_consensus: a.group_aware_consensus[c],
                }
            })
            .collect();

        let group_aware = |side: usize| {
            let mut entries: Vec<GroupAwareEntry> = (0..a.statements.len())
                .filter(|&c| !a.statement_info[c].is_moderated_out() && !a.groups.is_empty())
                .map(|c| GroupAwareEntry {
                    statement_id: a.statements[c],
                    score: a.group_aware_consensus[c][side],
                    weakest_group: (0..a.groups.len())
                        .map(|g| {
                            let v = a.group_votes.get(g, c);
                            let n = if side == 0 { v.agree } else { v.disagree };
                            (f64::from(n) + 1.0) / (f64::from(v.seen) + 2.0)
                        })
                        .fold(f64::INFINITY, f64::min),
                })
                // Only statements that every group leans towards.
                .filter(|e| e.weakest_group > 0.5)
                .collect();
            entries.sort_by(|x, y| y.score.total_cmp(&x.score));
            entries.truncate(5);
            entries
        };

        let participants = context.include_participants.then(|| {
            let ids = a.group_ids();
            (0..a.participants.len())
                .map(|r| ParticipantReport {
                    id: a.participants[r],
                    group_id: ids[r],
                    clustered: a.in_conv[r],
                    position: a.projections[r],
                    n_votes: a.vote_counts[r],
                })
                .collect()
        });

        Report {
            meta: ReportMeta {
                format: REPORT_FORMAT.to_string(),
                math_version: MATH_VERSION.to_string(),
                tick: a.tick,
                seed: context.seed,
                n_participants: a.participants.len(),
                n_clustered: a.n_in_conv(),
                n_statements: a.statements.len(),
                n_votes: a.vote_counts.iter().map(|&v| v as usize).sum(),
                n_groups: a.groups.len(),
                last_vote_timestamp: context.last_vote_timestamp,
                last_mod_timestamp: context.last_mod_timestamp,
                silhouettes: a
                    .silhouettes
                    .iter()
                    .map(|(&k, &s)| KSilhouette { k, silhouette: s })
                    .collect(),
                pca_iterations: a.pca_iterations.0,
                pca_converged: a.pca_iterations.1,
            },
            groups,
            consensus: ConsensusReport {
                agree: a.consensus.agree.iter().map(ConsensusEntry::from).collect(),
                disagree: a
                    .consensus
                    .disagree
                    .iter()
                    .map(ConsensusEntry::from)
                    .collect(),
                group_aware_agree: group_aware(0),
                group_aware_disagree: group_aware(1),
            },
            statements,
            pca: PcaReport {
                statement_ids: a.statements.clone(),
                center: a.center.clone(),
                components: a.components.clone(),
                explained_variance: a.explained_variance,
            },
            participants,
        }
    }
}

/// Priority of every statement a participant may be shown, including those
/// nobody has voted on yet (they get the full novelty bonus).
pub fn statement_priorities(
    analysis: &Analysis,
    catalog: &StatementCatalog,
) -> Vec<(StatementId, f64)> {
    let mut out: Vec<(StatementId, f64)> = analysis
        .statements
        .iter()
        .copied()
        .zip(analysis.priorities.iter().copied())
        .collect();
    for info in catalog.iter() {
        if analysis.statements.binary_search(&info.id).is_err() {
            out.push((
                info.id,
                priority::priority(Counts::default(), 0.0, info.is_meta),
            ));
        }
    }
    out.sort_by_key(|&(id, _)| id);
    out
}
