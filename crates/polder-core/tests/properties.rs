//! Properties that must hold for any conversation.
//!
//! Conversations are drawn with a planted opinion structure (2–4 camps that
//! agree with "their" statements, some shared statements, passes and
//! missing votes), so that the groups are meaningful.
#![allow(clippy::unwrap_used)]

use polder_core::stats::adjusted_rand_index;
use polder_core::{
    MathConfig, MathState, ParticipantId, Report, ReportContext, StatementCatalog, StatementId,
    Vote, VoteEvent, VoteMatrix, update,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A conversation with `camps` planted opinion camps.
fn conversation(seed: u64, participants: u32, statements: u32, camps: u32) -> Vec<VoteEvent> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut events = Vec::new();
    let mut t = 0i64;
    for p in 0..participants {
        let camp = p % camps;
        let seen = rng.gen_range(3..=statements);
        for s in 0..statements {
            if rng.gen_range(0..statements) >= seen {
                continue;
            }
            // Statement s "belongs" to camp s % camps; every 5th is shared.
            let agree_p = if s % 5 == 4 {
                0.85
            } else if s % camps == camp {
                0.8
            } else {
                0.15
            };
            let r: f64 = rng.r#gen();
            let vote = if r < 0.1 {
                Vote::Pass
            } else if rng.r#gen::<f64>() < agree_p {
                Vote::Agree
            } else {
                Vote::Disagree
            };
            t += rng.gen_range(1..5_000);
            events.push(VoteEvent {
                participant: ParticipantId(p * 3 + 1),
                statement: StatementId(s * 2),
                vote,
                timestamp: t,
            });
        }
    }
    events
}

fn report_json(events: &[VoteEvent], config: &MathConfig) -> String {
    let matrix = VoteMatrix::from_events(events).unwrap();
    let result = update(
        &MathState::default(),
        &matrix,
        &StatementCatalog::new(),
        config,
    )
    .unwrap();
    let context = ReportContext {
        include_participants: true,
        ..Default::default()
    };
    serde_json::to_string(&Report::new(&result.analysis, &context)).unwrap()
}

/// Documented tolerances (ARCHITECTURE.md, invariants) for a two-camp
/// conversation whose incremental and full runs chose the same number of
/// groups.
///
/// The groups of the two runs agree at least this well (adjusted Rand index
/// over the participants both cluster). Not 1: k-means warm-started from an
/// earlier clustering can settle in another local optimum than a fresh
/// start, and the two optima differ by a few participants on the border
/// between the camps (`incremental_run_may_settle_in_another_k_means_optimum`).
/// A bound of 0.8 failed in 2 of 490 two-camp cases among 1,500 random
/// cases (lowest seen: 0.728); 0.6 keeps a margin below that.
const INCREMENTAL_MIN_ARI: f64 = 0.6;

/// Both runs' groups are equally good k-means solutions: the sum of squared
/// distances of the participants to their group's mean (positions and
/// participants of the full run) differs by at most this factor either way.
/// Seen over 500 random two-camp cases: 0.988 to 1.009. A warm start stuck
/// in a poor split is far outside (1.66 where the two runs chose different k).
const INCREMENTAL_MAX_SSE_RATIO: f64 = 1.05;

/// Each run recovers the planted camps at least this well (adjusted Rand
/// index against `p % 2`). Not 1 even for a single full run: with few
/// statements some participants vote like the other camp (lowest seen:
/// 0.718 over 500 random two-camp cases, with identical incremental and
/// full groups).
const PLANTED_MIN_ARI: f64 = 0.6;

/// Sum of squared distances of `rows` to the mean of their label.
fn within_group_sse(points: &[[f64; 2]], rows: &[usize], labels: &[u32]) -> f64 {
    let mut sums: std::collections::BTreeMap<u32, (f64, f64, f64)> = Default::default();
    for (&r, &l) in rows.iter().zip(labels) {
        let e = sums.entry(l).or_default();
        e.0 += points[r][0];
        e.1 += points[r][1];
        e.2 += 1.0;
    }
    rows.iter()
        .zip(labels)
        .map(|(&r, l)| {
            let (x, y, n) = sums[l];
            (points[r][0] - x / n).powi(2) + (points[r][1] - y / n).powi(2)
        })
        .sum()
}

/// The planted camp of each participant (`conversation` numbers participant
/// `p` as id `3p + 1`, camp `p % camps`).
fn planted_camp(id: ParticipantId, camps: u32) -> u32 {
    ((id.0 - 1) / 3) % camps
}

/// How an incremental run (votes up to `cut` of the events, then the rest)
/// and a full run compare on the groups.
struct GroupComparison {
    incremental: polder_core::Analysis,
    full: polder_core::Analysis,
    /// Rows both runs put in a group.
    rows: Vec<usize>,
    /// Group id of each of `rows`, each way.
    incremental_labels: Vec<u32>,
    full_labels: Vec<u32>,
}

impl GroupComparison {
    fn new(
        events: &[VoteEvent],
        cut: f64,
        config: &MathConfig,
    ) -> (GroupComparison, polder_core::Update) {
        let at = ((events.len() as f64) * cut) as usize;
        let catalog = StatementCatalog::new();
        let first = VoteMatrix::from_events(&events[..at]).unwrap();
        let step = update(&MathState::default(), &first, &catalog, config).unwrap();
        let both = first.with_events(&events[at..]).unwrap();
        let incremental = update(&step.state, &both, &catalog, config)
            .unwrap()
            .analysis;
        let whole = VoteMatrix::from_events(events).unwrap();
        assert_eq!(both, whole);
        let full = update(&MathState::default(), &whole, &catalog, config)
            .unwrap()
            .analysis;
        let (gi, gf) = (incremental.group_ids(), full.group_ids());
        let rows: Vec<usize> = (0..gf.len())
            .filter(|&r| gi[r].is_some() && gf[r].is_some())
            .collect();
        let incremental_labels = rows.iter().map(|&r| gi[r].unwrap()).collect();
        let full_labels = rows.iter().map(|&r| gf[r].unwrap()).collect();
        (
            GroupComparison {
                incremental,
                full,
                rows,
                incremental_labels,
                full_labels,
            },
            step,
        )
    }

    fn ari(&self) -> f64 {
        adjusted_rand_index(&self.incremental_labels, &self.full_labels)
    }

    /// Incremental SSE over full SSE, both on the full run's positions.
    fn sse_ratio(&self) -> f64 {
        let p = &self.full.projections;
        within_group_sse(p, &self.rows, &self.incremental_labels)
            / within_group_sse(p, &self.rows, &self.full_labels)
    }

    /// ARI of (incremental, full) against the planted camps.
    fn planted_ari(&self, camps: u32) -> (f64, f64) {
        let planted: Vec<u32> = self
            .rows
            .iter()
            .map(|&r| planted_camp(self.full.participants[r], camps))
            .collect();
        (
            adjusted_rand_index(&self.incremental_labels, &planted),
            adjusted_rand_index(&self.full_labels, &planted),
        )
    }
}

fn small_conversation() -> impl Strategy<Value = (u64, u32, u32, u32)> {
    (any::<u64>(), 60u32..200, 10u32..30, 2u32..5)
}

proptest! {
    // A fixed seed keeps CI reproducible. A random seed once found (seed
    // 9691532121616070984, n 65, s 16, k 2, cut 0.308) an ARI of 0.745
    // between incremental and full groups; it is explained, not a bug, and
    // kept as `incremental_run_may_settle_in_another_k_means_optimum`.
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(20261202), ..ProptestConfig::default() })]

    #[test]
    fn input_order_changes_nothing((seed, n, s, k) in small_conversation(), shuffle in any::<u64>()) {
        let events = conversation(seed, n, s, k);
        let mut shuffled = events.clone();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(shuffle);
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.gen_range(0..=i));
        }
        let config = MathConfig::default();
        prop_assert_eq!(report_json(&events, &config), report_json(&shuffled, &config));
    }

    #[test]
    fn every_clustered_participant_is_in_exactly_one_group((seed, n, s, k) in small_conversation()) {
        let events = conversation(seed, n, s, k);
        let matrix = VoteMatrix::from_events(&events).unwrap();
        let a = update(&MathState::default(), &matrix, &StatementCatalog::new(), &MathConfig::default()).unwrap().analysis;
        let mut seen = vec![0usize; a.participants.len()];
        for group in &a.groups {
            for b in &group.base_clusters {
                let base = a.base_clusters.iter().find(|c| c.id == *b).unwrap();
                for &row in &base.members {
                    seen[row as usize] += 1;
                }
            }
        }
        for (row, &times) in seen.iter().enumerate() {
            prop_assert_eq!(times, usize::from(a.in_conv[row]), "row {}", row);
            prop_assert_eq!(a.group_of[row].is_some(), a.in_conv[row]);
        }
        let sizes: usize = a.groups.iter().map(|g| g.size).sum();
        prop_assert_eq!(sizes, a.n_in_conv());
    }

    #[test]
    fn probabilities_lie_in_the_unit_interval((seed, n, s, k) in small_conversation()) {
        let events = conversation(seed, n, s, k);
        let matrix = VoteMatrix::from_events(&events).unwrap();
        let a = update(&MathState::default(), &matrix, &StatementCatalog::new(), &MathConfig::default()).unwrap().analysis;
        let report = Report::new(&a, &ReportContext::default());
        let unit = |x: f64| (0.0..=1.0).contains(&x);
        for g in &report.groups {
            for r in &g.representative {
                prop_assert!(unit(r.p_success) && unit(r.group_agree) && unit(r.others_agree));
                prop_assert!(unit(r.group_disagree) && unit(r.others_disagree));
            }
        }
        for c in report.consensus.agree.iter().chain(&report.consensus.disagree) {
            prop_assert!(unit(c.p_success) && c.p_success > 0.5);
        }
        for e in report.consensus.group_aware_agree.iter().chain(&report.consensus.group_aware_disagree) {
            prop_assert!(unit(e.score) && unit(e.weakest_group));
        }
        for st in &report.statements {
            prop_assert!(unit(st.group_aware_consensus[0]) && unit(st.group_aware_consensus[1]));
            prop_assert!(st.priority >= 0.0 && st.priority.is_finite());
        }
    }

    /// Votes A then B in two updates, against A + B in one. What may differ
    /// is what the state carries on purpose (documented in ARCHITECTURE.md):
    /// the clustered set only grows, and k-means starts from the previous
    /// clusters. The group-count smoother, which delays changes of k on
    /// purpose, is switched off here.
    #[test]
    fn incremental_update_matches_a_full_run((seed, n, s, k) in small_conversation(), cut in 0.2f64..0.8) {
        let events = conversation(seed, n, s, k);
        let config = MathConfig { group_k_buffer: 1, ..MathConfig::default() };
        let (cmp, _) = GroupComparison::new(&events, cut, &config);
        let (incremental, full) = (&cmp.incremental, &cmp.full);

        // Consensus depends on the votes alone.
        prop_assert_eq!(&incremental.consensus, &full.consensus);
        // Same principal subspace: the variance captured agrees closely.
        for c in 0..2 {
            let (a, b) = (incremental.explained_variance[c], full.explained_variance[c]);
            prop_assert!((a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1e-9), "component {}: {} vs {}", c, a, b);
        }
        // The clustered set only grows.
        for row in 0..full.participants.len() {
            prop_assert!(!full.in_conv[row] || incremental.in_conv[row]);
        }
        // Groups. Warm-started k-means may settle in another local optimum
        // than a fresh start (this path dependence is Polis's, and why
        // fidelity needs a replay), and a near tie of silhouettes may pick
        // another k; across different k nothing is claimed. With the same
        // k on a two-camp conversation: both runs' groups are equally good
        // k-means solutions, both find the camps, and they mostly agree.
        if k == 2 && incremental.groups.len() == full.groups.len() {
            let ratio = cmp.sse_ratio();
            prop_assert!(
                (1.0 / INCREMENTAL_MAX_SSE_RATIO..=INCREMENTAL_MAX_SSE_RATIO).contains(&ratio),
                "within-group SSE incremental / full = {}", ratio
            );
            if full.groups.len() == 2 {
                let (pi, pf) = cmp.planted_ari(k);
                prop_assert!(pi >= PLANTED_MIN_ARI && pf >= PLANTED_MIN_ARI, "ARI against the camps: incremental {}, full {}", pi, pf);
            }
            let ari = cmp.ari();
            prop_assert!(ari >= INCREMENTAL_MIN_ARI, "ARI {} between incremental and full", ari);
        }
    }
}

/// The case a random proptest seed once found (seed 9691532121616070984,
/// n 65, s 16, k 2, cut 0.308): incremental and full groups agree with an
/// ARI of only 0.745, below the 0.8 the property used to claim. Not a bug:
///
/// - both runs see the same geometry (components equal up to sign, the
///   positions to 1e-14) and both choose k = 2 (silhouette 0.513 and 0.516);
/// - the incremental run clusters one participant more (46 against 45): the
///   first update's greedy fill to 15 took a participant with 6 votes, and
///   the clustered set only grows (Polis `in-conv`); this does not matter
///   here, as a fresh start on the incremental run's points finds the full
///   run's groups;
/// - both groupings are k-means fixed points (every base cluster is nearest
///   to its own group's centre); they differ on three participants of the
///   border between the camps (PC1 ≈ 0.2): two of camp 1 and one of camp 0;
/// - the warm start (from the first update's split of 15 participants) ends
///   in the *better* optimum: on the full run's positions its within-group
///   SSE is lower than the fresh start's. The fresh start's groups happen to
///   be exactly the planted camps (ARI 1.0) but are only a local optimum;
///   the incremental groups match the camps with ARI 0.745.
///
/// So this is path dependence of warm-started k-means (Polis's own) with a
/// planted structure that is not the k-means optimum at n = 65.
#[test]
fn incremental_run_may_settle_in_another_k_means_optimum() {
    let (seed, n, s, k) = (9691532121616070984u64, 65u32, 16u32, 2u32);
    let events = conversation(seed, n, s, k);
    let config = MathConfig {
        group_k_buffer: 1,
        ..MathConfig::default()
    };
    let (cmp, step) = GroupComparison::new(&events, 0.308, &config);
    let (inc, full) = (&cmp.incremental, &cmp.full);
    let describe = |name: &str, a: &polder_core::Analysis| {
        println!(
            "{name}: {} groups, sizes {:?}, silhouettes {:?}, {} base clusters, {} clustered",
            a.groups.len(),
            a.groups.iter().map(|g| g.size).collect::<Vec<_>>(),
            a.silhouettes,
            a.base_clusters.len(),
            a.n_in_conv()
        );
    };
    describe("first update", &step.analysis);
    describe("incremental", inc);
    describe("full", full);
    let (pi, pf) = cmp.planted_ari(k);
    let (ari, ratio) = (cmp.ari(), cmp.sse_ratio());
    println!(
        "ARI incremental/full {ari:.3}; against the camps: incremental {pi:.3}, full {pf:.3}; SSE ratio {ratio:.4}"
    );

    assert!((ari - 0.745).abs() < 1e-3, "{ari}");
    assert_eq!((inc.groups.len(), full.groups.len()), (2, 2));
    assert_eq!((inc.n_in_conv(), full.n_in_conv()), (46, 45));
    assert_eq!(pf, 1.0);
    assert!((pi - 0.745).abs() < 1e-3, "{pi}");
    // The incremental groups are the better k-means solution, not a worse one.
    assert!(
        ratio < 1.0 && ratio > 1.0 / INCREMENTAL_MAX_SSE_RATIO,
        "{ratio}"
    );
    for a in [inc, full] {
        let centers: Vec<[f64; 2]> = a.base_clusters.iter().map(|b| b.center).collect();
        let groups = &a.group_clusterings[&2];
        let d2 = |p: [f64; 2], q: [f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
        for g in groups {
            for &m in &g.members {
                let p = centers[m as usize];
                assert!(
                    groups.iter().all(|o| d2(p, g.center) <= d2(p, o.center)),
                    "not a k-means fixed point"
                );
            }
        }
    }
    // The extra clustered participant is not the cause: a fresh start on
    // the incremental run's points finds the full run's groups.
    let points: Vec<[f64; 2]> = inc.base_clusters.iter().map(|b| b.center).collect();
    let weights: Vec<f64> = inc
        .base_clusters
        .iter()
        .map(|b| b.members.len() as f64)
        .collect();
    let fresh = polder_core::kmeans::kmeans(
        &points,
        Some(&weights),
        polder_core::kmeans::first_distinct(&points, 2),
        config.group_iters,
    );
    let gf = full.group_ids();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for c in &fresh {
        for &m in &c.members {
            for &row in &inc.base_clusters[m as usize].members {
                if let Some(g) = gf[row as usize] {
                    a.push(c.id);
                    b.push(g);
                }
            }
        }
    }
    assert_eq!(adjusted_rand_index(&a, &b), 1.0);
    // The property's bounds still hold for this case.
    assert!(ari >= INCREMENTAL_MIN_ARI && pi >= PLANTED_MIN_ARI);
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let events = conversation(7, 3_000, 60, 3);
    let config = MathConfig::default();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| report_json(&events, &config))
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(5));
}

#[test]
fn same_seed_same_bytes_and_seeds_only_change_the_start() {
    let events = conversation(11, 400, 25, 3);
    let a = report_json(&events, &MathConfig::default());
    assert_eq!(a, report_json(&events, &MathConfig::default()));
    // A different seed changes only the PCA start vector; signs are
    // normalised on a fresh start, so the groups come out the same.
    let other = MathConfig {
        seed: 12345,
        ..MathConfig::default()
    };
    let ra: Report = serde_json::from_str(&a).unwrap();
    let rb: Report = serde_json::from_str(&report_json(&events, &other)).unwrap();
    let sizes = |r: &Report| r.groups.iter().map(|g| g.size).collect::<Vec<_>>();
    assert_eq!(sizes(&ra), sizes(&rb));
}
