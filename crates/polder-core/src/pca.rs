//! Principal components of the vote matrix by block power iteration.
//!
//! Polis fills every missing cell with its column mean and centres the
//! columns; a missing cell therefore becomes exactly zero in the centred
//! matrix `X`, which keeps `X` as sparse as the votes. Moderated-out columns
//! are zeroed for every participant, so they are zero in `X` as well.
//!
//! Polis finds each component by power iteration on `XᵀX` and deflates the
//! data before the next. polder iterates both vectors at once (orthogonal
//! iteration: multiply, then Gram–Schmidt), which has the same fixed points
//! and touches every vote once per iteration instead of once per component.
//! Iteration stops when neither vector moves by more than the tolerance, so
//! a warm start from the previous components converges in a few passes.

use crate::parallel;
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::matrix::VoteMatrix;

/// Number of principal components polder computes (Polis `n-comps`).
pub const N_COMPONENTS: usize = 2;

/// Tuning of the power iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PcaConfig {
    /// Upper bound on the number of passes over the votes.
    pub max_iterations: usize,
    /// Convergence threshold on the largest change of any component entry.
    pub tolerance: f64,
}

impl Default for PcaConfig {
    fn default() -> Self {
        PcaConfig {
            max_iterations: 1000,
            tolerance: 1e-9,
        }
    }
}

/// The per-column model the geometry works with.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnModel {
    /// Column means of the non-missing votes (export sign); 0 for
    /// moderated-out columns.
    pub center: Vec<f64>,
    /// Whether the column takes part in the geometry (not moderated out).
    pub live: Vec<bool>,
}

impl ColumnModel {
    /// Number of moderated-out columns; they count as a vote of every
    /// participant in the projection scaling, as in Polis.
    pub fn n_zeroed(&self) -> usize {
        self.live.iter().filter(|&&l| !l).count()
    }

    /// Centred value of every possible vote in every column, laid out as
    /// `[disagree, pass, agree]` per column; zero for moderated-out columns.
    fn centred_values(&self) -> Vec<f64> {
        let mut table = vec![0.0; self.center.len() * 3];
        for (c, (&mu, &live)) in self.center.iter().zip(&self.live).enumerate() {
            if live {
                table[3 * c] = -1.0 - mu;
                table[3 * c + 1] = -mu;
                table[3 * c + 2] = 1.0 - mu;
            }
        }
        table
    }
}

/// Result of the power iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Components {
    /// Unit vectors over the columns, orthogonal to each other; a component
    /// is all zeros when the data has no variance left for it.
    pub vectors: [Vec<f64>; N_COMPONENTS],
    /// Variance along each component (Rayleigh quotient of `XᵀX / n`).
    pub variance: [f64; N_COMPONENTS],
    /// Passes over the votes that were needed.
    pub iterations: usize,
    /// Whether the tolerance was reached within the iteration budget.
    pub converged: bool,
}

/// Computes the two leading principal components.
///
/// `start` are warm-start vectors over the same columns (e.g. last update's
/// components, padded for new statements); without them the start is a
/// pseudo-random vector from `seed`, and the signs are normalised so that
/// the largest entry of each component is positive. With a warm start the
/// signs follow the start vectors, which keeps the opinion map from
/// flipping between updates.
pub fn principal_components(
    matrix: &VoteMatrix,
    columns: &ColumnModel,
    start: Option<&[Vec<f64>; N_COMPONENTS]>,
    seed: u64,
    config: &PcaConfig,
) -> Components {
    let n_cols = matrix.n_statements();
    let table = columns.centred_values();
    let fresh = start.is_none() || start.is_some_and(|s| s.iter().any(|v| norm(v) == 0.0));
    let mut basis = match start {
        Some(s) if !fresh => s.clone(),
        _ => random_start(n_cols, seed),
    };
    orthonormalise(&mut basis);

    let mut iterations = 0;
    let mut converged = false;
    let mut variance = [0.0; N_COMPONENTS];
    while iterations < config.max_iterations {
        iterations += 1;
        let mut next = gram_times(matrix, &table, &basis);
        for k in 0..N_COMPONENTS {
            variance[k] = dot(&next[k], &basis[k]) / matrix.n_participants().max(1) as f64;
        }
        orthonormalise(&mut next);
        let change = basis
            .iter()
            .zip(&next)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
            .fold(0.0, f64::max);
        basis = next;
        if change <= config.tolerance {
            converged = true;
            break;
        }
    }
    if fresh {
        for v in &mut basis {
            normalise_sign(v);
        }
    }
    Components {
        vectors: basis,
        variance,
        iterations,
        converged,
    }
}

/// `XᵀX V` for a block of `K` column vectors stored row-major (`v[c * K + j]`),
/// in one pass over the votes. `K` is a constant so that the inner loops unroll.
fn gram_block<const K: usize>(matrix: &VoteMatrix, table: &[f64], v: &[f64]) -> Vec<f64> {
    let n_cols = matrix.n_statements();
    parallel::sum_rows(matrix.n_participants(), K * n_cols, |rows, acc| {
        for row in rows {
            let (cols, vals) = matrix.row(row);
            let mut d = [0.0; K];
            for (&c, &x) in cols.iter().zip(vals) {
                let c = c as usize;
                let x = table[3 * c + (x + 1) as usize];
                for j in 0..K {
                    d[j] += x * v[c * K + j];
                }
            }
            for (&c, &x) in cols.iter().zip(vals) {
                let c = c as usize;
                let x = table[3 * c + (x + 1) as usize];
                for j in 0..K {
                    acc[c * K + j] += x * d[j];
                }
            }
        }
    })
}

/// `XᵀX V` for the two vectors of `basis`.
fn gram_times(
    matrix: &VoteMatrix,
    table: &[f64],
    basis: &[Vec<f64>; N_COMPONENTS],
) -> [Vec<f64>; N_COMPONENTS] {
    let n_cols = matrix.n_statements();
    let mut v = vec![0.0; 2 * n_cols];
    for c in 0..n_cols {
        v[2 * c] = basis[0][c];
        v[2 * c + 1] = basis[1][c];
    }
    let w = gram_block::<2>(matrix, table, &v);
    let mut out = [vec![0.0; n_cols], vec![0.0; n_cols]];
    for c in 0..n_cols {
        out[0][c] = w[2 * c];
        out[1][c] = w[2 * c + 1];
    }
    out
}

fn random_start(n: usize, seed: u64) -> [Vec<f64>; N_COMPONENTS] {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    // Uniform in [0, 1) as Polis starts; the seed makes it reproducible.
    std::array::from_fn(|_| (0..n).map(|_| rng.r#gen::<f64>()).collect())
}

/// Gram–Schmidt in place; a vector with nothing left after removing the
/// earlier ones becomes zero.
fn orthonormalise(basis: &mut [Vec<f64>; N_COMPONENTS]) {
    for k in 0..N_COMPONENTS {
        let (done, rest) = basis.split_at_mut(k);
        let v = &mut rest[0];
        for u in done.iter() {
            let d = dot(v, u);
            for (x, y) in v.iter_mut().zip(u) {
                *x -= d * y;
            }
        }
        let n = norm(v);
        // Relative to the column count: below this the vector is rounding noise.
        if n > 1e-12 {
            for x in v.iter_mut() {
                *x /= n;
            }
        } else {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }
}

fn normalise_sign(v: &mut [f64]) {
    let mut best = 0.0f64;
    let mut sign = 1.0;
    for &x in v.iter() {
        if x.abs() > best.abs() {
            best = x;
            sign = x.signum();
        }
    }
    if sign < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Projects every participant onto the components, Polis's
/// sparsity-aware way: the dot product over the cells the participant voted
/// on, scaled by `√(columns / cells voted)` so that people who voted on few
/// statements are not pulled into the centre.
pub fn project_participants(
    matrix: &VoteMatrix,
    columns: &ColumnModel,
    components: &[Vec<f64>; N_COMPONENTS],
) -> Vec<[f64; 2]> {
    use rayon::prelude::*;
    let table = columns.centred_values();
    let n_cols = matrix.n_statements() as f64;
    let zeroed = columns.n_zeroed();
    (0..matrix.n_participants())
        .into_par_iter()
        .with_min_len(parallel::MIN_ITEMS_PER_TASK)
        .map(|row| {
            let (cols, vals) = matrix.row(row);
            let (mut p0, mut p1) = (0.0, 0.0);
            let mut seen = zeroed;
            for (&c, &x) in cols.iter().zip(vals) {
                let c = c as usize;
                if columns.live[c] {
                    let x = table[3 * c + (x + 1) as usize];
                    p0 += x * components[0][c];
                    p1 += x * components[1][c];
                    seen += 1;
                }
            }
            let scale = (n_cols / seen.max(1) as f64).sqrt();
            [p0 * scale, p1 * scale]
        })
        .collect()
}

/// Projects each statement as a virtual participant who agreed with it and
/// saw nothing else; returns the projections and their lengths (Polis
/// `comment-projection` and `comment-extremity`, in export sign).
pub fn project_statements(
    columns: &ColumnModel,
    components: &[Vec<f64>; N_COMPONENTS],
) -> (Vec<[f64; 2]>, Vec<f64>) {
    let n = columns.center.len();
    let scale = (n as f64).sqrt();
    let projections: Vec<[f64; 2]> = (0..n)
        .map(|c| {
            let x = if columns.live[c] {
                1.0 - columns.center[c]
            } else {
                0.0
            };
            [scale * x * components[0][c], scale * x * components[1][c]]
        })
        .collect();
    let extremity = projections
        .iter()
        .map(|p| (p[0] * p[0] + p[1] * p[1]).sqrt())
        .collect();
    (projections, extremity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vote::{ParticipantId, StatementId, Vote, VoteEvent};

    fn matrix(rows: &[&[i8]]) -> VoteMatrix {
        let mut events = Vec::new();
        for (p, row) in rows.iter().enumerate() {
            for (s, &v) in row.iter().enumerate() {
                if let Some(vote) = Vote::from_value(i64::from(v)) {
                    events.push(VoteEvent {
                        participant: ParticipantId(p as u32),
                        statement: StatementId(s as u32),
                        vote,
                        timestamp: 0,
                    });
                }
            }
        }
        VoteMatrix::from_events(&events).unwrap()
    }

    fn model(m: &VoteMatrix) -> ColumnModel {
        let n = m.n_statements();
        let mut sum = vec![0.0; n];
        let mut count = vec![0.0; n];
        for r in 0..m.n_participants() {
            let (c, v) = m.row(r);
            for (&c, &v) in c.iter().zip(v) {
                sum[c as usize] += f64::from(v);
                count[c as usize] += 1.0;
            }
        }
        ColumnModel {
            center: sum.iter().zip(&count).map(|(s, c)| s / c).collect(),
            live: vec![true; n],
        }
    }

    #[test]
    fn finds_the_dominant_axis_of_two_camps() {
        // Two camps that disagree on statements 0-2 and share statement 3.
        let m = matrix(&[
            &[1, 1, 1, 1],
            &[1, 1, 1, 1],
            &[-1, -1, -1, 1],
            &[-1, -1, -1, 1],
        ]);
        let cols = model(&m);
        let pc = principal_components(&m, &cols, None, 7, &PcaConfig::default());
        assert!(pc.converged);
        let expected = 1.0 / 3f64.sqrt();
        for c in 0..3 {
            assert!((pc.vectors[0][c].abs() - expected).abs() < 1e-9);
        }
        assert!(pc.vectors[0][3].abs() < 1e-9);
        let proj = project_participants(&m, &cols, &pc.vectors);
        assert!((proj[0][0] + proj[2][0]).abs() < 1e-9);
        assert!(proj[0][0].abs() > 1.0);
    }

    #[test]
    fn fresh_starts_agree_across_seeds() {
        let m = matrix(&[
            &[1, 0, -1, 1, 1],
            &[1, 1, -1, 0, 1],
            &[-1, -1, 1, 1, 0],
            &[-1, 0, 1, -1, -1],
            &[0, 1, 1, -1, 1],
        ]);
        let cols = model(&m);
        let a = principal_components(&m, &cols, None, 1, &PcaConfig::default());
        let b = principal_components(&m, &cols, None, 99, &PcaConfig::default());
        for k in 0..2 {
            for (x, y) in a.vectors[k].iter().zip(&b.vectors[k]) {
                assert!((x - y).abs() < 1e-6, "{x} vs {y}");
            }
        }
    }
}
