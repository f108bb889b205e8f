//! A uniform grid over the plane with, per cell, the only centres that can
//! be nearest or second-nearest to a point in that cell.
//!
//! With a hundred base-cluster centres and a million points, most of a
//! k-means step's time went into nearest-centre searches for the points
//! whose bounds failed. A point's cell narrows the search to a handful of
//! centres, visited by their distance to the cell so that the scan stops
//! early. Points outside the grid (the few extremes beyond the box it
//! covers) fall back to the search over centres sorted by x.
//!
//! The result is exactly that of a plain scan, ties included: a centre is
//! left out of a cell only if its distance to the cell exceeds the distance
//! within which two other centres are certain to lie, so it can be neither
//! nearest, nor tied, nor second; cells are widened by a margin far above
//! rounding so that a point counted in a cell lies inside it.

use super::{Best, distance2};
use rayon::prelude::*;

/// Most cells along one side; 40 × 40 cells over 100 centres take well
/// under a millisecond to fill.
const MAX_SIDE: usize = 40;
/// Share of the points left outside the box on each side, so that a few
/// extreme points do not stretch every cell (the tiles use it too).
pub(super) const TAIL: f64 = 0.001;

/// The value below which `share` of `values` lie, and the one above which
/// `share` lie (`values` must not be empty).
pub(super) fn trimmed_range(mut values: Vec<f64>, share: f64) -> (f64, f64) {
    let cut = ((values.len() as f64) * share) as usize;
    let last = values.len() - 1 - cut;
    let low = *values.select_nth_unstable_by(cut, f64::total_cmp).1;
    let high = *values.select_nth_unstable_by(last, f64::total_cmp).1;
    (low, high)
}

/// The box the grid covers, chosen once per k-means run from the points.
#[derive(Debug, Clone, Copy)]
pub(super) struct GridBox {
    lo: [f64; 2],
    hi: [f64; 2],
    side: usize,
}

impl GridBox {
    /// The box holding all but the outer `TAIL` of the points along each
    /// axis, cut into `side × side` cells; `None` when a grid would not pay
    /// (few centres or points) or the points are degenerate.
    pub(super) fn around(points: &[[f64; 2]], centres: usize) -> Option<GridBox> {
        let by_centres = (4.0 * (centres as f64).sqrt()) as usize;
        // Filling costs cells × centres per step and saves a little on each
        // point searched, a fraction of the points: no more cells than
        // points per centre.
        let by_points = ((points.len() / centres.max(1)) as f64).sqrt() as usize;
        let side = by_centres.min(by_points).min(MAX_SIDE);
        if side < 2 {
            return None;
        }
        let mut lo = [0.0; 2];
        let mut hi = [0.0; 2];
        for axis in 0..2 {
            (lo[axis], hi[axis]) = trimmed_range(points.iter().map(|p| p[axis]).collect(), TAIL);
            if !(lo[axis].is_finite() && hi[axis].is_finite() && hi[axis] > lo[axis]) {
                return None;
            }
        }
        Some(GridBox { lo, hi, side })
    }
}

/// The centres that can be nearest or second-nearest to some point of the
/// cell `[x0, x1] × [y0, y1]`, with their squared distance to the cell,
/// nearest first: every point of the cell has two centres within the
/// second smallest of the centres' farthest distances to the cell.
fn cell_candidates(x: [f64; 2], y: [f64; 2], centres: &[[f64; 2]]) -> Vec<(u32, f64)> {
    let ([x0, x1], [y0, y1]) = (x, y);
    let (mut far1, mut far2) = (f64::INFINITY, f64::INFINITY);
    let mut near = Vec::with_capacity(centres.len());
    for (i, c) in centres.iter().enumerate() {
        let dx = (x0 - c[0]).max(c[0] - x1).max(0.0);
        let dy = (y0 - c[1]).max(c[1] - y1).max(0.0);
        let fx = (c[0] - x0).abs().max((c[0] - x1).abs());
        let fy = (c[1] - y0).abs().max((c[1] - y1).abs());
        let far = fx * fx + fy * fy;
        if far < far1 {
            far2 = far1;
            far1 = far;
        } else if far < far2 {
            far2 = far;
        }
        near.push((i as u32, dx * dx + dy * dy));
    }
    let reach = far2 * (1.0 + 1e-9);
    near.retain(|&(_, d)| d <= reach);
    near.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    near
}

/// The grid for one set of centres.
pub(super) struct CentreGrid {
    area: GridBox,
    /// Cells per unit along each axis.
    scale: [f64; 2],
    /// Cell `c`'s candidates are `candidates[offsets[c]..offsets[c + 1]]`.
    offsets: Vec<u32>,
    /// (centre index, squared distance from the widened cell), ascending
    /// by distance.
    candidates: Vec<(u32, f64)>,
}

impl CentreGrid {
    /// Fills every cell's candidate list for `centres`.
    pub(super) fn new(area: GridBox, centres: &[[f64; 2]]) -> CentreGrid {
        let side = area.side;
        let width = [
            (area.hi[0] - area.lo[0]) / side as f64,
            (area.hi[1] - area.lo[1]) / side as f64,
        ];
        // Far above the rounding of a cell's bounds and of the cell lookup,
        // far below any distance between distinct centres that matters.
        let pad = [width[0] * 1e-6, width[1] * 1e-6];
        // Cells are independent. Filled on one thread, with the others
        // idle, they took ≈ 17 % of a step's wall time at 50 M votes.
        let cells: Vec<Vec<(u32, f64)>> = (0..side * side)
            .into_par_iter()
            .with_min_len(side)
            .map(|cell| {
                let (cx, cy) = (cell % side, cell / side);
                let x0 = area.lo[0] + cx as f64 * width[0] - pad[0];
                let x1 = area.lo[0] + (cx + 1) as f64 * width[0] + pad[0];
                let y0 = area.lo[1] + cy as f64 * width[1] - pad[1];
                let y1 = area.lo[1] + (cy + 1) as f64 * width[1] + pad[1];
                cell_candidates([x0, x1], [y0, y1], centres)
            })
            .collect();
        let mut offsets = Vec::with_capacity(side * side + 1);
        let mut candidates = Vec::with_capacity(cells.iter().map(Vec::len).sum());
        offsets.push(0);
        for near in &cells {
            candidates.extend_from_slice(near);
            offsets.push(candidates.len() as u32);
        }
        CentreGrid {
            area,
            scale: [1.0 / width[0], 1.0 / width[1]],
            offsets,
            candidates,
        }
    }

    /// The cell holding `p`, if the grid covers it (never for NaN).
    #[inline]
    fn cell(&self, p: [f64; 2]) -> Option<usize> {
        let a = &self.area;
        if !(p[0] >= a.lo[0] && p[0] <= a.hi[0] && p[1] >= a.lo[1] && p[1] <= a.hi[1]) {
            return None;
        }
        let last = a.side - 1;
        let cx = (((p[0] - a.lo[0]) * self.scale[0]) as usize).min(last);
        let cy = (((p[1] - a.lo[1]) * self.scale[1]) as usize).min(last);
        Some(cy * a.side + cx)
    }

    /// Nearest centre, its squared distance and the squared distance to the
    /// second nearest, as `nearest_two` over all centres gives them; `None`
    /// for a point outside the grid.
    #[inline]
    pub(super) fn nearest_two(
        &self,
        p: [f64; 2],
        centres: &[[f64; 2]],
    ) -> Option<(usize, f64, f64)> {
        let cell = self.cell(p)?;
        let range = self.offsets[cell] as usize..self.offsets[cell + 1] as usize;
        let mut best = Best::new();
        for &(i, to_cell) in &self.candidates[range] {
            // Candidates come nearest cell first: once even the cell is
            // farther than the second best, no later one can place.
            if to_cell > best.second_d {
                break;
            }
            best.consider(i as usize, distance2(p, centres[i as usize]));
        }
        Some(best.result())
    }
}
