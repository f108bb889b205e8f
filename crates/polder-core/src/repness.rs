//! Representative statements of each group (polismath `repness.clj`).
//!
//! For every group and statement the agree and disagree rates inside the
//! group are compared with the rest of the grouped participants, with
//! Laplace priors and z-tests; at most five statements per group are kept
//! by Polis's selection rules, agree before disagree.

use crate::stats::{Z_90, prop_test, two_prop_test};
use crate::tally::Counts;
use crate::vote::StatementId;
use serde::{Deserialize, Serialize};

/// Which way a statement characterises a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepfulFor {
    /// The group agrees more than the others.
    Agree,
    /// The group disagrees more than the others.
    Disagree,
}

/// One representative statement of a group, with the statistics Polis reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepStatement {
    /// The statement.
    pub statement: StatementId,
    /// Whether the group stands out by agreeing or by disagreeing.
    pub repful_for: RepfulFor,
    /// Agree (or disagree) votes in the group.
    pub n_success: u32,
    /// Votes in the group, passes included.
    pub n_trials: u32,
    /// `(n_success + 1) / (n_trials + 2)`.
    pub p_success: f64,
    /// z statistic of `p_success` against ½.
    pub p_test: f64,
    /// Ratio of the group's rate to the rest's rate.
    pub repness: f64,
    /// Two-proportion z statistic, group versus rest (32-bit, as Polis stores it).
    pub repness_test: f32,
    /// Marks the statement the group agrees with most (Polis `best-agree`).
    pub best_agree: bool,
    /// Agree votes in the group, given for the best-agree statement.
    pub n_agree: Option<u32>,
    /// Votes of the group on this statement.
    pub group: Counts,
    /// Votes of all other grouped participants on this statement.
    pub others: Counts,
}

/// All statistics of one (group, statement) pair.
#[derive(Debug, Clone, Copy)]
struct Stats {
    na: f64,
    nd: f64,
    ns: f64,
    pa: f64,
    pd: f64,
    pat: f64,
    pdt: f64,
    ra: f64,
    rd: f64,
    rat: f64,
    rdt: f64,
}

fn stats(group: Counts, rest: Counts) -> Stats {
    let (na, nd, ns) = (
        f64::from(group.agree),
        f64::from(group.disagree),
        f64::from(group.seen),
    );
    let (ra_n, rd_n, rs_n) = (
        f64::from(rest.agree),
        f64::from(rest.disagree),
        f64::from(rest.seen),
    );
    let pa = (na + 1.0) / (ns + 2.0);
    let pd = (nd + 1.0) / (ns + 2.0);
    Stats {
        na,
        nd,
        ns,
        pa,
        pd,
        pat: prop_test(na, ns),
        pdt: prop_test(nd, ns),
        ra: pa / ((1.0 + ra_n) / (2.0 + rs_n)),
        rd: pd / ((1.0 + rd_n) / (2.0 + rs_n)),
        rat: two_prop_test(na, ra_n, ns, rs_n),
        rdt: two_prop_test(nd, rd_n, ns, rs_n),
    }
}

fn finalize(statement: StatementId, s: &Stats, group: Counts, others: Counts) -> RepStatement {
    let agree = s.rat > s.rdt;
    let (n_success, p_success, p_test, repness, repness_test, repful_for) = if agree {
        (s.na, s.pa, s.pat, s.ra, s.rat, RepfulFor::Agree)
    } else {
        (s.nd, s.pd, s.pdt, s.rd, s.rdt, RepfulFor::Disagree)
    };
    RepStatement {
        statement,
        repful_for,
        n_success: n_success as u32,
        n_trials: s.ns as u32,
        p_success,
        p_test,
        repness,
        repness_test: repness_test as f32,
        best_agree: false,
        n_agree: None,
        group,
        others,
    }
}

fn passes(s: &Stats) -> bool {
    (s.rat > Z_90 && s.pat > Z_90) || (s.rdt > Z_90 && s.pdt > Z_90)
}

fn beats_best_agree(c: &Stats, best: Option<&Stats>) -> bool {
    if c.na == 0.0 && c.nd == 0.0 {
        return false;
    }
    match best {
        Some(b) if b.ra > 1.0 => c.ra * c.rat * c.pa * c.pat > b.ra * b.rat * b.pa * b.pat,
        Some(b) => c.pa * c.pat > b.pa * b.pat,
        None => c.pat > Z_90 || (c.ra > 1.0 && c.pa > 0.5),
    }
}

fn metric(r: &RepStatement) -> f64 {
    r.repness * f64::from(r.repness_test) * r.p_success * r.p_test
}

/// Selects the representative statements of every group.
///
/// `group_counts[g][c]` are group g's votes on column c; `statements[c]` and
/// `moderated_out[c]` describe column c. Moderated-out statements are never
/// selected. Returns one list per group, in group order.
pub fn representative_statements(
    statements: &[StatementId],
    moderated_out: &[bool],
    group_counts: &[&[Counts]],
    per_group: usize,
) -> Vec<Vec<RepStatement>> {
    let n_cols = statements.len();
    let totals: Vec<Counts> = (0..n_cols)
        .map(|c| {
            group_counts
                .iter()
                .fold(Counts::default(), |acc, g| acc.plus(g[c]))
        })
        .collect();
    group_counts
        .iter()
        .map(|counts| {
            let mut sufficient: Vec<RepStatement> = Vec::new();
            let mut best: Option<RepStatement> = None;
            let mut best_agree: Option<(Stats, RepStatement)> = None;
            for c in 0..n_cols {
                if moderated_out[c] {
                    continue;
                }
                let others = totals[c].minus(counts[c]);
                let s = stats(counts[c], others);
                if passes(&s) {
                    sufficient.push(finalize(statements[c], &s, counts[c], others));
                }
                if sufficient.is_empty()
                    && best
                        .as_ref()
                        .is_none_or(|b| s.rat.max(s.rdt) > f64::from(b.repness_test))
                {
                    best = Some(finalize(statements[c], &s, counts[c], others));
                }
                if beats_best_agree(&s, best_agree.as_ref().map(|(b, _)| b)) {
                    let mut entry = finalize(statements[c], &s, counts[c], others);
                    entry.best_agree = true;
                    entry.n_agree = Some(counts[c].agree);
                    best_agree = Some((s, entry));
                }
            }
            let best_agree = best_agree.map(|(_, e)| e);
            if sufficient.is_empty() {
                return best_agree.or(best).into_iter().collect();
            }
            if let Some(ba) = &best_agree {
                sufficient.retain(|r| r.statement != ba.statement);
            }
            // Stable sort, descending metric: ties keep statement order.
            sufficient.sort_by(|a, b| metric(b).total_cmp(&metric(a)));
            let mut chosen: Vec<RepStatement> = best_agree.into_iter().chain(sufficient).collect();
            chosen.truncate(per_group);
            let (agrees, disagrees): (Vec<_>, Vec<_>) = chosen
                .into_iter()
                .partition(|r| r.repful_for == RepfulFor::Agree);
            agrees.into_iter().chain(disagrees).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(agree: u32, disagree: u32, seen: u32) -> Counts {
        Counts {
            agree,
            disagree,
            seen,
        }
    }

    #[test]
    fn a_statement_only_one_group_agrees_with_represents_it() {
        let ids: Vec<StatementId> = (0..3).map(StatementId).collect();
        let g0 = [c(20, 0, 20), c(10, 10, 20), c(0, 20, 20)];
        let g1 = [c(0, 20, 20), c(10, 10, 20), c(20, 0, 20)];
        let rep = representative_statements(&ids, &[false; 3], &[&g0, &g1], 5);
        assert_eq!(rep[0][0].statement, StatementId(0));
        assert_eq!(rep[0][0].repful_for, RepfulFor::Agree);
        assert!(rep[0][0].best_agree);
        assert!(rep[0].iter().all(|r| r.statement != StatementId(1)));
        let last = rep[0].last().unwrap();
        assert_eq!(last.statement, StatementId(2));
        assert_eq!(last.repful_for, RepfulFor::Disagree);
    }

    #[test]
    fn moderated_out_statements_are_never_chosen() {
        let ids: Vec<StatementId> = (0..2).map(StatementId).collect();
        let g0 = [c(20, 0, 20), c(5, 5, 10)];
        let g1 = [c(0, 20, 20), c(5, 5, 10)];
        let rep = representative_statements(&ids, &[true, false], &[&g0, &g1], 5);
        assert!(rep.iter().flatten().all(|r| r.statement == StatementId(1)));
    }
}
