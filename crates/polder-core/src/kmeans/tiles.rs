//! Assignment by tiles, for unweighted k-means on many points.
//!
//! The points are bucketed once per run into a fine grid of tiles (about
//! eight points each), and each tile keeps the exact bounding box and the
//! fixed-point sums of its points. A step first narrows the centres that
//! can be nearest to some point of a tile, from its box alone; when one
//! centre is left, every point of the tile is that centre's without being
//! looked at, and if the tile's centre changed since the last step its sums
//! move at once. Only the points of tiles that straddle a boundary between
//! two centres are searched one by one, among the tile's few candidates.
//!
//! A tile with one candidate also keeps two distances, as Hamerly's bounds
//! do for a point: how far its points can be from their centre, and how
//! near any other centre can be to one of them. Carried by how far the
//! centres have moved since (`Drift`), they prove the tile's centre in
//! later steps without a look at its box while the centres settle: at
//! 50 M votes about four tiles in five are skipped so, and a step costs
//! what the boundary tiles cost.
//!
//! Hamerly's bounds, which the other path uses, cost a pass over every
//! point each step and lapse for about one point in seven on a million
//! points (the largest centre move of a step is ten times the median),
//! while only about one in seven hundred changes centre. A tile costs the
//! same whether it holds one point or fifty, so the work of a step follows
//! the length of the boundaries between centres, not the number of points.
//!
//! The result is Lloyd's assignment exactly, ties included. A centre is
//! dropped from a tile only when its distance to the tile's box exceeds
//! the farthest distance from the box to some other centre; rounding is
//! monotonic, so the computed distance from any point of the box to the
//! dropped centre then exceeds its computed distance to that other centre,
//! and the dropped one can be neither nearest nor tied.

use super::grid::{TAIL, trimmed_range};
use super::{Drift, FixedPoint, FixedSums, add_sums, clearly_below, distance2};
use rayon::prelude::*;

/// Tiles along one side of a block; a block narrows the centres once for
/// its 64 tiles, so a tile tests a handful of centres instead of all.
const BLOCK: usize = 8;
/// Points per tile the grid aims at, on average: fewer tiles and the ones
/// on boundaries hold more points to search, more and the tile tests cost
/// more than the points they spare.
const POINTS_PER_TILE: usize = 8;
/// Points from which the grid's box is chosen at most (`Tiles::new`).
const RANGE_SAMPLE: usize = 1 << 16;
/// Most tiles along one side.
const MAX_SIDE: usize = 4096;
/// Slack on the narrowing test, far above the rounding of two squared
/// distances; with monotonic rounding none is needed, this is insurance.
const MARGIN: f64 = 1e-9;

/// Tile state: its points are searched one by one.
const MIXED: u32 = u32::MAX;
/// Tile or point state before the first step.
const UNSET: u32 = u32::MAX - 1;

/// An axis-aligned box `[x0, x1, y0, y1]`.
type Bounds = [f64; 4];

/// The points bucketed into tiles, and which centre each tile or point had
/// at the last step.
pub(super) struct Tiles {
    /// The finite points, tile by tile.
    points: Vec<[f64; 2]>,
    /// Index of each of them in the caller's slice.
    index: Vec<u32>,
    /// Tile `t` holds `points[starts[t]..starts[t + 1]]`; empty tiles are
    /// left out and tiles come block by block.
    starts: Vec<usize>,
    /// Block `b` holds tiles `block_starts[b]..block_starts[b + 1]`.
    block_starts: Vec<usize>,
    /// Exact bounding box of each tile's points.
    tile_box: Vec<Bounds>,
    /// Exact bounding box of each block's points.
    block_box: Vec<Bounds>,
    /// Fixed-point sums of each tile's points.
    tile_sums: Vec<FixedSums>,
    /// Slot of each tile's points at the last step, `MIXED`, or `UNSET`
    /// before the first.
    tile_slot: Vec<u32>,
    /// For a tile whose points all have one slot: an upper bound on their
    /// distance to its centre and a lower bound on their distance to any
    /// other, relative to the drift totals as `Drift::set` stores them.
    /// While they hold, the tile is skipped without a look at its box.
    tile_bound: Vec<[f64; 2]>,
    /// Absolute slack a tile's bounds must clear, far above the rounding of
    /// coordinate differences (an ulp of the largest coordinate) that the
    /// relative margin of `clearly_below` cannot cover when the distances
    /// are small next to the coordinates.
    slack: f64,
    /// Slot of each point at the last step where its tile was `MIXED`.
    point_slot: Vec<u32>,
    /// What the steps so far did.
    pub(super) counts: StepCounts,
    /// Points with a coordinate that is not finite, with their slot (or
    /// `UNSET`): they are in no box and are searched every step.
    loose: Vec<([f64; 2], u32)>,
    /// Index of each loose point in the caller's slice.
    loose_index: Vec<u32>,
}

/// What assignment steps did, added up: to test that each shortcut is
/// taken, and to see how much of the work it spares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct StepCounts {
    /// Tiles whose carried bounds proved their centre: not looked at.
    pub skipped_tiles: usize,
    /// Tiles whose candidate centres were narrowed from their box.
    pub examined_tiles: usize,
    /// Points searched one by one, in tiles with several candidates.
    pub searched_points: usize,
}

impl StepCounts {
    fn plus(self, o: StepCounts) -> StepCounts {
        StepCounts {
            skipped_tiles: self.skipped_tiles + o.skipped_tiles,
            examined_tiles: self.examined_tiles + o.examined_tiles,
            searched_points: self.searched_points + o.searched_points,
        }
    }
}

/// The larger of two finite numbers. `f64::max` also orders NaN, which
/// costs several instructions where this is one; box and centre
/// coordinates reaching the narrowing are finite (`Tiles::new`,
/// `Tiles::assign`).
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// Squared distances from `c` to the nearest and to the farthest point of `b`.
#[inline(always)]
fn box_distances(b: &Bounds, c: [f64; 2]) -> (f64, f64) {
    let dx = larger(larger(b[0] - c[0], c[0] - b[1]), 0.0);
    let dy = larger(larger(b[2] - c[1], c[1] - b[3]), 0.0);
    let fx = larger((c[0] - b[0]).abs(), (c[0] - b[1]).abs());
    let fy = larger((c[1] - b[2]).abs(), (c[1] - b[3]).abs());
    (dx * dx + dy * dy, fx * fx + fy * fy)
}

/// Writes to `out` those of `among` (indices into `centres`, ascending) that
/// can be nearest to some point of `b`, ascending, and to `near` the squared
/// distance from `b` to each of `among`. Returns the reach: the squared
/// distance within which some centre of `among` lies from every point of
/// `b`; the centres left out are all farther than that from `b`.
fn narrow(
    b: &Bounds,
    centres: &[[f64; 2]],
    among: &[u32],
    out: &mut Vec<u32>,
    near: &mut Vec<f64>,
) -> f64 {
    out.clear();
    near.clear();
    let mut reach = f64::INFINITY;
    for &i in among {
        let (lo, hi) = box_distances(b, centres[i as usize]);
        near.push(lo);
        if hi < reach {
            reach = hi;
        }
    }
    let margin = reach * (1.0 + MARGIN);
    out.extend(
        among
            .iter()
            .zip(near.iter())
            .filter(|&(_, &lo)| lo <= margin)
            .map(|(&i, _)| i),
    );
    reach
}

/// Distance bounds of a tile all of whose points are nearest `only`,
/// after `narrow` left only it of `in_block` (the block's candidates, at
/// squared distances `near` from the tile): the farthest any of the points
/// is from `only`, and the nearest any other centre can be to one of them:
/// one of `in_block`, or a centre outside them, which is farther than the
/// block's reach from the whole block.
fn single_bounds(
    b: &Bounds,
    centres: &[[f64; 2]],
    in_block: &[u32],
    near: &[f64],
    only: u32,
    block_reach: f64,
) -> [f64; 2] {
    let upper = box_distances(b, centres[only as usize]).1.sqrt();
    let lower = in_block
        .iter()
        .zip(near)
        .filter(|&(&i, _)| i != only)
        .fold(block_reach, |m, (_, &d)| if d < m { d } else { m })
        .sqrt();
    [upper, lower]
}

/// The nearest of `among` (ascending indices into `centres`); ties go to
/// the last, as in `nearest`.
#[inline]
fn nearest_among(p: [f64; 2], centres: &[[f64; 2]], among: &[u32]) -> u32 {
    let mut best = among[0];
    let mut best_d = f64::INFINITY;
    for &i in among {
        let d = distance2(p, centres[i as usize]);
        if d <= best_d {
            best = i;
            best_d = d;
        }
    }
    best
}

/// Moves a point (or a tile, by its sums) from slot `from` to slot `to` in
/// the change of the slots' sums.
#[inline]
fn transfer(delta: &mut [FixedSums], from: u32, to: u32, q: FixedSums) {
    if from != UNSET {
        let d = &mut delta[from as usize];
        for j in 0..3 {
            d[j] -= q[j];
        }
    }
    let d = &mut delta[to as usize];
    for j in 0..3 {
        d[j] += q[j];
    }
}

/// One block's non-empty tiles while they are bucketed: their starts,
/// boxes and sums, and the block's box.
type BlockTiles = (Vec<usize>, Vec<Bounds>, Vec<FixedSums>, Bounds);

/// One point's contribution to the fixed-point sums.
#[inline]
fn point_sums(fixed: FixedPoint, p: [f64; 2]) -> FixedSums {
    let q = fixed.quantise(p);
    [q[0], q[1], 1]
}

impl Tiles {
    /// Buckets the points; `None` with fewer than two finite points or when
    /// the central 99.8 % of them share one x or one y, where a grid spans
    /// no area.
    pub(super) fn new(points: &[[f64; 2]], fixed: FixedPoint) -> Option<Tiles> {
        let is_finite = |i: &u32| points[*i as usize].iter().all(|x| x.is_finite());
        let finite: Vec<u32> = (0..points.len() as u32).filter(is_finite).collect();
        if finite.len() < 2 {
            return None;
        }
        // The grid's box from every point up to a million, from an even
        // sample above: the box only sets where tiles fall (points beyond
        // it go to the edge tiles), and the two selections over all of a
        // million points were a quarter of the set-up.
        let stride = finite.len().div_ceil(RANGE_SAMPLE).max(1);
        let axis = |a: usize| {
            let sample = finite.iter().step_by(stride);
            trimmed_range(sample.map(|&i| points[i as usize][a]).collect(), TAIL)
        };
        let ((x_lo, x_hi), (y_lo, y_hi)) = rayon::join(|| axis(0), || axis(1));
        if !(x_hi > x_lo && y_hi > y_lo) {
            return None;
        }
        let side = (((finite.len() / POINTS_PER_TILE) as f64).sqrt() as usize).clamp(1, MAX_SIDE);
        let blocks_per_side = side.div_ceil(BLOCK);
        let scale = [side as f64 / (x_hi - x_lo), side as f64 / (y_hi - y_lo)];
        // Key = block, then tile within the block, so that a block's tiles
        // and their points are contiguous.
        let key = |p: [f64; 2]| -> usize {
            // `as` saturates, and the clamp catches the points beyond the box.
            let cx = (((p[0] - x_lo) * scale[0]) as usize).min(side - 1);
            let cy = (((p[1] - y_lo) * scale[1]) as usize).min(side - 1);
            let block = (cy / BLOCK) * blocks_per_side + cx / BLOCK;
            block * BLOCK * BLOCK + (cy % BLOCK) * BLOCK + cx % BLOCK
        };
        let n_keys = blocks_per_side * blocks_per_side * BLOCK * BLOCK;
        let keys: Vec<u32> = finite
            .par_iter()
            .map(|&i| key(points[i as usize]) as u32)
            .collect();
        // Counting sort by key, stable: a tile's points stay in index order.
        let mut first = vec![0usize; n_keys + 1];
        for &k in &keys {
            first[k as usize + 1] += 1;
        }
        for k in 0..n_keys {
            first[k + 1] += first[k];
        }
        let mut next = first.clone();
        let mut index = vec![0u32; finite.len()];
        for (&i, &k) in finite.iter().zip(&keys) {
            index[next[k as usize]] = i;
            next[k as usize] += 1;
        }
        drop(keys);
        let sorted: Vec<[f64; 2]> = index.par_iter().map(|&i| points[i as usize]).collect();

        let empty: Bounds = [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let grow = |b: &mut Bounds, p: [f64; 2]| {
            b[0] = b[0].min(p[0]);
            b[1] = b[1].max(p[0]);
            b[2] = b[2].min(p[1]);
            b[3] = b[3].max(p[1]);
        };
        // Each block's non-empty tiles: start, box and sums; and the
        // block's box. In parallel: on a million points the boxes and the
        // fixed-point sums were most of the set-up.
        let per_block: Vec<BlockTiles> = (0..blocks_per_side * blocks_per_side)
            .into_par_iter()
            .map(|block| {
                let (mut starts, mut boxes, mut sums_of) = (Vec::new(), Vec::new(), Vec::new());
                let mut bb = empty;
                for k in block * BLOCK * BLOCK..(block + 1) * BLOCK * BLOCK {
                    let range = first[k]..first[k + 1];
                    if range.is_empty() {
                        continue;
                    }
                    let mut tb = empty;
                    let mut sums = [0i128; 3];
                    for &p in &sorted[range.clone()] {
                        grow(&mut tb, p);
                        let q = point_sums(fixed, p);
                        for j in 0..3 {
                            sums[j] += q[j];
                        }
                    }
                    grow(&mut bb, [tb[0], tb[2]]);
                    grow(&mut bb, [tb[1], tb[3]]);
                    starts.push(range.start);
                    boxes.push(tb);
                    sums_of.push(sums);
                }
                (starts, boxes, sums_of, bb)
            })
            .collect();
        let mut starts = Vec::new();
        let mut block_starts = vec![0];
        let mut tile_box = Vec::new();
        let mut tile_sums = Vec::new();
        let mut block_box = Vec::new();
        for (s, b, q, bb) in per_block {
            if s.is_empty() {
                continue;
            }
            starts.extend(s);
            tile_box.extend(b);
            tile_sums.extend(q);
            block_starts.push(starts.len());
            block_box.push(bb);
        }
        starts.push(sorted.len());
        let n_tiles = tile_box.len();
        let largest = sorted.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
        let loose_index: Vec<u32> = (0..points.len() as u32).filter(|i| !is_finite(i)).collect();
        let loose = loose_index
            .iter()
            .map(|&i| (points[i as usize], UNSET))
            .collect();
        Some(Tiles {
            point_slot: vec![UNSET; sorted.len()],
            points: sorted,
            index,
            starts,
            block_starts,
            tile_box,
            block_box,
            tile_sums,
            tile_slot: vec![UNSET; n_tiles],
            tile_bound: vec![[f64::INFINITY, f64::NEG_INFINITY]; n_tiles],
            slack: largest * MARGIN,
            counts: StepCounts::default(),
            loose,
            loose_index,
        })
    }

    /// One assignment step against the live `slots` of `centres`: every
    /// point goes to its nearest live centre. Returns how the fixed-point
    /// sums of the slots change (on the first step every point arrives).
    /// `drift` holds how far the centres moved since the first step: a
    /// tile whose bounds, carried by it, still prove its centre is skipped.
    pub(super) fn assign(
        &mut self,
        centres: &[[f64; 2]],
        slots: &[usize],
        fixed: FixedPoint,
        drift: &Drift,
    ) -> Vec<FixedSums> {
        let k = centres.len();
        let live: Vec<[f64; 2]> = slots.iter().map(|&s| centres[s]).collect();
        // A centre with a coordinate that is not finite (a NaN point can be
        // one on a fresh start) is at no finite distance and is never
        // nearest; unless every centre is so, where the first one takes all,
        // as the bounded path's search (`Best`) gives it.
        let mut everyone: Vec<u32> = (0..live.len() as u32)
            .filter(|&i| live[i as usize].iter().all(|x| x.is_finite()))
            .collect();
        if everyone.is_empty() {
            everyone.push(0);
        }
        // Each block owns its tiles' states and its points' slots: split
        // them into disjoint slices, one per block, for the parallel pass.
        let mut work = Vec::with_capacity(self.block_box.len());
        let (mut tile_rest, mut point_rest) = (&mut self.tile_slot[..], &mut self.point_slot[..]);
        let mut bound_rest = &mut self.tile_bound[..];
        for b in 0..self.block_box.len() {
            let tiles = self.block_starts[b]..self.block_starts[b + 1];
            let points = self.starts[tiles.start]..self.starts[tiles.end];
            let (t, tr) = tile_rest.split_at_mut(tiles.len());
            let (p, pr) = point_rest.split_at_mut(points.len());
            let (q, qr) = bound_rest.split_at_mut(tiles.len());
            tile_rest = tr;
            point_rest = pr;
            bound_rest = qr;
            work.push((b, t, p, q));
        }
        let (starts, block_starts) = (&self.starts, &self.block_starts);
        let (tile_box, block_box, tile_sums) = (&self.tile_box, &self.block_box, &self.tile_sums);
        let points = &self.points;
        let slack = self.slack;
        let (mut delta, counts) = work
            .into_par_iter()
            .fold(
                || {
                    let delta: Vec<FixedSums> = vec![[0i128; 3]; k];
                    let scratch: [Vec<u32>; 2] = Default::default();
                    (delta, StepCounts::default(), scratch, Vec::new())
                },
                |(mut delta, mut counts, [mut in_block, mut in_tile], mut near),
                 (b, tile_slots, point_slots, bounds)| {
                    // The block's candidates, narrowed when a tile first needs them.
                    let mut block_reach = None;
                    let first_tile = block_starts[b];
                    let first_point = starts[first_tile];
                    for (j, (state, bound)) in tile_slots.iter_mut().zip(bounds).enumerate() {
                        if *state < UNSET {
                            let own = *state as usize;
                            let upper = bound[0] + drift.own[own];
                            let lower = bound[1] - drift.others[own];
                            if clearly_below(upper + slack, lower) {
                                counts.skipped_tiles += 1;
                                continue;
                            }
                        }
                        let reach = *block_reach.get_or_insert_with(|| {
                            narrow(&block_box[b], &live, &everyone, &mut in_block, &mut near)
                        });
                        let t = first_tile + j;
                        narrow(&tile_box[t], &live, &in_block, &mut in_tile, &mut near);
                        counts.examined_tiles += 1;
                        let range = starts[t] - first_point..starts[t + 1] - first_point;
                        let mine = &mut point_slots[range.clone()];
                        let coords = &points[starts[t]..starts[t + 1]];
                        if let [only] = in_tile[..] {
                            let slot = slots[only as usize] as u32;
                            let [upper, lower] =
                                single_bounds(&tile_box[t], &live, &in_block, &near, only, reach);
                            *bound = [
                                upper - drift.own[slot as usize],
                                lower + drift.others[slot as usize],
                            ];
                            match *state {
                                MIXED => {
                                    for (&p, &from) in coords.iter().zip(mine.iter()) {
                                        if from != slot {
                                            transfer(&mut delta, from, slot, point_sums(fixed, p));
                                        }
                                    }
                                }
                                from if from != slot => {
                                    transfer(&mut delta, from, slot, tile_sums[t]);
                                }
                                _ => {}
                            }
                            *state = slot;
                        } else {
                            let before = *state;
                            for (&p, own) in coords.iter().zip(mine.iter_mut()) {
                                let from = if before == MIXED { *own } else { before };
                                let slot = slots[nearest_among(p, &live, &in_tile) as usize] as u32;
                                if from != slot {
                                    transfer(&mut delta, from, slot, point_sums(fixed, p));
                                }
                                *own = slot;
                            }
                            counts.searched_points += coords.len();
                            *state = MIXED;
                        }
                    }
                    (delta, counts, [in_block, in_tile], near)
                },
            )
            .map(|(delta, counts, _, _)| (delta, counts))
            .reduce(
                || (vec![[0i128; 3]; k], StepCounts::default()),
                |(a, x), (b, y)| (add_sums(a, b), x.plus(y)),
            );
        self.counts = self.counts.plus(counts);
        for (p, own) in &mut self.loose {
            // The plain scan, as the bounded path searches a point off every
            // grid (a NaN point goes to the first live centre).
            let slot = slots[super::nearest_two(*p, &live).0] as u32;
            if *own != slot {
                transfer(&mut delta, *own, slot, point_sums(fixed, *p));
                *own = slot;
            }
        }
        delta
    }

    /// The slot of every point at the last step, by the caller's index.
    pub(super) fn slots(&self, n: usize) -> Vec<u32> {
        let mut out = vec![0u32; n];
        for (t, &state) in self.tile_slot.iter().enumerate() {
            let range = self.starts[t]..self.starts[t + 1];
            for (pos, &i) in range.clone().zip(&self.index[range]) {
                out[i as usize] = if state == MIXED {
                    self.point_slot[pos]
                } else {
                    state
                };
            }
        }
        for (&i, &(_, slot)) in self.loose_index.iter().zip(&self.loose) {
            out[i as usize] = slot;
        }
        out
    }
}
