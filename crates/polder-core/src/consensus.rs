//! What the conversation as a whole agrees on.
//!
//! Two measures, both from Polis:
//! - consensus statements (`consensus-stats`): agree or disagree rates over
//!   *all* participants, grouped or not, that are high and significant;
//! - group-aware consensus: the product over groups of each group's
//!   smoothed agree rate, high only when every group agrees.

use crate::stats::{Z_90, prop_test};
use crate::tally::Counts;
use crate::vote::StatementId;
use serde::{Deserialize, Serialize};

/// A statement the whole conversation agrees (or disagrees) with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsensusStatement {
    /// The statement.
    pub statement: StatementId,
    /// Agree (or disagree) votes.
    pub n_success: u32,
    /// Votes, passes included.
    pub n_trials: u32,
    /// `(n_success + 1) / (n_trials + 2)`.
    pub p_success: f64,
    /// z statistic of `p_success` against ½.
    pub p_test: f64,
}

/// Consensus statements, at most a handful each way.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Consensus {
    /// Statements most agree with, strongest first.
    pub agree: Vec<ConsensusStatement>,
    /// Statements most disagree with, strongest first.
    pub disagree: Vec<ConsensusStatement>,
}

/// Selects consensus statements from the totals over all participants.
pub fn consensus_statements(
    statements: &[StatementId],
    moderated_out: &[bool],
    totals: &[Counts],
    per_side: usize,
) -> Consensus {
    let side = |success: fn(&Counts) -> u32| {
        let mut candidates: Vec<(f64, ConsensusStatement)> = statements
            .iter()
            .zip(totals)
            .zip(moderated_out)
            .filter(|(_, out)| !**out)
            .filter_map(|((&statement, counts), _)| {
                let n = f64::from(success(counts));
                let trials = f64::from(counts.seen);
                let p = (n + 1.0) / (trials + 2.0);
                let test = prop_test(n, trials);
                (p > 0.5 && test > Z_90).then(|| {
                    (
                        p * test,
                        ConsensusStatement {
                            statement,
                            n_success: success(counts),
                            n_trials: counts.seen,
                            p_success: p,
                            p_test: test,
                        },
                    )
                })
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        candidates
            .into_iter()
            .take(per_side)
            .map(|(_, c)| c)
            .collect()
    };
    Consensus {
        agree: side(|c| c.agree),
        disagree: side(|c| c.disagree),
    }
}

/// Group-aware consensus of one statement: Π over groups of
/// `(votes_for + 1) / (seen + 2)`, where `votes_for` picks agree or disagree.
pub fn group_aware(groups: &[Counts], votes_for: fn(&Counts) -> u32) -> f64 {
    groups
        .iter()
        .map(|g| (f64::from(votes_for(g)) + 1.0) / (f64::from(g.seen) + 2.0))
        .product()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_example() {
        // polis-math.md §5.2: tid 26 with 15 agrees out of 16.
        let c = consensus_statements(
            &[StatementId(26)],
            &[false],
            &[Counts {
                agree: 15,
                disagree: 0,
                seen: 16,
            }],
            5,
        );
        assert_eq!(c.agree.len(), 1);
        assert!((c.agree[0].p_success - 0.888_888_888_888_889).abs() < 1e-12);
        assert!((c.agree[0].p_test - 3.638_034_375_544_994_4).abs() < 1e-12);
        assert!(c.disagree.is_empty());
    }

    #[test]
    fn group_aware_is_a_product_of_smoothed_rates() {
        let g = [
            Counts {
                agree: 3,
                disagree: 0,
                seen: 4,
            },
            Counts {
                agree: 0,
                disagree: 1,
                seen: 1,
            },
        ];
        assert!((group_aware(&g, |c| c.agree) - (4.0 / 6.0) * (1.0 / 3.0)).abs() < 1e-15);
    }
}
