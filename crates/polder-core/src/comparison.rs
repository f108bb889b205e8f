//! Comparing two analyses: of two populations (a citizens' panel against the
//! open public), or of one population with and without some accounts.
//!
//! Three views, because no single number answers "is it the same picture?":
//! how alike the groupings of the participants both contain are (adjusted
//! Rand index), which group of one resembles which group of the other (by
//! their agree shares per statement), and which statements the two
//! populations answer most differently.

use crate::analysis::Analysis;
use crate::stats::{adjusted_rand_index, two_prop_test};
use crate::tally::Counts;
use crate::vote::StatementId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Agreement of two groupings over the participants both clustered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupingAgreement {
    /// Participants clustered in both.
    pub shared: usize,
    /// Adjusted Rand index of their group labels (`None` with fewer than two shared).
    pub ari: Option<f64>,
}

/// The participants both analyses clustered, and how alike their groups are.
pub fn grouping_agreement(a: &Analysis, b: &Analysis) -> GroupingAgreement {
    let rows_b = positions(&b.participants);
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    for (row, p) in a.participants.iter().enumerate() {
        if let (Some(ga), Some(gb)) = (a.group_of[row], rows_b.get(p).and_then(|&r| b.group_of[r]))
        {
            la.push(ga);
            lb.push(gb);
        }
    }
    GroupingAgreement {
        shared: la.len(),
        ari: (la.len() >= 2).then(|| adjusted_rand_index(&la, &lb)),
    }
}

/// The group of the other analysis that one group resembles most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMatch {
    /// Group id in the first analysis.
    pub group: u32,
    /// Its size.
    pub size: usize,
    /// The closest group of the second analysis.
    pub closest: Option<u32>,
    /// Mean absolute difference of the two groups' agree shares over the
    /// statements both voted on (0 = the same stance everywhere, 1 = opposite).
    pub distance: Option<f64>,
    /// Statements behind `distance`.
    pub statements_compared: usize,
}

/// Fewest votes of a group on a statement for its share to be compared.
const MIN_VOTES_TO_COMPARE: u32 = 3;

/// For each group of `a`, the group of `b` with the closest agree shares.
pub fn match_groups(a: &Analysis, b: &Analysis) -> Vec<GroupMatch> {
    let columns_b = positions(&b.statements);
    a.groups
        .iter()
        .enumerate()
        .map(|(ia, ga)| {
            let mut best: Option<(u32, f64, usize)> = None;
            for (ib, gb) in b.groups.iter().enumerate() {
                let (mut sum, mut n) = (0.0, 0usize);
                for (ca, s) in a.statements.iter().enumerate() {
                    let Some(&cb) = columns_b.get(s) else {
                        continue;
                    };
                    let (x, y) = (a.group_votes.get(ia, ca), b.group_votes.get(ib, cb));
                    if x.seen >= MIN_VOTES_TO_COMPARE && y.seen >= MIN_VOTES_TO_COMPARE {
                        sum += (agree_share(x) - agree_share(y)).abs();
                        n += 1;
                    }
                }
                if n > 0 {
                    let d = sum / n as f64;
                    if best.is_none_or(|(_, bd, _)| d < bd) {
                        best = Some((gb.id, d, n));
                    }
                }
            }
            GroupMatch {
                group: ga.id,
                size: ga.size,
                closest: best.map(|b| b.0),
                distance: best.map(|b| b.1),
                statements_compared: best.map_or(0, |b| b.2),
            }
        })
        .collect()
}

/// A statement two populations answer differently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementDifference {
    /// The statement.
    pub statement_id: StatementId,
    /// Votes in the first population.
    pub a: Counts,
    /// Votes in the second population.
    pub b: Counts,
    /// Agree share in the first minus in the second.
    pub agree_difference: f64,
    /// Two-proportion z statistic of that difference.
    pub z: f64,
}

/// Statements by how differently the two populations agree with them,
/// most different first (by |z|), at most `limit`.
pub fn statement_differences(a: &Analysis, b: &Analysis, limit: usize) -> Vec<StatementDifference> {
    let columns_b = positions(&b.statements);
    let mut out: Vec<StatementDifference> = a
        .statements
        .iter()
        .enumerate()
        .filter_map(|(ca, &s)| {
            let cb = *columns_b.get(&s)?;
            let (x, y) = (a.totals[ca], b.totals[cb]);
            if x.seen == 0 || y.seen == 0 {
                return None;
            }
            let z = two_prop_test(
                f64::from(x.agree),
                f64::from(y.agree),
                f64::from(x.seen),
                f64::from(y.seen),
            );
            Some(StatementDifference {
                statement_id: s,
                a: x,
                b: y,
                agree_difference: agree_share(x) - agree_share(y),
                z: if z.is_finite() { z } else { 0.0 },
            })
        })
        .collect();
    out.sort_by(|p, q| {
        q.z.abs()
            .total_cmp(&p.z.abs())
            .then(p.statement_id.cmp(&q.statement_id))
    });
    out.truncate(limit);
    out
}

/// Where each id stands in `ids`.
fn positions<T: Copy + Eq + std::hash::Hash>(ids: &[T]) -> HashMap<T, usize> {
    ids.iter().enumerate().map(|(i, &id)| (id, i)).collect()
}

fn agree_share(c: Counts) -> f64 {
    if c.seen == 0 {
        0.0
    } else {
        f64::from(c.agree) / f64::from(c.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vote::ParticipantId;
    use crate::{MathConfig, MathState, StatementCatalog, Vote, VoteEvent, VoteMatrix, update};

    /// `n` participants from `first`, in two camps on 8 statements; with
    /// `flip`, camp B agrees with statement 0 as well.
    fn analysis(first: u32, n: u32, flip: bool) -> Analysis {
        let events: Vec<VoteEvent> = (first..first + n)
            .flat_map(|p| {
                (0..8u32).map(move |s| VoteEvent {
                    participant: ParticipantId(p),
                    statement: StatementId(s),
                    vote: if (p % 2 == 0) == (s < 4) || (flip && s == 0) {
                        Vote::Agree
                    } else {
                        Vote::Disagree
                    },
                    timestamp: 0,
                })
            })
            .collect();
        let matrix = VoteMatrix::from_events(&events).unwrap();
        update(
            &MathState::default(),
            &matrix,
            &StatementCatalog::new(),
            &MathConfig::default(),
        )
        .unwrap()
        .analysis
    }

    #[test]
    fn the_same_people_grouped_alike_agree_fully() {
        let a = analysis(0, 60, false);
        let g = grouping_agreement(&a, &a);
        assert_eq!(g.shared, 60);
        assert_eq!(g.ari, Some(1.0));
        let matches = match_groups(&a, &a);
        assert_eq!(matches.len(), 2);
        for m in &matches {
            assert_eq!(m.closest, Some(m.group));
            assert_eq!(m.distance, Some(0.0));
        }
    }

    #[test]
    fn different_populations_show_their_differences() {
        let a = analysis(0, 60, false);
        let b = analysis(1_000, 40, true);
        // No one in common.
        assert_eq!(grouping_agreement(&a, &b).shared, 0);
        let diffs = statement_differences(&a, &b, 3);
        assert_eq!(diffs[0].statement_id, StatementId(0), "{diffs:?}");
        assert!(diffs[0].agree_difference < -0.4, "{diffs:?}");
        // Each group still finds its counterpart, at a distance > 0 for the camp that changed.
        let matches = match_groups(&a, &b);
        assert!(matches.iter().all(|m| m.closest.is_some()));
        assert!(matches.iter().any(|m| m.distance.unwrap() > 0.0));
    }
}
