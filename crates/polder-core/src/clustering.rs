//! Base clusters and opinion groups (polismath `conversation.clj`).
//!
//! Participants are first summarised by up to `base_k` (100) base clusters;
//! the opinion groups are then a weighted k-means over the base-cluster
//! centres for every k from 2 to `max_k`, the k with the best silhouette
//! winning, subject to a smoother that makes k change only after the same
//! new k has won `group_k_buffer` updates in a row. Every k-means warm-starts
//! from the previous update's clustering for the same k, which keeps group
//! ids stable.

use crate::kmeans::{self, Cluster};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A cluster as persisted between updates: members are external ids
/// (participant ids for base clusters, base-cluster ids for groups).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCluster<M> {
    /// Stable cluster id.
    pub id: u32,
    /// Centre at the time it was stored.
    pub center: [f64; 2],
    /// Member ids, ascending.
    pub members: Vec<M>,
}

/// Polis's group-count smoother state (`group-k-smoother`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KSmoother {
    /// The silhouette winner of the last update.
    pub last_k: Option<u32>,
    /// How many updates in a row `last_k` has won.
    pub last_k_count: u32,
    /// The number of groups currently shown.
    pub smoothed_k: Option<u32>,
}

impl KSmoother {
    /// Feeds this update's silhouette winner.
    pub fn next(self, this_k: u32, buffer: u32) -> KSmoother {
        let count = if self.last_k == Some(this_k) {
            self.last_k_count + 1
        } else {
            1
        };
        let smoothed = if count >= buffer {
            this_k
        } else {
            self.smoothed_k.unwrap_or(this_k)
        };
        KSmoother {
            last_k: Some(this_k),
            last_k_count: count,
            smoothed_k: Some(smoothed),
        }
    }
}

/// Maps stored clusters onto the current points (`ids` sorted ascending,
/// one per point), dropping members that are gone. Parallel over the
/// clusters: with a million clustered participants the binary searches
/// took ≈ 50 ms of an incremental update on one core.
pub(crate) fn to_point_clusters<M: Ord + Copy + Send + Sync>(
    stored: &[StoredCluster<M>],
    ids: &[M],
) -> Vec<Cluster> {
    stored
        .par_iter()
        .map(|s| Cluster {
            id: s.id,
            center: s.center,
            members: positions_of(&s.members, ids),
        })
        .collect()
}

/// Positions in `ids` (sorted ascending) of those `members` it holds.
fn positions_of<M: Ord>(members: &[M], ids: &[M]) -> Vec<u32> {
    let mut out = Vec::with_capacity(members.len());
    crate::lookup::each_position_of(members, ids, |at| out.push(at as u32));
    out
}

/// Turns clusters over points back into storable clusters over `ids`.
pub(crate) fn to_stored<M: Copy>(clusters: &[Cluster], ids: &[M]) -> Vec<StoredCluster<M>> {
    clusters
        .iter()
        .map(|c| StoredCluster {
            id: c.id,
            center: c.center,
            members: c.members.iter().map(|&m| ids[m as usize]).collect(),
        })
        .collect()
}

/// k-means from the previous clustering when there is one, else fresh.
pub(crate) fn warm_kmeans(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    previous: Vec<Cluster>,
    k: usize,
    max_iters: usize,
) -> Vec<Cluster> {
    let start = if previous.is_empty() {
        kmeans::first_distinct(points, k)
    } else {
        kmeans::clean_start(points, weights, previous, k)
    };
    kmeans::kmeans(points, weights, start, max_iters)
}

/// A fresh weighted clustering of the base-cluster centres into `k`
/// groups: k-means from Polis's start and from `group_starts` seeded
/// k-means++ starts, keeping the smallest within-group sum of squares
/// (the earliest start on a tie, so Polis's when it does as well).
///
/// Polis's start, the first `k` distinct base clusters, is a matter of
/// who voted first: on `canadian-electoral-reform` it splits the large
/// opinion group in two (within-group sum 1,608) where the best two-group
/// clustering separates the small one (1,148), and the silhouette then
/// prefers three groups. Ids of a k-means++ winner follow its members'
/// first base cluster, as Polis's fresh ids follow its start.
fn best_of_starts(
    centers: &[[f64; 2]],
    weights: &[f64],
    k: usize,
    config: &crate::config::MathConfig,
) -> Vec<Cluster> {
    let polis = kmeans::first_distinct(centers, k);
    let ending = |start: &[Cluster]| {
        kmeans::sum_of_squares_after(centers, Some(weights), start, config.group_iters)
    };
    let mut best: Option<(f64, Vec<Cluster>)> = None;
    for start in 0..config.group_starts {
        // A seed per (config seed, k, start): reproducible, independent.
        let seed = config.seed ^ ((k as u64) << 32) ^ start as u64;
        let candidate = kmeans::plus_plus_start(centers, Some(weights), k, seed);
        let sum = ending(&candidate);
        // A NaN sum never wins.
        // A NaN sum is never kept, so the kept one is never NaN.
        if !sum.is_nan() && best.as_ref().is_none_or(|(b, _)| sum < *b) {
            best = Some((sum, candidate));
        }
    }
    let run = |start| kmeans::kmeans(centers, Some(weights), start, config.group_iters);
    match best {
        Some((sum, start)) if sum < ending(&polis) => {
            let mut clusters = run(start);
            clusters.sort_by_key(|c| c.members.first().copied());
            for (id, c) in clusters.iter_mut().enumerate() {
                c.id = id as u32;
            }
            clusters
        }
        _ => run(polis),
    }
}

/// Largest k tried for the groups: `min(max_k, 2 + ⌊base clusters / 12⌋)`.
pub fn max_group_k(n_base_clusters: usize, max_k: usize) -> usize {
    max_k.min(2 + n_base_clusters / 12)
}

/// Mean silhouette of a clustering of `points` (every point counts once,
/// whatever its weight; a member of a singleton cluster scores 0).
pub fn silhouette(points: &[[f64; 2]], clusters: &[Cluster]) -> f64 {
    let dist = |a: u32, b: u32| {
        let (p, q) = (points[a as usize], points[b as usize]);
        ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
    };
    let mut total = 0.0;
    let mut n = 0usize;
    for own in clusters {
        for &m in &own.members {
            n += 1;
            if own.members.len() == 1 {
                continue;
            }
            let a = own
                .members
                .iter()
                .filter(|&&o| o != m)
                .map(|&o| dist(m, o))
                .sum::<f64>()
                / (own.members.len() - 1) as f64;
            let b = clusters
                .iter()
                .filter(|c| c.id != own.id && !c.members.is_empty())
                .map(|c| {
                    c.members.iter().map(|&o| dist(m, o)).sum::<f64>() / c.members.len() as f64
                })
                .fold(None, |best: Option<f64>, d| {
                    Some(best.map_or(d, |b| b.min(d)))
                });
            if let Some(b) = b {
                let denom = a.max(b);
                if denom > 0.0 {
                    total += (b - a) / denom;
                }
            }
        }
    }
    if n == 0 { 0.0 } else { total / n as f64 }
}

/// The candidate groupings, their silhouettes and the chosen k.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSelection {
    /// Clustering of the base clusters for each k tried.
    pub clusterings: BTreeMap<u32, Vec<Cluster>>,
    /// Silhouette of each clustering.
    pub silhouettes: BTreeMap<u32, f64>,
    /// Updated smoother.
    pub smoother: KSmoother,
    /// The k whose clustering is shown (None when there is nothing to cluster).
    pub chosen_k: Option<u32>,
}

/// Clusters the base-cluster centres for every k and chooses one.
pub(crate) fn select_groups(
    centers: &[[f64; 2]],
    weights: &[f64],
    base_ids: &[u32],
    previous: &BTreeMap<u32, Vec<StoredCluster<u32>>>,
    smoother: KSmoother,
    config: &crate::config::MathConfig,
) -> GroupSelection {
    let mut clusterings = BTreeMap::new();
    let mut silhouettes = BTreeMap::new();
    if centers.is_empty() {
        return GroupSelection {
            clusterings,
            silhouettes,
            smoother,
            chosen_k: None,
        };
    }
    for k in 2..=max_group_k(centers.len(), config.max_k) {
        let prev = previous
            .get(&(k as u32))
            .map(|s| to_point_clusters(s, base_ids))
            .unwrap_or_default();
        let clusters = if prev.is_empty() && config.group_starts > 0 {
            best_of_starts(centers, weights, k, config)
        } else {
            warm_kmeans(centers, Some(weights), prev, k, config.group_iters)
        };
        silhouettes.insert(k as u32, silhouette(centers, &clusters));
        clusterings.insert(k as u32, clusters);
    }
    // Ties go to the larger k, as Clojure's `max-key` returns the last maximum.
    let this_k = silhouettes
        .iter()
        .fold(None, |best: Option<(u32, f64)>, (&k, &s)| match best {
            Some((_, bs)) if s < bs => best,
            _ => Some((k, s)),
        })
        .map(|(k, _)| k);
    let Some(this_k) = this_k else {
        return GroupSelection {
            clusterings,
            silhouettes,
            smoother,
            chosen_k: None,
        };
    };
    let smoother = smoother.next(this_k, config.group_k_buffer);
    // Polis would fail if the smoothed k is no longer possible; polder shows
    // the silhouette winner in that case.
    let chosen = smoother
        .smoothed_k
        .filter(|k| clusterings.contains_key(k))
        .unwrap_or(this_k);
    GroupSelection {
        clusterings,
        silhouettes,
        smoother,
        chosen_k: Some(chosen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoother_needs_four_wins_in_a_row() {
        let mut s = KSmoother::default();
        s = s.next(3, 4);
        assert_eq!(s.smoothed_k, Some(3));
        for _ in 0..3 {
            s = s.next(2, 4);
            assert_eq!(s.smoothed_k, Some(3));
        }
        s = s.next(2, 4);
        assert_eq!(s.smoothed_k, Some(2));
    }

    #[test]
    fn silhouette_of_well_separated_pairs_is_high() {
        let pts = [[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]];
        let clusters = vec![
            Cluster {
                id: 0,
                center: [0.0, 0.5],
                members: vec![0, 1],
            },
            Cluster {
                id: 1,
                center: [10.0, 0.5],
                members: vec![2, 3],
            },
        ];
        let s = silhouette(&pts, &clusters);
        assert!(s > 0.85 && s <= 1.0, "{s}");
        let singletons: Vec<Cluster> = (0..4)
            .map(|i| Cluster {
                id: i,
                center: pts[i as usize],
                members: vec![i],
            })
            .collect();
        assert_eq!(silhouette(&pts, &singletons), 0.0);
    }

    #[test]
    fn members_are_found_sorted_or_not_and_gone_ones_dropped() {
        let ids: Vec<u32> = (0..5000).map(|i| i * 10 + (i % 7)).collect();
        let wanted: Vec<usize> = vec![0, 1, 2, 17, 18, 1000, 1001, 3999, 4999];
        let mut members: Vec<u32> = wanted.iter().map(|&i| ids[i]).collect();
        // Ids that are not among the points: before, between and after them.
        members.extend([1, 50_000, ids[30] + 1]);
        members.sort();
        let expected: Vec<u32> = wanted.iter().map(|&i| i as u32).collect();
        assert_eq!(positions_of(&members, &ids), expected);
        members.reverse();
        let mut found = positions_of(&members, &ids);
        found.sort();
        assert_eq!(found, expected);
        assert!(positions_of(&members, &[]).is_empty());
    }

    #[test]
    fn extra_starts_escape_a_poor_first_distinct_start() {
        // Points at the four corners of a wide rectangle. The first two are
        // the left corners, so Polis's start splits top from bottom, which
        // Lloyd's steps keep (each point is nearer its own row's centre);
        // the tight split is left from right.
        let corners = [[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]];
        let centers: Vec<[f64; 2]> = (0..20)
            .map(|i| {
                let c = corners[i % 4];
                [c[0] + (i / 4) as f64 * 0.01, c[1]]
            })
            .collect();
        let weights = vec![1.0; centers.len()];
        let ids: Vec<u32> = (0..centers.len() as u32).collect();
        let groups_of = |group_starts| {
            let config = crate::config::MathConfig {
                group_starts,
                max_k: 2,
                ..Default::default()
            };
            let none = BTreeMap::new();
            select_groups(
                &centers,
                &weights,
                &ids,
                &none,
                KSmoother::default(),
                &config,
            )
            .clusterings[&2]
                .clone()
        };
        let left = |c: &Cluster| c.members.iter().all(|&m| centers[m as usize][0] < 5.0);
        let top = |c: &Cluster| c.members.iter().all(|&m| centers[m as usize][1] > 0.5);
        let polis = groups_of(0);
        assert!(
            polis.iter().any(top),
            "the fixture should trap Polis's start"
        );
        let best = groups_of(8);
        assert!(best.iter().any(left) && !best.iter().any(top), "{best:?}");
        let sum = |c: &[Cluster]| kmeans::within_sum_of_squares(&centers, Some(&weights), c);
        assert!(sum(&best) < sum(&polis) / 10.0);
        // Ids follow the first member, as a fresh Polis start's do.
        assert_eq!(best[0].members[0], 0);
        assert_eq!(best.iter().map(|c| c.id).collect::<Vec<_>>(), vec![0, 1]);
    }

    #[test]
    fn max_k_grows_with_base_clusters() {
        assert_eq!(max_group_k(11, 5), 2);
        assert_eq!(max_group_k(12, 5), 3);
        assert_eq!(max_group_k(100, 5), 5);
    }
}
