//! k-means in the plane, the way Polis runs it (polismath `clusters.clj`).
//!
//! This is Lloyd's algorithm with Polis's particular rules, which matter for
//! reproducing its groups and for keeping group ids stable over time:
//! - a fresh start takes the first `k` distinct points as centres;
//! - a warm start recentres last update's clusters on their members' new
//!   positions, drops the empty ones, merges identical ones, and splits off
//!   the most distant point until there are `k` clusters (or as many as
//!   there are distinct points);
//! - clusters that end up empty are dropped, so fewer than `k` may remain;
//! - iteration stops when the sorted centres move by less than 0.01, or
//!   after `max_iters` further steps;
//! - centres are weighted means when weights are given.
//!
//! linfa-clustering's `KMeans` was considered and does not fit: it has no
//! sample weights, updates centres by the m_k-means rule, keeps empty
//! clusters, and panics on a warm start of the wrong shape. The tests below
//! use it as an oracle where the two agree (unweighted, no empty clusters).

mod grid;
mod tiles;

use crate::parallel;
use grid::{CentreGrid, GridBox};
use rayon::prelude::*;
use std::collections::HashSet;
use tiles::Tiles;

/// A cluster of points; `members` index the point slice it was built on.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Stable id; warm starts carry it over, new clusters get max + 1.
    pub id: u32,
    /// Weighted mean of the members.
    pub center: [f64; 2],
    /// Point indices, ascending.
    pub members: Vec<u32>,
}

/// Movement below which Polis considers a clustering settled.
const SAME_CLUSTERING: f64 = 0.01;

fn distance2(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dx = a[0] - b[0];
    let dy = a[1] - b[1];
    dx * dx + dy * dy
}

/// Bit pattern of a point for distinctness; -0.0 and 0.0 count as equal.
fn point_key(p: [f64; 2]) -> (u64, u64) {
    ((p[0] + 0.0).to_bits(), (p[1] + 0.0).to_bits())
}

/// Number of distinct points, counting no further than `cap`.
pub fn distinct_points(points: &[[f64; 2]], cap: usize) -> usize {
    let mut seen = HashSet::new();
    for &p in points {
        if seen.len() >= cap {
            break;
        }
        seen.insert(point_key(p));
    }
    seen.len()
}

/// Fresh start: the first `k` distinct points, ids 0, 1, ….
pub fn first_distinct(points: &[[f64; 2]], k: usize) -> Vec<Cluster> {
    let mut seen = HashSet::new();
    let mut clusters = Vec::new();
    for &p in points {
        if clusters.len() >= k {
            break;
        }
        if seen.insert(point_key(p)) {
            clusters.push(Cluster {
                id: clusters.len() as u32,
                center: p,
                members: Vec::new(),
            });
        }
    }
    clusters
}

/// A seeded k-means++ start (Arthur and Vassilvitskii): the first centre
/// drawn with probability proportional to the weight, each next one
/// proportional to the weight times the squared distance to the nearest
/// centre drawn so far; ids 0, 1, …. Fewer than `k` centres when fewer
/// points are apart from the ones drawn.
pub fn plus_plus_start(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    k: usize,
    seed: u64,
) -> Vec<Cluster> {
    use rand::Rng;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut nearest = vec![f64::INFINITY; points.len()];
    let mut clusters: Vec<Cluster> = Vec::new();
    while clusters.len() < k {
        let score = |i: usize| {
            let w = weight(weights, i as u32);
            if clusters.is_empty() {
                w
            } else {
                w * nearest[i]
            }
        };
        let total: f64 = (0..points.len()).map(score).sum();
        if !(total > 0.0 && total.is_finite()) {
            break;
        }
        let mut pick = rng.r#gen::<f64>() * total;
        let mut chosen = None;
        for i in 0..points.len() {
            let s = score(i);
            if s > 0.0 {
                chosen = Some(i);
                if pick < s {
                    break;
                }
                pick -= s;
            }
        }
        let Some(i) = chosen else { break };
        let center = points[i];
        for (d, &p) in nearest.iter_mut().zip(points) {
            *d = d.min(distance2(p, center));
        }
        clusters.push(Cluster {
            id: clusters.len() as u32,
            center,
            members: Vec::new(),
        });
    }
    clusters
}

/// The weighted within-cluster sum of squares that [`kmeans`] from `start`
/// ends with, by a plain sequential Lloyd's loop with the same steps and
/// stopping rule: for ranking many starts on a few points (base-cluster
/// centres), where the machinery that makes [`kmeans`] fast on a million
/// points is only overhead.
pub fn sum_of_squares_after(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    start: &[Cluster],
    max_iters: usize,
) -> f64 {
    if start.is_empty() {
        return f64::INFINITY;
    }
    let mut centres: Vec<[f64; 2]> = start.iter().map(|c| c.center).collect();
    let mut owner = vec![0usize; points.len()];
    let mut remaining = max_iters;
    loop {
        for (o, &p) in owner.iter_mut().zip(points) {
            *o = nearest(p, &centres);
        }
        let mut sums = vec![[0.0f64; 3]; centres.len()];
        for (i, (&o, &p)) in owner.iter().zip(points).enumerate() {
            let w = weight(weights, i as u32);
            sums[o][0] += w * p[0];
            sums[o][1] += w * p[1];
            sums[o][2] += w;
        }
        let mut kept = vec![usize::MAX; centres.len()];
        let mut after = Vec::with_capacity(centres.len());
        for (c, s) in sums.iter().enumerate() {
            if s[2] > 0.0 {
                kept[c] = after.len();
                after.push([s[0] / s[2], s[1] / s[2]]);
            }
        }
        let settled = remaining == 0 || same_clustering(&centres, &after);
        centres = after;
        if settled {
            return owner
                .iter()
                .zip(points)
                .enumerate()
                .map(|(i, (&o, &p))| weight(weights, i as u32) * distance2(p, centres[kept[o]]))
                .sum();
        }
        remaining -= 1;
    }
}

/// Weighted sum of squared distances from each member to its centre, the
/// quantity Lloyd's steps lower.
pub fn within_sum_of_squares(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    clusters: &[Cluster],
) -> f64 {
    clusters
        .iter()
        .flat_map(|c| {
            c.members
                .iter()
                .map(move |&m| weight(weights, m) * distance2(points[m as usize], c.center))
        })
        .sum()
}

fn weight(weights: Option<&[f64]>, i: u32) -> f64 {
    weights.map_or(1.0, |w| w[i as usize])
}

fn weighted_center(points: &[[f64; 2]], weights: Option<&[f64]>, members: &[u32]) -> [f64; 2] {
    let (mut x, mut y, mut total) = (0.0, 0.0, 0.0);
    for &m in members {
        let w = weight(weights, m);
        x += w * points[m as usize][0];
        y += w * points[m as usize][1];
        total += w;
    }
    [x / total, y / total]
}

/// Warm start from last update's clusters, whose `members` have already
/// been mapped to indices of `points` (members that left are dropped).
pub fn clean_start(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    previous: Vec<Cluster>,
    k: usize,
) -> Vec<Cluster> {
    let max_previous_id = previous.iter().map(|c| c.id).max();
    let mut clusters: Vec<Cluster> = previous
        .into_iter()
        .filter(|c| !c.members.is_empty())
        .collect();
    if clusters.is_empty() {
        if points.is_empty() {
            return Vec::new();
        }
        let members: Vec<u32> = (0..points.len() as u32).collect();
        return vec![Cluster {
            id: max_previous_id.map_or(0, |m| m + 1),
            center: weighted_center(points, weights, &members),
            members,
        }];
    }
    // In parallel over the clusters: with a million points the members'
    // scattered positions take a while to read.
    let recentre = |clusters: &mut [Cluster]| {
        clusters
            .par_iter_mut()
            .for_each(|c| c.center = weighted_center(points, weights, &c.members));
    };
    recentre(&mut clusters);

    // Merge clusters whose centres coincide; the bigger one lends its id
    // (on a tie, the later one, as Polis's `max-key` does). Centres are
    // compared as they were before any merge, and the merged ones are
    // recentred after.
    let mut unique: Vec<Cluster> = Vec::with_capacity(clusters.len());
    let mut merged = Vec::new();
    for c in clusters {
        if let Some(at) = unique.iter().position(|u| u.center == c.center) {
            let same = &mut unique[at];
            if c.members.len() >= same.members.len() {
                same.id = c.id;
            }
            same.members.extend(c.members);
            same.members.sort_unstable();
            merged.push(at);
        } else {
            unique.push(c);
        }
    }
    let mut clusters = unique;
    merged.dedup();
    for at in merged {
        clusters[at].center = weighted_center(points, weights, &clusters[at].members);
    }

    let possible = k.min(distinct_points(points, k));
    let mut split = false;
    loop {
        if split {
            clusters.retain(|c| !c.members.is_empty());
            recentre(&mut clusters);
        }
        if clusters.len() >= possible {
            return clusters;
        }
        let (dist2, outlier) = most_distal(points, &clusters);
        if dist2 <= 0.0 {
            return clusters;
        }
        for c in &mut clusters {
            c.members.retain(|&m| m != outlier);
        }
        let id = clusters.iter().map(|c| c.id).max().map_or(0, |m| m + 1);
        clusters.push(Cluster {
            id,
            center: points[outlier as usize],
            members: vec![outlier],
        });
        split = true;
    }
}

/// The point farthest from its nearest centre (ties: the last such point).
fn most_distal(points: &[[f64; 2]], clusters: &[Cluster]) -> (f64, u32) {
    points
        .par_iter()
        .with_min_len(parallel::MIN_ITEMS_PER_TASK)
        .enumerate()
        .map(|(i, &p)| {
            let d = clusters
                .iter()
                .map(|c| distance2(p, c.center))
                .fold(f64::INFINITY, f64::min);
            (d, i as u32)
        })
        .reduce(
            || (f64::NEG_INFINITY, 0),
            |a, b| {
                if b.0 > a.0 || (b.0 == a.0 && b.1 > a.1) {
                    b
                } else {
                    a
                }
            },
        )
}

/// Index (into `clusters`) of the nearest centre; ties go to the last, as
/// Clojure's `min-key` does. The reference the faster searches are tested
/// against, and the search of [`sum_of_squares_after`].
fn nearest(p: [f64; 2], clusters: &[[f64; 2]]) -> usize {
    let mut best = 0;
    let mut best_d = f64::INFINITY;
    for (i, &c) in clusters.iter().enumerate() {
        let d = distance2(p, c);
        if d <= best_d {
            best = i;
            best_d = d;
        }
    }
    best
}

/// Below this many centres a plain scan beats sorting them.
const INDEXED_CENTRES: usize = 16;

/// Centres sorted by x, for a nearest-centre search that visits centres
/// outwards from the point's x and stops on each side once the squared x
/// distance alone exceeds the best squared distance found. It returns
/// exactly what `nearest` returns, ties included: rounding is monotonic,
/// so a centre whose `dx²` already exceeds the best cannot reach it with
/// `dx² + dy²`, and among equal distances the largest index is kept.
struct CentresByX {
    xs: Vec<f64>,
    order: Vec<u32>,
}

impl CentresByX {
    fn new(centers: &[[f64; 2]]) -> Self {
        let mut order: Vec<u32> = (0..centers.len() as u32).collect();
        order.sort_by(|&a, &b| {
            centers[a as usize][0]
                .total_cmp(&centers[b as usize][0])
                .then(a.cmp(&b))
        });
        let xs = order.iter().map(|&i| centers[i as usize][0]).collect();
        CentresByX { xs, order }
    }

    /// Index of the nearest centre (as `nearest`), its squared distance
    /// and the smallest squared distance to any other centre. A side of
    /// the search stops once `dx²` exceeds the second-best distance, beyond
    /// which no centre can be nearest, tie, or second.
    fn nearest_two(&self, p: [f64; 2], centers: &[[f64; 2]]) -> (usize, f64, f64) {
        let n = self.xs.len();
        let mut best = Best::new();
        let start = self.xs.partition_point(|&x| x < p[0]);
        let (mut up, mut down) = (start, start);
        loop {
            let mut moved = false;
            if up < n {
                let dx = self.xs[up] - p[0];
                if dx * dx <= best.second_d {
                    let i = self.order[up] as usize;
                    best.consider(i, distance2(p, centers[i]));
                    up += 1;
                    moved = true;
                } else {
                    up = n;
                }
            }
            if down > 0 {
                let dx = p[0] - self.xs[down - 1];
                if dx * dx <= best.second_d {
                    let i = self.order[down - 1] as usize;
                    best.consider(i, distance2(p, centers[i]));
                    down -= 1;
                    moved = true;
                } else {
                    down = 0;
                }
            }
            if !moved {
                break;
            }
        }
        best.result()
    }

    #[cfg(test)]
    fn nearest(&self, p: [f64; 2], centers: &[[f64; 2]]) -> usize {
        self.nearest_two(p, centers).0
    }
}

/// The nearest and second-nearest distance among the centres seen so far,
/// in any order, with `nearest`'s tie rule (the largest index wins).
struct Best {
    index: usize,
    d: f64,
    second_d: f64,
}

impl Best {
    fn new() -> Self {
        Best {
            index: usize::MAX,
            d: f64::INFINITY,
            second_d: f64::INFINITY,
        }
    }

    #[inline]
    fn consider(&mut self, i: usize, d: f64) {
        if d < self.d || (d == self.d && i > self.index) {
            if self.index != usize::MAX {
                self.second_d = self.second_d.min(self.d);
            }
            self.index = i;
            self.d = d;
        } else {
            self.second_d = self.second_d.min(d);
        }
    }

    fn result(&self) -> (usize, f64, f64) {
        // No finite distance (a NaN point): `nearest` falls back to 0 too.
        if self.index == usize::MAX {
            (0, f64::INFINITY, f64::INFINITY)
        } else {
            (self.index, self.d, self.second_d)
        }
    }
}

/// Nearest and second-nearest by a plain scan, for few centres.
fn nearest_two(p: [f64; 2], centers: &[[f64; 2]]) -> (usize, f64, f64) {
    let mut best = Best::new();
    for (i, &c) in centers.iter().enumerate() {
        best.consider(i, distance2(p, c));
    }
    best.result()
}

/// Hamerly's bounds for one point: its centre (a slot, see [`kmeans`]),
/// an upper bound on the distance to that centre and a lower bound on the
/// distance to every other centre. They are stored relative to [`Drift`]:
/// `upper` less the total distance the centre had moved when the bounds
/// were set, `lower` plus the total of the largest moves of the others.
/// Adding the totals of a later step back (see [`Drift::carry`]) gives
/// bounds valid at that step, by the triangle inequality step by step,
/// without touching the point and without remembering when the bounds were
/// set: while the upper bound stays below the lower one, or below half the
/// distance from its centre to the next, the point cannot change centre.
/// Kept as `f32` (upper rounded up, lower rounded down, so they stay
/// bounds) because the pass over the bounds is what a step costs on a
/// million points: 12 bytes a point. Storing offsets costs precision only
/// where a centre has travelled far compared to the distances of its
/// points; the bounds then prove less and more points are re-checked, but
/// they stay bounds.
#[derive(Debug, Clone, Copy)]
struct Bound {
    center: u32,
    upper: f32,
    lower: f32,
}

fn round_up(x: f64) -> f32 {
    let y = x as f32;
    if f64::from(y) < x { y.next_up() } else { y }
}

fn round_down(x: f64) -> f32 {
    let y = x as f32;
    if f64::from(y) > x { y.next_down() } else { y }
}

/// Relative margin by which a bound must win before a point is skipped.
/// The bounds are sums of rounded square roots, off by a few ulps after a
/// hundred iterations; 1e-9 is far above that and far below any distance
/// that matters, so a skipped point is one whose nearest centre is certain
/// and unique, and the assignment equals Lloyd's exactly, ties included.
const BOUND_MARGIN: f64 = 1e-9;

fn clearly_below(upper: f64, bound: f64) -> bool {
    upper * (1.0 + BOUND_MARGIN) < bound * (1.0 - BOUND_MARGIN)
}

/// How far the centres have moved since the first step: `own[c]` is the
/// total distance slot `c` moved, `others[c]` the total over the steps of
/// the largest move of any other slot. Rounding of these sums is absorbed
/// by `BOUND_MARGIN`.
struct Drift {
    own: Vec<f64>,
    others: Vec<f64>,
    /// Steps recorded so far.
    steps: usize,
}

impl Drift {
    fn new(k: usize) -> Self {
        Drift {
            own: vec![0.0; k],
            others: vec![0.0; k],
            steps: 0,
        }
    }

    /// Records one step's moves (0 for slots that did not move or died).
    /// A move that is not finite — a centre that was NaN — counts as
    /// infinite, so that no bound survives it.
    fn push(&mut self, moves: &[f64]) {
        let (mut first, mut first_at, mut second) = (0.0f64, usize::MAX, 0.0f64);
        let moves: Vec<f64> = moves
            .iter()
            .map(|&m| if m.is_finite() { m } else { f64::INFINITY })
            .collect();
        for (c, &m) in moves.iter().enumerate() {
            if m > first {
                second = first;
                first = m;
                first_at = c;
            } else if m > second {
                second = m;
            }
        }
        let totals = self.own.iter_mut().zip(&mut self.others);
        for (c, ((own, others), &m)) in totals.zip(&moves).enumerate() {
            *own += m;
            *others += if c == first_at { second } else { first };
        }
        self.steps += 1;
    }

    /// Stores bounds valid now for a point of slot `center`.
    #[inline]
    fn set(&self, b: &mut Bound, center: usize, upper: f64, lower: f64) {
        b.center = center as u32;
        b.upper = round_up(upper - self.own[center]);
        b.lower = round_down(lower + self.others[center]);
    }

    /// The point's bounds carried to the latest step.
    #[inline]
    fn carry(&self, b: &Bound) -> (f64, f64) {
        let c = b.center as usize;
        let upper = f64::from(b.upper) + self.own[c];
        let lower = f64::from(b.lower) - self.others[c];
        (upper, lower)
    }
}

/// Fixed-point coordinates for the centre sums of unweighted k-means.
///
/// Integer sums are exact in any order, so a step can update them by the
/// points that changed centre alone, instead of adding up every point
/// again: on a million points most of them keep their centre. Coordinates
/// are scaled by a power of two that brings the largest to 2⁵², so the
/// quantisation is below the rounding of the coordinates themselves.
#[derive(Debug, Clone, Copy)]
struct FixedPoint {
    scale: f64,
}

impl FixedPoint {
    fn for_points(points: &[[f64; 2]]) -> Self {
        let largest = points
            .iter()
            .flat_map(|p| p.iter())
            .filter(|x| x.is_finite())
            .fold(0.0f64, |m, x| m.max(x.abs()));
        // Clamped so that the scale stays finite for points all below
        // 2⁻⁹⁶⁰ (they then share one fixed-point value, 0).
        let exponent = if largest > 0.0 {
            (largest.log2().ceil() as i32).max(-960)
        } else {
            0
        };
        FixedPoint {
            scale: 2f64.powi(52 - exponent),
        }
    }

    /// `p` in fixed point (NaN counts as 0, as `as` casts it).
    #[inline]
    fn quantise(self, p: [f64; 2]) -> [i128; 2] {
        [
            i128::from((p[0] * self.scale).round() as i64),
            i128::from((p[1] * self.scale).round() as i64),
        ]
    }

    fn mean(self, sum: [i128; 2], count: i128) -> [f64; 2] {
        let n = count as f64 * self.scale;
        [sum[0] as f64 / n, sum[1] as f64 / n]
    }
}

/// The nearest-centre search over the live centres of one step.
struct Search<'a> {
    /// Live centres, compact, in slot order.
    centers: Vec<[f64; 2]>,
    /// Slot of each live centre.
    slots: &'a [usize],
    index: Option<CentresByX>,
    grid: Option<CentreGrid>,
}

impl<'a> Search<'a> {
    fn new(all: &[[f64; 2]], slots: &'a [usize], area: Option<GridBox>) -> Self {
        let centers: Vec<[f64; 2]> = slots.iter().map(|&s| all[s]).collect();
        let index = (centers.len() >= INDEXED_CENTRES).then(|| CentresByX::new(&centers));
        let grid = index
            .as_ref()
            .and(area)
            .map(|area| CentreGrid::new(area, &centers));
        Search {
            centers,
            slots,
            index,
            grid,
        }
    }

    /// Slot of the nearest centre, the distance to it and to the second
    /// nearest, with `nearest`'s tie rule.
    #[inline]
    fn nearest_two(&self, p: [f64; 2]) -> (usize, f64, f64) {
        let centers = &self.centers;
        let in_grid = self.grid.as_ref().and_then(|g| g.nearest_two(p, centers));
        let (c, d, second) = match (in_grid, &self.index) {
            (Some(found), _) => found,
            (None, Some(index)) => index.nearest_two(p, centers),
            (None, None) => nearest_two(p, centers),
        };
        (self.slots[c], d.sqrt(), second.sqrt())
    }
}

/// Half the distance from each live slot's centre to the nearest other live
/// centre (0 for dead slots): a point closer than that to its centre cannot
/// be nearer to another.
fn half_gaps(centers: &[[f64; 2]], slots: &[usize]) -> Vec<f64> {
    let mut gaps = vec![0.0; centers.len()];
    for &a in slots {
        gaps[a] = slots
            .iter()
            .filter(|&&j| j != a)
            .map(|&j| distance2(centers[a], centers[j]))
            .fold(f64::INFINITY, f64::min)
            .sqrt()
            / 2.0;
    }
    gaps
}

/// Integer sums of one slot: Σx, Σy in fixed point, and the member count.
type FixedSums = [i128; 3];

/// One assignment step: every point whose bounds no longer
/// prove its centre is re-checked, and searched if need be. Returns, for
/// unweighted runs, how the fixed-point sums change (members leaving
/// subtract, members arriving add; on step 0 every point arrives).
fn assign(
    points: &[[f64; 2]],
    centers: &[[f64; 2]],
    slots: &[usize],
    bounds: &mut [Bound],
    drift: &Drift,
    area: Option<GridBox>,
    fixed: Option<FixedPoint>,
) -> Vec<FixedSums> {
    let k = centers.len();
    let search = Search::new(centers, slots, area);
    let half_gap = half_gaps(centers, slots);
    let size = parallel::chunk_size(points.len());
    bounds
        .par_chunks_mut(size)
        .enumerate()
        .fold(
            || vec![[0i128; 3]; k],
            |mut delta, (chunk, rows)| {
                let points = &points[chunk * size..][..rows.len()];
                for (b, &p) in rows.iter_mut().zip(points) {
                    let old = if drift.steps == 0 {
                        None
                    } else {
                        let (upper, lower) = drift.carry(b);
                        let c = b.center as usize;
                        let limit = lower.max(half_gap[c]);
                        if clearly_below(upper, limit) {
                            continue;
                        }
                        let upper = distance2(p, centers[c]).sqrt();
                        if clearly_below(upper, limit) {
                            drift.set(b, c, upper, lower);
                            continue;
                        }
                        Some(c)
                    };
                    let (c, d, second) = search.nearest_two(p);
                    drift.set(b, c, d, second);
                    if let Some(fixed) = fixed.filter(|_| old != Some(c)) {
                        let q = fixed.quantise(p);
                        if let Some(o) = old {
                            delta[o][0] -= q[0];
                            delta[o][1] -= q[1];
                            delta[o][2] -= 1;
                        }
                        delta[c][0] += q[0];
                        delta[c][1] += q[1];
                        delta[c][2] += 1;
                    }
                }
                delta
            },
        )
        .reduce(|| vec![[0i128; 3]; k], add_sums)
}

/// Slot-wise sum of two changes of the fixed-point sums.
fn add_sums(mut a: Vec<FixedSums>, b: Vec<FixedSums>) -> Vec<FixedSums> {
    for (x, y) in a.iter_mut().zip(&b) {
        for j in 0..3 {
            x[j] += y[j];
        }
    }
    a
}

/// Weighted centres of the slots from a full pass over the points (the
/// chunked sum keeps the result independent of the thread count); `None`
/// for slots without members.
fn weighted_centres(
    points: &[[f64; 2]],
    weights: &[f64],
    bounds: &[Bound],
    k: usize,
) -> Vec<Option<[f64; 2]>> {
    let sums = parallel::sum_rows(points.len(), 4 * k, |range, acc| {
        for i in range {
            let c = 4 * bounds[i].center as usize;
            let w = weights[i];
            acc[c] += w * points[i][0];
            acc[c + 1] += w * points[i][1];
            acc[c + 2] += w;
            acc[c + 3] += 1.0;
        }
    });
    sums.chunks(4)
        .map(|s| (s[3] > 0.0).then(|| [s[0] / s[2], s[1] / s[2]]))
        .collect()
}

fn same_clustering(a: &[[f64; 2]], b: &[[f64; 2]]) -> bool {
    let sorted = |v: &[[f64; 2]]| {
        let mut s = v.to_vec();
        s.sort_by(|p, q| p[0].total_cmp(&q[0]).then(p[1].total_cmp(&q[1])));
        s
    };
    let (a, b) = (sorted(a), sorted(b));
    a.iter()
        .zip(&b)
        .all(|(&p, &q)| distance2(p, q) < SAME_CLUSTERING * SAME_CLUSTERING)
}

/// Runs k-means from `start` (a fresh or clean start) and returns the
/// clusters sorted by id, with their members.
///
/// Each step is Lloyd's: assign every point to its nearest centre (ties to
/// the last), then move each centre to its members' (weighted) mean and
/// drop the centres left without members. The start's clusters keep a
/// slot each for the whole run, so that a point's bounds can name its
/// centre across steps. Unweighted runs on at least `TILED_POINTS` points
/// assign by tiles ([`tiles`]), whole tiles at a time where only one centre
/// can be nearest; the others carry Hamerly's bounds ([`Drift`]), which skip
/// the points whose centre provably stays without reading or writing them.
/// Unweighted runs keep the centre sums in fixed point and update them by
/// the points that moved. The result is Lloyd's assignment exactly.
pub fn kmeans(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    start: Vec<Cluster>,
    max_iters: usize,
) -> Vec<Cluster> {
    let path = if weights.is_none() && points.len() >= TILED_POINTS {
        Path::Tiled
    } else {
        Path::Bounded
    };
    kmeans_by(points, weights, start, max_iters, path)
}

/// Unweighted runs on at least this many points assign by tiles. Below,
/// Hamerly's bounds are as fast and a grid of tiles is mostly edges.
const TILED_POINTS: usize = 4096;

/// How a step assigns points; both give Lloyd's assignment exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Hamerly's bounds per point ([`assign`]).
    Bounded,
    /// Tiles of points ([`tiles`]), unweighted only; falls back to
    /// `Bounded` with fewer than two finite points or when the central
    /// 99.8 % of them share one x or one y.
    Tiled,
}

/// [`kmeans`] along the given path.
fn kmeans_by(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    start: Vec<Cluster>,
    max_iters: usize,
    path: Path,
) -> Vec<Cluster> {
    if points.is_empty() || start.is_empty() {
        return Vec::new();
    }
    let mut sorted_start = start;
    sorted_start.sort_by_key(|c| c.id);
    let ids: Vec<u32> = sorted_start.iter().map(|c| c.id).collect();
    let mut centers: Vec<[f64; 2]> = sorted_start.iter().map(|c| c.center).collect();
    let k = centers.len();
    let mut live: Vec<usize> = (0..k).collect();
    let fixed = FixedPoint::for_points(points);
    let unweighted = weights.is_none().then_some(fixed);
    let unset = Bound {
        center: 0,
        upper: f32::INFINITY,
        lower: 0.0,
    };
    let mut tiles = match (path, unweighted) {
        (Path::Tiled, Some(fixed)) => Tiles::new(points, fixed),
        _ => None,
    };
    // The bounded path's grid box and bounds; the tiled path needs neither.
    let (area, mut bounds) = if tiles.is_some() {
        (None, Vec::new())
    } else {
        (GridBox::around(points, k), vec![unset; points.len()])
    };
    let mut sums = vec![[0i128; 3]; k];
    let mut drift = Drift::new(k);
    let mut remaining = max_iters;
    loop {
        let delta = match &mut tiles {
            Some(tiles) => tiles.assign(&centers, &live, fixed, &drift),
            None => assign(
                points,
                &centers,
                &live,
                &mut bounds,
                &drift,
                area,
                unweighted,
            ),
        };
        let next: Vec<Option<[f64; 2]>> = match weights {
            Some(w) => weighted_centres(points, w, &bounds, k),
            None => sums
                .iter_mut()
                .zip(&delta)
                .map(|(s, d)| {
                    for j in 0..3 {
                        s[j] += d[j];
                    }
                    (s[2] > 0).then(|| fixed.mean([s[0], s[1]], s[2]))
                })
                .collect(),
        };
        let before: Vec<[f64; 2]> = live.iter().map(|&c| centers[c]).collect();
        let survivors: Vec<usize> = (0..k).filter(|&c| next[c].is_some()).collect();
        let after: Vec<[f64; 2]> = survivors.iter().filter_map(|&c| next[c]).collect();
        if remaining == 0 || same_clustering(&before, &after) {
            #[cfg(test)]
            if let Some(t) = &tiles {
                tests::LAST_TILES.with(|c| c.set(Some(t.counts)));
            }
            let mut rank = vec![usize::MAX; k];
            for (r, &c) in survivors.iter().enumerate() {
                rank[c] = r;
            }
            let slot_of: Vec<u32> = match &tiles {
                Some(tiles) => tiles.slots(points.len()),
                None => bounds.iter().map(|b| b.center).collect(),
            };
            let mut members = vec![Vec::new(); survivors.len()];
            for (i, &slot) in slot_of.iter().enumerate() {
                members[rank[slot as usize]].push(i as u32);
            }
            return survivors
                .iter()
                .zip(after)
                .zip(members)
                .map(|((&c, center), members)| Cluster {
                    id: ids[c],
                    center,
                    members,
                })
                .collect();
        }
        let moves: Vec<f64> = (0..k)
            .map(|c| next[c].map_or(0.0, |n| distance2(centers[c], n).sqrt()))
            .collect();
        for &c in &survivors {
            if let Some(n) = next[c] {
                centers[c] = n;
            }
        }
        drift.push(&moves);
        live = survivors;
        remaining -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;
    use linfa_clustering::{KMeans, KMeansInit};
    use ndarray::Array2;
    use rand_xoshiro::Xoshiro256Plus;
    use rand_xoshiro::rand_core::SeedableRng;

    fn blobs() -> Vec<[f64; 2]> {
        let mut pts = Vec::new();
        for i in 0..30 {
            let t = i as f64 * 0.37;
            pts.push([t.sin() * 0.5, t.cos() * 0.5]);
            pts.push([5.0 + t.cos() * 0.4, 1.0 + t.sin() * 0.3]);
            pts.push([-3.0 + (t * 1.3).sin() * 0.6, 4.0 + (t * 0.7).cos() * 0.2]);
        }
        pts
    }

    #[test]
    fn indexed_nearest_matches_the_plain_scan_ties_included() {
        let mut rng = Xoshiro256Plus::seed_from_u64(5);
        use rand::Rng;
        // A coarse grid makes equal distances common.
        let mut grid = |n: usize| -> Vec<[f64; 2]> {
            (0..n)
                .map(|_| {
                    [
                        f64::from(rng.gen_range(-6i32..6)) * 0.5,
                        f64::from(rng.gen_range(-6i32..6)) * 0.5,
                    ]
                })
                .collect()
        };
        let centers = grid(40);
        let points = grid(2000);
        let index = CentresByX::new(&centers);
        for p in points.into_iter().chain([[f64::NAN, 0.0], [0.0, f64::NAN]]) {
            assert_eq!(index.nearest(p, &centers), nearest(p, &centers), "{p:?}");
        }
    }

    #[test]
    fn grid_search_matches_the_plain_scan_ties_included() {
        use rand::Rng;
        let mut rng = Xoshiro256Plus::seed_from_u64(8);
        // Coarse coordinates put points on cell edges and make ties common;
        // the spread ones leave some points outside the grid's box.
        for coarse in [true, false] {
            let mut draw = |n: usize| -> Vec<[f64; 2]> {
                (0..n)
                    .map(|_| {
                        if coarse {
                            [
                                f64::from(rng.gen_range(-8i32..8)) * 0.25,
                                f64::from(rng.gen_range(-8i32..8)) * 0.25,
                            ]
                        } else {
                            let (x, y): (f64, f64) = (rng.r#gen(), rng.r#gen());
                            [(x - 0.5).powi(3) * 40.0, y * 3.0]
                        }
                    })
                    .collect()
            };
            let centers = draw(60);
            let points = draw(4000);
            let area = GridBox::around(&points, centers.len());
            assert!(area.is_some());
            let slots: Vec<usize> = (0..centers.len()).collect();
            let search = Search::new(&centers, &slots, area);
            assert!(search.grid.is_some());
            for &p in points.iter().chain(&[[f64::NAN, 0.0], [1e9, -1e9]]) {
                let (c, d, second) = search.nearest_two(p);
                let (pc, pd, psecond) = nearest_two(p, &centers);
                assert_eq!(c, pc, "{p:?}");
                assert_eq!(c, nearest(p, &centers), "{p:?}");
                assert_eq!(d.to_bits(), pd.sqrt().to_bits(), "{p:?}");
                assert_eq!(second.to_bits(), psecond.sqrt().to_bits(), "{p:?}");
            }
        }
    }

    #[test]
    fn centres_that_lose_every_point_are_dropped_as_lloyd_drops_them() {
        use rand::Rng;
        let mut rng = Xoshiro256Plus::seed_from_u64(4);
        let points: Vec<[f64; 2]> = (0..5000)
            .map(|i| {
                let (x, y): (f64, f64) = (rng.r#gen(), rng.r#gen());
                [x + (i % 4) as f64 * 3.0, y]
            })
            .collect();
        // Centres far away win no point; others lose theirs after a step.
        let mut start = first_distinct(&points, 30);
        for (j, c) in start.iter_mut().enumerate().skip(20) {
            c.center = [50.0 + j as f64, 50.0];
        }
        start[3].center = start[2].center;
        let fast: Vec<_> = kmeans(&points, None, start.clone(), 100)
            .into_iter()
            .map(|c| (c.id, c.center, c.members))
            .collect();
        let plain = reference_kmeans(&points, None, start, 100);
        assert!(fast.len() < 20, "{} clusters kept", fast.len());
        assert_eq!(fast, plain);
    }

    /// Lloyd's algorithm the plain way: every distance, every step.
    fn reference_kmeans(
        points: &[[f64; 2]],
        weights: Option<&[f64]>,
        start: Vec<Cluster>,
        max_iters: usize,
    ) -> Vec<(u32, [f64; 2], Vec<u32>)> {
        let mut ids: Vec<u32> = start.iter().map(|c| c.id).collect();
        let mut centers: Vec<[f64; 2]> = start.iter().map(|c| c.center).collect();
        let mut remaining = max_iters;
        let fixed = FixedPoint::for_points(points);
        loop {
            let assignment: Vec<usize> = points.iter().map(|&p| nearest(p, &centers)).collect();
            // The same arithmetic as `kmeans` (fixed point unweighted, the
            // chunked sum weighted), so that equal assignments give
            // bit-identical centres.
            let mut exact = vec![[0i128; 3]; centers.len()];
            for (i, &c) in assignment.iter().enumerate() {
                let q = fixed.quantise(points[i]);
                exact[c][0] += q[0];
                exact[c][1] += q[1];
                exact[c][2] += 1;
            }
            let flat = parallel::sum_rows(points.len(), 4 * centers.len(), |range, acc| {
                for i in range {
                    let c = assignment[i];
                    let w = weight(weights, i as u32);
                    acc[4 * c] += w * points[i][0];
                    acc[4 * c + 1] += w * points[i][1];
                    acc[4 * c + 2] += w;
                    acc[4 * c + 3] += 1.0;
                }
            });
            let sums: Vec<&[f64]> = flat.chunks(4).collect();
            let mut new_ids = Vec::new();
            let mut new_centers = Vec::new();
            let mut members = Vec::new();
            for (c, s) in sums.iter().enumerate() {
                if s[3] > 0.0 {
                    new_ids.push(ids[c]);
                    new_centers.push(match weights {
                        Some(_) => [s[0] / s[2], s[1] / s[2]],
                        None => fixed.mean([exact[c][0], exact[c][1]], exact[c][2]),
                    });
                    members.push(
                        (0..points.len() as u32)
                            .filter(|&i| assignment[i as usize] == c)
                            .collect(),
                    );
                }
            }
            if remaining == 0 || same_clustering(&centers, &new_centers) {
                return new_ids
                    .into_iter()
                    .zip(new_centers)
                    .zip(members)
                    .map(|((i, c), m)| (i, c, m))
                    .collect();
            }
            ids = new_ids;
            centers = new_centers;
            remaining -= 1;
        }
    }

    thread_local! {
        /// Step counts of this thread's last tiled run.
        pub(super) static LAST_TILES: std::cell::Cell<Option<tiles::StepCounts>> =
            const { std::cell::Cell::new(None) };
    }

    /// `kmeans_by` over 100 steps, in `reference_kmeans`'s form.
    fn clusters_by(
        points: &[[f64; 2]],
        weights: Option<&[f64]>,
        start: &[Cluster],
        path: Path,
    ) -> Vec<(u32, [f64; 2], Vec<u32>)> {
        kmeans_by(points, weights, start.to_vec(), 100, path)
            .into_iter()
            .map(|c| (c.id, c.center, c.members))
            .collect()
    }

    #[test]
    fn bounded_kmeans_equals_plain_lloyd() {
        use rand::Rng;
        let mut rng = Xoshiro256Plus::seed_from_u64(11);
        for (n, k, coarse) in [
            (3000, 100, false),
            (3000, 40, true),
            (500, 4, false),
            (400, 3, true),
        ] {
            let points: Vec<[f64; 2]> = (0..n)
                .map(|i| {
                    let blob = (i % 5) as f64;
                    let (x, y): (f64, f64) = (rng.r#gen(), rng.r#gen());
                    if coarse {
                        // Repeated coordinates make ties between centres common.
                        [(x * 8.0).round() / 4.0 + blob, (y * 8.0).round() / 4.0]
                    } else {
                        [x + 3.0 * blob.sin(), y + 2.0 * blob.cos()]
                    }
                })
                .collect();
            let weights: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
            for w in [None, Some(&weights[..])] {
                let start = first_distinct(&points, k);
                let plain = reference_kmeans(&points, w, start.clone(), 100);
                for path in [Path::Bounded, Path::Tiled] {
                    let fast = clusters_by(&points, w, &start, path);
                    assert_eq!(fast, plain, "n {n}, k {k}, coarse {coarse}, {path:?}");
                }
            }
        }
    }

    #[test]
    fn tiled_kmeans_equals_plain_lloyd_on_many_points_and_odd_ones() {
        use rand::Rng;
        let mut rng = Xoshiro256Plus::seed_from_u64(21);
        // Dense blobs with a heavy tail, as projections of sparse voters
        // are; coarse coordinates put many points on tile edges and make
        // ties common; a point is NaN, one far out.
        for coarse in [false, true] {
            let mut points: Vec<[f64; 2]> = (0..30_000)
                .map(|i| {
                    let blob = (i % 3) as f64;
                    let (x, y): (f64, f64) = (rng.r#gen(), rng.r#gen());
                    let r = 0.2 / (1.0 - 0.98 * x);
                    let t = y * std::f64::consts::TAU;
                    let p = [blob * 2.0 + r * t.cos(), blob.sin() + r * t.sin()];
                    if coarse {
                        [(p[0] * 8.0).round() / 8.0, (p[1] * 8.0).round() / 8.0]
                    } else {
                        p
                    }
                })
                .collect();
            points[17] = [f64::NAN, 0.0];
            points[18] = [1e6, -1e6];
            assert!(Tiles::new(&points, FixedPoint::for_points(&points)).is_some());
            let start = first_distinct(&points, 100);
            let plain = reference_kmeans(&points, None, start.clone(), 100);
            for path in [Path::Bounded, Path::Tiled] {
                // Centres are compared by value: all are finite (the NaN
                // point's first centre loses it at the first step).
                LAST_TILES.with(|c| c.set(None));
                let fast = clusters_by(&points, None, &start, path);
                assert_eq!(fast, plain, "coarse {coarse}, {path:?}");
                if path == Path::Tiled {
                    // Both ways were taken: tiles skipped on their carried
                    // bounds, and points on boundaries searched.
                    let counts = LAST_TILES.with(|c| c.get()).expect("a tiled run");
                    assert!(counts.skipped_tiles > 0, "{counts:?}");
                    assert!(counts.searched_points > 0, "{counts:?}");
                }
            }
        }
        // Points on one line span no area: the tiled path falls back.
        let line: Vec<[f64; 2]> = (0..5000).map(|i| [f64::from(i % 97), 1.0]).collect();
        assert!(Tiles::new(&line, FixedPoint::for_points(&line)).is_none());
        let start = first_distinct(&line, 10);
        let plain = reference_kmeans(&line, None, start.clone(), 100);
        let tiled = clusters_by(&line, None, &start, Path::Tiled);
        assert_eq!(tiled, plain);
    }

    #[test]
    fn fresh_start_uses_first_distinct_points() {
        let pts = [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [-0.0, 0.0], [2.0, 2.0]];
        let init = first_distinct(&pts, 2);
        assert_eq!(init.len(), 2);
        assert_eq!(init[1].center, [1.0, 1.0]);
        assert_eq!(distinct_points(&pts, 10), 3);
    }

    #[test]
    fn agrees_with_linfa_on_unweighted_data() {
        let pts = blobs();
        let start = first_distinct(&pts, 3);
        let ours = kmeans(&pts, None, start.clone(), 100);

        let data = Array2::from_shape_fn((pts.len(), 2), |(i, j)| pts[i][j]);
        let init = Array2::from_shape_fn((3, 2), |(i, j)| start[i].center[j]);
        let dataset = DatasetBase::from(data.clone());
        let model = KMeans::params_with_rng(3, Xoshiro256Plus::seed_from_u64(0))
            .init_method(KMeansInit::Precomputed(init))
            .n_runs(1)
            .max_n_iterations(1000)
            .tolerance(1e-12)
            .fit(&dataset)
            .unwrap();
        let labels = model.predict(&data);
        // Same partition: points that linfa puts together, we put together.
        let mut ours_label = vec![0u32; pts.len()];
        for c in &ours {
            for &m in &c.members {
                ours_label[m as usize] = c.id;
            }
        }
        let theirs: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
        assert_eq!(crate::stats::adjusted_rand_index(&ours_label, &theirs), 1.0);
        for c in &ours {
            let lc = model.centroids().row(c.id as usize);
            assert!((lc[0] - c.center[0]).abs() < 1e-6);
            assert!((lc[1] - c.center[1]).abs() < 1e-6);
        }
    }

    #[test]
    fn tiny_and_huge_coordinates_give_finite_centres() {
        for scale in [1e-320, 1e-200, 1.0, 1e200] {
            let pts = [[0.0, 0.0], [scale, 0.0], [0.0, scale], [scale, scale]];
            let out = kmeans(&pts, None, first_distinct(&pts, 2), 10);
            assert!(!out.is_empty());
            for c in &out {
                assert!(c.center.iter().all(|x| x.is_finite()), "{scale}: {out:?}");
            }
            let members: usize = out.iter().map(|c| c.members.len()).sum();
            assert_eq!(members, pts.len());
        }
    }

    #[test]
    fn plain_sum_of_squares_is_the_one_kmeans_ends_with() {
        use rand::Rng;
        let mut rng = Xoshiro256Plus::seed_from_u64(5);
        for (n, k) in [(100, 2), (100, 5), (60, 3), (12, 4)] {
            let points: Vec<[f64; 2]> = (0..n)
                .map(|i| {
                    let (x, y): (f64, f64) = (rng.r#gen(), rng.r#gen());
                    [x + (i % 3) as f64 * 2.0, y * 3.0]
                })
                .collect();
            let weights: Vec<f64> = (0..n).map(|i| 1.0 + (i % 11) as f64).collect();
            for seed in 0..6 {
                let start = plus_plus_start(&points, Some(&weights), k, seed);
                assert_eq!(start.len(), k);
                let plain = sum_of_squares_after(&points, Some(&weights), &start, 20);
                let run = kmeans(&points, Some(&weights), start, 20);
                let full = within_sum_of_squares(&points, Some(&weights), &run);
                assert!(
                    (plain - full).abs() <= 1e-9 * full.max(1.0),
                    "n {n}, k {k}, seed {seed}: {plain} vs {full}"
                );
            }
        }
    }

    #[test]
    fn plus_plus_starts_are_distinct_points_and_reproducible() {
        let pts = blobs();
        let a = plus_plus_start(&pts, None, 3, 9);
        assert_eq!(a, plus_plus_start(&pts, None, 3, 9));
        assert_ne!(a, plus_plus_start(&pts, None, 3, 10));
        for c in &a {
            assert!(pts.contains(&c.center));
        }
        assert_eq!(
            distinct_points(&a.iter().map(|c| c.center).collect::<Vec<_>>(), 9),
            3
        );
        // Two distinct points cannot make three centres.
        let two = [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        assert_eq!(plus_plus_start(&two, None, 3, 1).len(), 2);
    }

    #[test]
    fn weights_pull_the_center() {
        let pts = [[0.0, 0.0], [1.0, 0.0]];
        let start = vec![Cluster {
            id: 4,
            center: [0.5, 0.0],
            members: vec![],
        }];
        let c = kmeans(&pts, Some(&[3.0, 1.0]), start, 5);
        assert_eq!(c[0].id, 4);
        assert!((c[0].center[0] - 0.25).abs() < 1e-12);
    }

    #[test]
    fn clean_start_keeps_ids_and_splits_off_distant_points() {
        let pts = [
            [0.0, 0.0],
            [0.1, 0.0],
            [10.0, 0.0],
            [10.1, 0.0],
            [50.0, 0.0],
        ];
        let previous = vec![
            Cluster {
                id: 7,
                center: [0.0, 0.0],
                members: vec![0, 1],
            },
            Cluster {
                id: 3,
                center: [0.0, 0.0],
                members: vec![2, 3],
            },
        ];
        let start = clean_start(&pts, None, previous, 3);
        let ids: Vec<u32> = start.iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![7, 3, 8]);
        assert_eq!(start[2].center, [50.0, 0.0]);
        let out = kmeans(&pts, None, start, 20);
        assert_eq!(out.iter().map(|c| c.id).collect::<Vec<_>>(), vec![3, 7, 8]);
    }

    #[test]
    fn identical_previous_centres_merge() {
        let pts = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]];
        let previous = vec![
            Cluster {
                id: 0,
                center: [0.0, 0.0],
                members: vec![0],
            },
            Cluster {
                id: 1,
                center: [0.0, 0.0],
                members: vec![1, 2],
            },
        ];
        let start = clean_start(&pts, None, previous, 2);
        assert_eq!(start.len(), 1);
        assert_eq!(start[0].id, 1);
    }
}
