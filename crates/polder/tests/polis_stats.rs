//! The statistics, checked exactly against Polis's own output.
//!
//! Polis's groups depend on its history (see `docs/fidelity.md`), but once
//! the groups are fixed every statistic is a deterministic function of the
//! votes. These tests take Polis's groups, components and centre from each
//! `math-pca2.json` in `../shared/fixtures/polis-math` and recompute group
//! votes, representative statements, consensus, group-aware consensus,
//! statement priorities and the projections with polder's code; they must
//! agree with Polis to floating-point precision.
#![allow(clippy::unwrap_used)]

use polder_core::consensus::{consensus_statements, group_aware};
use polder_core::pca::{ColumnModel, project_participants, project_statements};
use polder_core::priority::priority;
use polder_core::repness::{RepfulFor, representative_statements};
use polder_core::tally::{Counts, Tally};
use polder_core::{ParticipantId, StatementId, VoteMatrix};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const FIXTURES: &str = "../../../shared/fixtures/polis-math";

struct Fixture {
    matrix: VoteMatrix,
    pca2: Value,
    /// Polis's tids order.
    tids: Vec<StatementId>,
    mod_out: Vec<bool>,
    /// Group id → member participants, groups in id order.
    groups: Vec<(u32, Vec<ParticipantId>)>,
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn load(name: &str) -> Fixture {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(FIXTURES)
        .join(name);
    let conversation = polder_formats::read_conversation(&dir).unwrap();
    let matrix = VoteMatrix::from_events(&conversation.votes).unwrap();
    let pca2: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("math-pca2.json")).unwrap())
            .unwrap();
    let tids: Vec<StatementId> = ids(&pca2["tids"]).into_iter().map(StatementId).collect();
    let out = ids(&pca2["mod-out"]);
    let mod_out = tids.iter().map(|t| out.contains(&t.0)).collect();
    let base = &pca2["base-clusters"];
    let members: BTreeMap<u32, Vec<u32>> = ids(&base["id"])
        .into_iter()
        .zip(base["members"].as_array().unwrap().iter().map(ids))
        .collect();
    let mut groups: Vec<(u32, Vec<ParticipantId>)> = pca2["group-clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let pids = ids(&g["members"])
                .into_iter()
                .flat_map(|b| members[&b].iter().map(|&p| ParticipantId(p)))
                .collect();
            (g["id"].as_u64().unwrap() as u32, pids)
        })
        .collect();
    groups.sort_by_key(|g| g.0);
    Fixture {
        matrix,
        pca2,
        tids,
        mod_out,
        groups,
    }
}

/// Counts per group (bucket g = groups[g]) and per Polis tid, in tids order.
fn group_counts(f: &Fixture) -> Vec<Vec<Counts>> {
    let mut group_of = vec![None; f.matrix.n_participants()];
    for (g, (_, pids)) in f.groups.iter().enumerate() {
        for p in pids {
            group_of[f.matrix.row_of(*p).unwrap()] = Some(g);
        }
    }
    let tally = Tally::count(&f.matrix, f.groups.len(), |r| group_of[r]);
    (0..f.groups.len())
        .map(|g| {
            f.tids
                .iter()
                .map(|t| tally.get(g, f.matrix.column_of(*t).unwrap()))
                .collect()
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn check_group_votes(f: &Fixture, counts: &[Vec<Counts>]) -> usize {
    let mut mismatches = 0;
    for (g, (gid, _)) in f.groups.iter().enumerate() {
        let votes = &f.pca2["group-votes"][gid.to_string()]["votes"];
        for (i, t) in f.tids.iter().enumerate() {
            let v = &votes[t.0.to_string()];
            let c = counts[g][i];
            let theirs = (
                v["A"].as_u64().unwrap(),
                v["D"].as_u64().unwrap(),
                v["S"].as_u64().unwrap(),
            );
            if (u64::from(c.agree), u64::from(c.disagree), u64::from(c.seen)) != theirs {
                mismatches += 1;
            }
        }
    }
    mismatches
}

fn check_repness(f: &Fixture, counts: &[Vec<Counts>]) {
    let slices: Vec<&[Counts]> = counts.iter().map(Vec::as_slice).collect();
    let ours = representative_statements(&f.tids, &f.mod_out, &slices, 5);
    for (g, (gid, _)) in f.groups.iter().enumerate() {
        let theirs = f.pca2["repness"][gid.to_string()].as_array().unwrap();
        assert_eq!(
            ours[g].len(),
            theirs.len(),
            "group {gid}: number of representative statements"
        );
        for (o, t) in ours[g].iter().zip(theirs) {
            assert_eq!(
                u64::from(o.statement.0),
                t["tid"].as_u64().unwrap(),
                "group {gid}"
            );
            assert_eq!(u64::from(o.n_success), t["n-success"].as_u64().unwrap());
            assert_eq!(u64::from(o.n_trials), t["n-trials"].as_u64().unwrap());
            assert!(close(o.p_success, t["p-success"].as_f64().unwrap()));
            assert!(close(o.p_test, t["p-test"].as_f64().unwrap()));
            assert!(close(o.repness, t["repness"].as_f64().unwrap()));
            assert_eq!(o.repness_test, t["repness-test"].as_f64().unwrap() as f32);
            let repful = if o.repful_for == RepfulFor::Agree {
                "agree"
            } else {
                "disagree"
            };
            assert_eq!(repful, t["repful-for"].as_str().unwrap());
            assert_eq!(o.best_agree, t["best-agree"].as_bool().unwrap_or(false));
            assert_eq!(o.n_agree.map(u64::from), t["n-agree"].as_u64());
        }
    }
}

fn check_consensus(f: &Fixture) {
    let tally = Tally::count(&f.matrix, 1, |_| Some(0));
    let totals: Vec<Counts> = f
        .tids
        .iter()
        .map(|t| tally.get(0, f.matrix.column_of(*t).unwrap()))
        .collect();
    let ours = consensus_statements(&f.tids, &f.mod_out, &totals, 5);
    for (side, list) in [("agree", &ours.agree), ("disagree", &ours.disagree)] {
        let theirs = f.pca2["consensus"][side].as_array().unwrap();
        assert_eq!(list.len(), theirs.len(), "consensus {side}");
        for (o, t) in list.iter().zip(theirs) {
            assert_eq!(u64::from(o.statement.0), t["tid"].as_u64().unwrap());
            assert_eq!(u64::from(o.n_success), t["n-success"].as_u64().unwrap());
            assert_eq!(u64::from(o.n_trials), t["n-trials"].as_u64().unwrap());
            assert!(close(o.p_success, t["p-success"].as_f64().unwrap()));
            assert!(close(o.p_test, t["p-test"].as_f64().unwrap()));
        }
    }
}

fn check_gac_and_priorities(f: &Fixture, counts: &[Vec<Counts>], priorities: bool) {
    let extremity = f.pca2["pca"]["comment-extremity"].as_array().unwrap();
    for (i, t) in f.tids.iter().enumerate() {
        let per_group: Vec<Counts> = counts.iter().map(|g| g[i]).collect();
        let gac = group_aware(&per_group, |c| c.agree);
        let theirs = f.pca2["group-aware-consensus"][t.0.to_string()]
            .as_f64()
            .unwrap();
        assert!(close(gac, theirs), "tid {t}: gac {gac} vs {theirs}");
        if !priorities {
            continue;
        }
        let grouped = per_group.iter().fold(Counts::default(), |a, &b| a.plus(b));
        let meta = ids(&f.pca2["meta-tids"]).contains(&t.0);
        let p = priority(grouped, extremity[i].as_f64().unwrap(), meta);
        let theirs = f.pca2["comment-priorities"][t.0.to_string()]
            .as_f64()
            .unwrap();
        assert!(close(p, theirs), "tid {t}: priority {p} vs {theirs}");
    }
}

/// Polis's centre and components, turned into polder's sign and column order.
fn polis_geometry(f: &Fixture) -> (ColumnModel, [Vec<f64>; 2]) {
    let n = f.matrix.n_statements();
    let mut center = vec![0.0; n];
    let mut comps = [vec![0.0; n], vec![0.0; n]];
    for (i, t) in f.tids.iter().enumerate() {
        let c = f.matrix.column_of(*t).unwrap();
        center[c] = -f.pca2["pca"]["center"][i].as_f64().unwrap();
        for (k, comp) in comps.iter_mut().enumerate() {
            comp[c] = f.pca2["pca"]["comps"][k][i].as_f64().unwrap();
        }
    }
    let live = f
        .matrix
        .statements()
        .iter()
        .map(|s| !f.mod_out[f.tids.iter().position(|t| t == s).unwrap()])
        .collect();
    (ColumnModel { center, live }, comps)
}

fn check_projections(f: &Fixture) {
    let (columns, comps) = polis_geometry(f);
    let (projection, extremity) = project_statements(&columns, &comps);
    for (i, t) in f.tids.iter().enumerate() {
        let c = f.matrix.column_of(*t).unwrap();
        let theirs = f.pca2["pca"]["comment-extremity"][i].as_f64().unwrap();
        assert!(
            (extremity[c] - theirs).abs() < 1e-9,
            "tid {t}: extremity {} vs {theirs}",
            extremity[c]
        );
        for (k, ours) in projection[c].iter().enumerate() {
            let theirs = f.pca2["pca"]["comment-projection"][k][i].as_f64().unwrap();
            assert!((ours + theirs).abs() < 1e-9, "tid {t}: projection");
        }
    }
    // With fewer than 100 clustered participants each base cluster is one
    // participant, so its centre is that participant's projection.
    let base = &f.pca2["base-clusters"];
    let members = base["members"].as_array().unwrap();
    if members.iter().all(|m| m.as_array().unwrap().len() == 1) {
        let ours = project_participants(&f.matrix, &columns, &comps);
        for (b, m) in members.iter().enumerate() {
            let pid = ParticipantId(m[0].as_u64().unwrap() as u32);
            let row = f.matrix.row_of(pid).unwrap();
            for (k, axis) in ["x", "y"].into_iter().enumerate() {
                let theirs = base[axis][b].as_f64().unwrap();
                assert!(
                    (ours[row][k] + theirs).abs() < 1e-9,
                    "participant {pid} {axis}: {} vs {theirs}",
                    ours[row][k]
                );
            }
        }
    }
}

fn check_all(name: &str, priorities: bool) {
    let f = load(name);
    let counts = group_counts(&f);
    assert_eq!(check_group_votes(&f, &counts), 0, "group-votes differ");
    check_repness(&f, &counts);
    check_consensus(&f);
    check_gac_and_priorities(&f, &counts, priorities);
    check_projections(&f);
}

#[test]
fn below_100_participants_matches_polis_exactly() {
    check_all("below-100-ptpts", true);
}

#[test]
fn participants_150_matches_polis_exactly() {
    check_all("150ptpt-3gp-no-strict-no-meta", true);
}

/// In this fixture Polis gave every statement the meta priority (49)
/// although none is meta (`meta-tids` is empty); polder does not reproduce
/// that, so priorities are left out here. Everything else matches.
#[test]
fn participants_50_matches_polis_exactly_except_priorities() {
    check_all("50ptpt-3gp-strict-no-meta", false);
}
