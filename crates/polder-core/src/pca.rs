//! Principal components of the vote matrix by block Lanczos iteration.
//!
//! Polis fills every missing cell with its column mean and centres the
//! columns; a missing cell therefore becomes exactly zero in the centred
//! matrix `X`, which keeps `X` as sparse as the votes. Moderated-out columns
//! are zeroed for every participant, so they are zero in `X` as well.
//!
//! Polis finds each component by power iteration on `XᵀX` and deflates the
//! data before the next. polder computes the same two leading eigenvectors
//! of `XᵀX` with a block Krylov method (block Lanczos with full
//! reorthogonalisation and Rayleigh–Ritz, see [`Krylov`]): each pass over the
//! votes multiplies a block of two vectors, and the estimates are the best
//! ones in the span of every vector multiplied so far, which converges in a
//! fraction of the passes power iteration needs (10 instead of 38 on the
//! 10 M-vote synthetic conversation, and closer to the exact vectors).
//! Iteration stops when the residual of each estimate (`XᵀX v − θ v`, known
//! without a pass from the products already made), divided by the gap to
//! the nearest other Ritz value, puts every entry within the tolerance of
//! the exact eigenvector — or when neither estimate moved by more than the
//! tolerance — so a warm start from the previous components converges in a
//! few passes.

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
    /// Convergence threshold on the error of any component entry: the
    /// iteration stops when the residual bound puts every entry of both
    /// estimates within this of the exact eigenvectors, or when a pass
    /// moved no entry by more than this.
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
    let mut estimate = match start {
        Some(s) if !fresh => s.clone(),
        _ => random_start(n_cols, seed),
    };
    orthonormalise(&mut estimate);
    let n = matrix.n_participants().max(1) as f64;

    let mut krylov = Krylov::default();
    // The first block to multiply: the start vectors that are not zero.
    let mut pending: Vec<Vec<f64>> = estimate.iter().filter(|v| norm(v) > 0.0).cloned().collect();
    let mut iterations = 0;
    let mut converged = false;
    let mut variance = [0.0; N_COMPONENTS];
    while iterations < config.max_iterations {
        if pending.is_empty() {
            // The basis is an invariant subspace: its Ritz vectors are exact.
            converged = true;
            break;
        }
        iterations += 1;
        let products = gram_vectors(matrix, &table, &pending);
        krylov.extend(std::mem::take(&mut pending), products);
        let ritz = krylov.ritz(N_COMPONENTS);
        let (values, vectors) = (&ritz.values, &ritz.vectors);
        let mut change = 0.0f64;
        for k in 0..N_COMPONENTS {
            let mut v = match vectors.get(k) {
                // Relative to unit vectors, as in `orthonormalise`: below this
                // the component is rounding noise, i.e. there is no variance left.
                Some(v) if values[k] > 1e-12 => v.clone(),
                _ => vec![0.0; n_cols],
            };
            // Ritz vectors have no sign of their own; keep the previous
            // estimate's, so that the change measures movement and warm
            // starts keep the start's signs.
            if dot(&v, &estimate[k]) < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            change = v
                .iter()
                .zip(&estimate[k])
                .map(|(x, y)| (x - y).abs())
                .fold(change, f64::max);
            variance[k] = values.get(k).copied().unwrap_or(0.0).max(0.0) / n;
            estimate[k] = v;
        }
        // The residual bound speaks for the estimates just made, while the
        // change speaks for the previous ones: waiting for the change to
        // fall below the tolerance costs one pass more (a tenth of a
        // recompute at 50 M votes) for vectors that are already there.
        let error = max_or_nan(ritz.errors.iter().copied());
        if change <= config.tolerance || error <= config.tolerance {
            converged = true;
            break;
        }
        pending = krylov.next_block();
        if krylov.len() + pending.len() > MAX_BASIS {
            krylov.restart(KEPT_ON_RESTART);
        }
    }
    if fresh {
        for v in &mut estimate {
            normalise_sign(v);
        }
    }
    Components {
        vectors: estimate,
        variance,
        iterations,
        converged,
    }
}

/// Largest Krylov basis kept before a restart; `2 · MAX_BASIS` vectors over
/// the columns, small next to the votes.
const MAX_BASIS: usize = 64;
/// Ritz vectors kept when the basis is restarted (thick restart).
const KEPT_ON_RESTART: usize = 16;

/// An orthonormal basis `Q` of a Krylov subspace of `XᵀX`, the products
/// `XᵀX Q`, the projected matrix `H = Qᵀ XᵀX Q` and the last products, whose
/// new directions extend the basis next.
///
/// Block Lanczos with full reorthogonalisation: every pass multiplies the
/// newest block (two vectors) and Rayleigh–Ritz over the whole basis gives
/// the estimates. The top eigenvectors converge at a rate set by their gap
/// to the rest of the spectrum relative to its width, much faster than the
/// ratio `λ₃/λ₂` of plain orthogonal iteration, and to the same vectors.
/// `H` is built from explicit dot products rather than the Lanczos
/// recurrence, so it stays exact even though restarts break the
/// tridiagonal structure.
#[derive(Default)]
struct Krylov {
    q: Vec<Vec<f64>>,
    aq: Vec<Vec<f64>>,
    h: Vec<Vec<f64>>,
    last: Vec<Vec<f64>>,
}

impl Krylov {
    fn len(&self) -> usize {
        self.q.len()
    }

    /// Adds orthonormal vectors (orthogonal to the basis) and their products.
    fn extend(&mut self, vectors: Vec<Vec<f64>>, products: Vec<Vec<f64>>) {
        self.last = products.clone();
        for (v, p) in vectors.into_iter().zip(products) {
            let b = self.q.len();
            self.q.push(v);
            self.aq.push(p);
            let row: Vec<f64> = (0..=b)
                .map(|a| {
                    // Symmetrised: XᵀX is symmetric, the rounding is not.
                    0.5 * (dot(&self.q[a], &self.aq[b]) + dot(&self.q[b], &self.aq[a]))
                })
                .collect();
            for (a, &x) in row.iter().enumerate().take(b) {
                self.h[a].push(x);
            }
            self.h.push(row);
        }
    }

    /// The `count` largest Ritz values, descending, their Ritz vectors
    /// (fewer when the basis is smaller), and an estimate of how far each
    /// vector is from its eigenvector.
    fn ritz(&self, count: usize) -> Ritz {
        let (values, y) = symmetric_eigen(self.h.clone());
        let count = count.min(values.len());
        let vectors: Vec<Vec<f64>> = (0..count).map(|k| combine(&self.q, &y, k)).collect();
        // Residual `XᵀX v − θ v` of Ritz pair `i`, from the stored
        // products: no pass over the votes.
        let residual = |i: usize, v: &[f64]| -> Vec<f64> {
            let product = combine(&self.aq, &y, i);
            product
                .iter()
                .zip(v)
                .map(|(p, x)| p - values[i] * x)
                .collect()
        };
        let errors = if values.len() > count {
            // The next Ritz value stands in for the eigenvalues beyond the
            // ones asked for. It lies below the eigenvalue it approaches, so
            // the gap to it is trusted only once its own residual is small
            // next to that gap, and is shortened by that residual.
            let next = combine(&self.q, &y, count);
            let next_off = norm(&residual(count, &next));
            (0..count)
                .map(|k| {
                    let r = residual(k, &vectors[k]);
                    let largest = max_or_nan(r.iter().map(|x| x.abs()));
                    let below = values[k] - values[count];
                    let among = (0..count)
                        .filter(|&j| j != k)
                        .map(|j| (values[k] - values[j]).abs())
                        .fold(f64::INFINITY, f64::min);
                    let gap = among.min(below - next_off);
                    if next_off < below / 2.0 && gap > 0.0 {
                        largest / gap
                    } else {
                        f64::INFINITY
                    }
                })
                .collect()
        } else {
            vec![f64::INFINITY; count]
        };
        Ritz {
            values: values[..count].to_vec(),
            vectors,
            errors,
        }
    }

    /// The directions of the last products not yet in the basis, orthonormal.
    fn next_block(&self) -> Vec<Vec<f64>> {
        let mut block: Vec<Vec<f64>> = Vec::new();
        for w in &self.last {
            let scale = norm(w);
            if scale == 0.0 {
                continue;
            }
            let mut v = w.clone();
            // Classical Gram–Schmidt twice ("twice is enough") keeps the
            // basis orthogonal to rounding precision.
            for _ in 0..2 {
                for u in self.q.iter().chain(&block) {
                    let d = dot(&v, u);
                    v.iter_mut().zip(u).for_each(|(x, y)| *x -= d * y);
                }
            }
            let left = norm(&v);
            // What is left below this is rounding noise: the product lies in
            // the basis already, which is then invariant in that direction.
            if left > 1e-10 * scale {
                v.iter_mut().for_each(|x| *x /= left);
                block.push(v);
            }
        }
        block
    }

    /// Replaces the basis by its `keep` leading Ritz vectors; their products
    /// follow from the stored ones, so the restart costs no pass. The last
    /// products are kept: the next block is orthogonalised against the new basis.
    fn restart(&mut self, keep: usize) {
        let (_, y) = symmetric_eigen(self.h.clone());
        let keep = keep.min(self.q.len());
        let q: Vec<Vec<f64>> = (0..keep).map(|k| combine(&self.q, &y, k)).collect();
        let aq: Vec<Vec<f64>> = (0..keep).map(|k| combine(&self.aq, &y, k)).collect();
        let last = std::mem::take(&mut self.last);
        *self = Krylov::default();
        self.extend(q, aq);
        self.last = last;
    }
}

/// The largest of non-negative values, or NaN if any is NaN (so that a
/// NaN never passes for converged); 0 for none.
fn max_or_nan(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |m, x| if x.is_nan() || x > m { x } else { m })
}

/// Rayleigh–Ritz estimates from a Krylov basis.
struct Ritz {
    /// Ritz values, descending.
    values: Vec<f64>,
    /// Their unit Ritz vectors.
    vectors: Vec<Vec<f64>>,
    /// Estimated largest entry error of each vector: the largest entry of
    /// its residual over the gap to the nearest other Ritz value, after the
    /// sine bound of Davis and Kahan, with Ritz values standing in for the
    /// eigenvalues they converge to (the next one only once its own
    /// residual is under half its gap, and less that residual). An
    /// estimate, not a bound: the bound would take the residual's length,
    /// up to √columns times its largest entry, and would cost the pass the
    /// estimate saves. On the synthetic conversations it is 1.5 to 2
    /// times the error the next pass reveals, and the tests hold it to the
    /// tolerance against exact vectors, near-equal eigenvalues included (an
    /// estimate three times smaller still passes them, eight times not).
    /// Infinite until there is a trusted Ritz value beyond the ones asked for.
    errors: Vec<f64>,
}

/// `Σ_b y[b][k] · basis[b]`.
fn combine(basis: &[Vec<f64>], y: &[Vec<f64>], k: usize) -> Vec<f64> {
    let mut out = vec![0.0; basis.first().map_or(0, Vec::len)];
    for (b, v) in basis.iter().enumerate() {
        let w = y[b][k];
        out.iter_mut().zip(v).for_each(|(o, x)| *o += w * x);
    }
    out
}

/// Eigenvalues (descending) and eigenvectors (`vectors[i][k]`: entry `i` of
/// the `k`-th) of a small symmetric matrix.
///
/// Householder tridiagonalisation and implicit QR (`linfa-linalg`), about
/// ten times cheaper than cyclic Jacobi sweeps at the 30–64 rows a Krylov
/// basis reaches; on small conversations this solve, repeated every pass,
/// was a quarter of the whole update. Sequential, so the result does not
/// depend on the thread count.
fn symmetric_eigen(a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    use linfa_linalg::eigh::EighInto;
    let m = a.len();
    let identity = || -> Vec<Vec<f64>> {
        (0..m)
            .map(|i| (0..m).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect()
    };
    // `H` holds dot products of finite vectors, so it is finite; the guard
    // keeps a NaN (on which the solver would panic) from ever reaching it.
    if !a.iter().flatten().all(|x| x.is_finite()) {
        return (vec![0.0; m], identity());
    }
    let flat: Vec<f64> = a.into_iter().flatten().collect();
    let Ok(matrix) = ndarray::Array2::from_shape_vec((m, m), flat) else {
        // Unreachable: `H` is square by construction (`Krylov::extend`).
        return (vec![0.0; m], identity());
    };
    let Ok((values, vectors)) = matrix.eigh_into() else {
        // The solver fails only on non-square input, excluded above.
        return (vec![0.0; m], identity());
    };
    let mut order: Vec<usize> = (0..m).collect();
    // Descending; ties by index so the order is deterministic.
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]).then(i.cmp(&j)));
    let sorted = order.iter().map(|&k| values[k]).collect();
    let vectors = (0..m)
        .map(|i| order.iter().map(|&k| vectors[[i, k]]).collect())
        .collect();
    (sorted, vectors)
}

/// `XᵀX v` for each of up to two vectors, in one pass over the votes.
fn gram_vectors(matrix: &VoteMatrix, table: &[f64], vectors: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n_cols = matrix.n_statements();
    match vectors {
        [v] => vec![gram_block::<1>(matrix, table, v)],
        [a, b] => {
            let mut v = vec![0.0; 2 * n_cols];
            for c in 0..n_cols {
                v[2 * c] = a[c];
                v[2 * c + 1] = b[c];
            }
            let w = gram_block::<2>(matrix, table, &v);
            vec![
                (0..n_cols).map(|c| w[2 * c]).collect(),
                (0..n_cols).map(|c| w[2 * c + 1]).collect(),
            ]
        }
        _ => vectors
            .iter()
            .map(|v| gram_block::<1>(matrix, table, v))
            .collect(),
    }
}

/// The former method, plain orthogonal iteration; kept as the reference the
/// Krylov method is tested against.
#[cfg(test)]
fn power_iteration(
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

/// Row chunks of one `gram_block` pass. Each chunk owns an accumulator of
/// `3 · K · columns` floats that must be zeroed and added up every pass, so
/// a few dozen chunks (plenty to balance the threads) beat the default 128.
const GRAM_CHUNKS: usize = 32;

/// Slot of a vote in the per-(column, vote) tables: `3 · column + vote + 1`.
#[inline(always)]
fn slot(column: u32, value: i8) -> usize {
    3 * column as usize + (value + 1) as usize
}

/// `XᵀX V` for a block of `K` column vectors stored row-major (`v[c * K + j]`),
/// in one pass over the votes. `K` is a constant so that the inner loops unroll.
///
/// A cell of `X` takes one of three values per column (the centred disagree,
/// pass and agree), so both halves of the pass become table sums without a
/// multiplication per vote: the row products `d = x·V` add up entries of
/// `x_{c,s} · V_c` precomputed per (column, vote) slot, and `Xᵀd` is
/// accumulated per slot (`Σ d` over the rows that cast vote `s` on column
/// `c`) and multiplied by the centred value once per slot at the end.
fn gram_block<const K: usize>(matrix: &VoteMatrix, table: &[f64], v: &[f64]) -> Vec<f64> {
    let n_cols = matrix.n_statements();
    let n_slots = 3 * n_cols;
    let scaled: Vec<[f64; K]> = (0..n_slots)
        .map(|s| std::array::from_fn(|j| table[s] * v[(s / 3) * K + j]))
        .collect();
    let rows = parallel::few_chunks(matrix.n_participants(), GRAM_CHUNKS);
    let by_slot = parallel::sum_chunks(rows, K * n_slots, |rows, acc| {
        // The width is K · n_slots, so the chunks are exact.
        let (acc, _) = acc.as_chunks_mut::<K>();
        for row in rows {
            let (cols, vals) = matrix.row(row);
            // Two interleaved sums halve the dependency chain of the adds.
            let mut d = [[0.0; K]; 2];
            let (col_pairs, col_rest) = cols.as_chunks::<2>();
            let (val_pairs, val_rest) = vals.as_chunks::<2>();
            for (c, x) in col_pairs.iter().zip(val_pairs) {
                let a = &scaled[slot(c[0], x[0])];
                let b = &scaled[slot(c[1], x[1])];
                for j in 0..K {
                    d[0][j] += a[j];
                    d[1][j] += b[j];
                }
            }
            for (&c, &x) in col_rest.iter().zip(val_rest) {
                let a = &scaled[slot(c, x)];
                for j in 0..K {
                    d[0][j] += a[j];
                }
            }
            let d: [f64; K] = std::array::from_fn(|j| d[0][j] + d[1][j]);
            for (&c, &x) in cols.iter().zip(vals) {
                let a = &mut acc[slot(c, x)];
                for j in 0..K {
                    a[j] += d[j];
                }
            }
        }
    });
    let mut out = vec![0.0; K * n_cols];
    for (s, sums) in by_slot.as_chunks::<K>().0.iter().enumerate() {
        for j in 0..K {
            out[(s / 3) * K + j] += table[s] * sums[j];
        }
    }
    out
}

/// `XᵀX V` for the two vectors of `basis`.
#[cfg(test)]
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
    // Per (statement, vote) slot, the two products and whether the
    // statement counts: one 24-byte read a vote instead of four scattered
    // ones. Products and their order of summation are those of the plain
    // loop, so the projections are the same bit for bit.
    let by_slot: Vec<[f64; 3]> = (0..table.len())
        .map(|s| {
            let c = s / 3;
            if columns.live[c] {
                [
                    table[s] * components[0][c],
                    table[s] * components[1][c],
                    1.0,
                ]
            } else {
                // -0.0 is the identity of addition (0.0 would turn a -0.0
                // sum into 0.0), so a skipped statement adds nothing.
                [-0.0, -0.0, 0.0]
            }
        })
        .collect();
    (0..matrix.n_participants())
        .into_par_iter()
        .with_min_len(parallel::MIN_ITEMS_PER_TASK)
        .map(|row| {
            let (cols, vals) = matrix.row(row);
            let (mut p0, mut p1, mut seen) = (0.0, 0.0, 0.0);
            for (&c, &x) in cols.iter().zip(vals) {
                let s = &by_slot[slot(c, x)];
                p0 += s[0];
                p1 += s[1];
                seen += s[2];
            }
            let seen = zeroed + seen as usize;
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

    /// A conversation with three camps plus noise, big enough for the
    /// iteration to take several passes.
    fn camps(n: usize, s: usize, seed: u64) -> VoteMatrix {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut events = Vec::new();
        for p in 0..n {
            let camp = p % 3;
            for st in 0..s {
                if rng.r#gen::<f64>() < 0.4 {
                    continue;
                }
                let lean = [(st % 3 == camp) as i64 * 2 - 1, 0, 1][st % 2];
                let v = if rng.r#gen::<f64>() < 0.7 {
                    lean
                } else {
                    rng.gen_range(-1..=1)
                };
                events.push(event(p, st, v));
            }
        }
        VoteMatrix::from_events(&events).unwrap()
    }

    /// A vote of participant `p` on statement `st`, value -1, 0 or 1.
    fn event(p: usize, st: usize, v: i64) -> VoteEvent {
        VoteEvent {
            participant: ParticipantId(p as u32),
            statement: StatementId(st as u32),
            vote: Vote::from_value(v).unwrap(),
            timestamp: 0,
        }
    }

    fn max_diff_up_to_sign(a: &[f64], b: &[f64]) -> f64 {
        let s = if dot(a, b) < 0.0 { -1.0 } else { 1.0 };
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - s * y).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn gram_block_matches_the_dense_product() {
        let m = camps(300, 17, 3);
        let cols = model(&m);
        let table = cols.centred_values();
        let n_cols = m.n_statements();
        // Dense centred X, missing cells zero.
        let mut x = vec![vec![0.0; n_cols]; m.n_participants()];
        for (r, row) in x.iter_mut().enumerate() {
            let (c, v) = m.row(r);
            for (&c, &v) in c.iter().zip(v) {
                row[c as usize] = table[slot(c, v)];
            }
        }
        let v: Vec<f64> = (0..2 * n_cols)
            .map(|i| ((i * 37) % 11) as f64 - 5.0)
            .collect();
        let got = gram_block::<2>(&m, &table, &v);
        for j in 0..2 {
            let xv: Vec<f64> = x
                .iter()
                .map(|row| (0..n_cols).map(|c| row[c] * v[2 * c + j]).sum())
                .collect();
            for c in 0..n_cols {
                let want: f64 = x.iter().zip(&xv).map(|(row, d)| row[c] * d).sum();
                assert!((got[2 * c + j] - want).abs() <= 1e-9 * want.abs().max(1.0));
            }
        }
        let one = gram_block::<1>(
            &m,
            &table,
            &v.iter().step_by(2).copied().collect::<Vec<_>>(),
        );
        for c in 0..n_cols {
            assert!((one[c] - got[2 * c]).abs() <= 1e-9 * one[c].abs().max(1.0));
        }
    }

    #[test]
    fn symmetric_eigen_diagonalises() {
        let a: Vec<Vec<f64>> = (0..7)
            .map(|i| {
                (0..7)
                    .map(|j| 1.0 / (1.0 + (i + j) as f64) + if i == j { i as f64 } else { 0.0 })
                    .collect()
            })
            .collect();
        let (values, vectors) = symmetric_eigen(a.clone());
        for k in 0..7 {
            if k > 0 {
                assert!(values[k - 1] >= values[k]);
            }
            for i in 0..7 {
                let av: f64 = (0..7).map(|j| a[i][j] * vectors[j][k]).sum();
                assert!((av - values[k] * vectors[i][k]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn krylov_finds_the_vectors_power_iteration_finds() {
        for seed in [1, 2, 3] {
            let m = camps(600, 40, seed);
            let cols = model(&m);
            let exact = PcaConfig {
                max_iterations: 5000,
                tolerance: 1e-13,
            };
            let reference = power_iteration(&m, &cols, None, seed, &exact);
            assert!(reference.converged);
            let pc = principal_components(&m, &cols, None, seed, &PcaConfig::default());
            assert!(pc.converged);
            assert!(pc.iterations < reference.iterations);
            for k in 0..2 {
                let d = max_diff_up_to_sign(&pc.vectors[k], &reference.vectors[k]);
                assert!(d < 1e-8, "seed {seed}, component {k}: {d}");
                let rel = (pc.variance[k] - reference.variance[k]).abs() / reference.variance[k];
                assert!(rel < 1e-12, "variance {k}: {rel}");
            }
        }
    }

    /// Runs `m` to each tolerance from a fresh start and from the warm
    /// start `warm`, and checks every entry of both components against a
    /// run to 1e-13.
    fn assert_within_tolerance(
        m: &VoteMatrix,
        warm: &[Vec<f64>; N_COMPONENTS],
        seed: u64,
        tolerances: [f64; 3],
    ) {
        let cols = model(m);
        let reference = principal_components(m, &cols, None, seed, &EXACT);
        assert!(reference.converged);
        for tolerance in tolerances {
            let config = PcaConfig {
                max_iterations: 1000,
                tolerance,
            };
            for start in [None, Some(warm)] {
                let pc = principal_components(m, &cols, start, seed, &config);
                assert!(pc.converged);
                for k in 0..2 {
                    let d = max_diff_up_to_sign(&pc.vectors[k], &reference.vectors[k]);
                    assert!(
                        d <= tolerance,
                        "seed {seed}, tolerance {tolerance:e}, warm {}, component {k}: {d:e} after {} passes",
                        start.is_some(),
                        pc.iterations
                    );
                }
            }
        }
    }

    /// A run to convergence far below any tolerance tested.
    const EXACT: PcaConfig = PcaConfig {
        max_iterations: 5000,
        tolerance: 1e-13,
    };

    /// The components of `m` run to 1e-13: a warm start from another matrix.
    fn exact_components(m: &VoteMatrix, seed: u64) -> [Vec<f64>; N_COMPONENTS] {
        principal_components(m, &model(m), None, seed, &EXACT).vectors
    }

    #[test]
    fn every_entry_ends_within_the_tolerance_of_the_exact_vectors() {
        // The stop may come from the residual bound, a pass before the
        // change would show convergence: the vectors it returns must still
        // be within the tolerance, for fresh starts and for warm starts
        // from another matrix's components (a live update).
        for seed in [11, 12, 13, 14] {
            let m = camps(500 + 40 * seed as usize, 30 + seed as usize, seed);
            let other = camps(480 + 40 * seed as usize, 30 + seed as usize, seed + 100);
            assert_within_tolerance(
                &m,
                &exact_components(&other, seed),
                seed,
                [1e-5, 1e-7, 1e-9],
            );
        }
    }

    /// Votes from three hidden opinion axes of the given strengths over
    /// `s` statements: with the second and third nearly equal, the second
    /// component converges slowly and the gap to the third is small.
    fn three_axes(n: usize, s: usize, strengths: [f64; 3], seed: u64) -> VoteMatrix {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let loadings: Vec<[f64; 3]> = (0..s)
            .map(|_| std::array::from_fn(|_| rng.r#gen::<f64>() * 2.0 - 1.0))
            .collect();
        let mut events = Vec::new();
        for p in 0..n {
            let position: [f64; 3] = std::array::from_fn(|a| {
                strengths[a] * if rng.r#gen::<bool>() { 1.0 } else { -1.0 }
            });
            for (st, l) in loadings.iter().enumerate() {
                if rng.r#gen::<f64>() < 0.5 {
                    continue;
                }
                let lean: f64 = (0..3).map(|a| position[a] * l[a]).sum();
                let v = if rng.r#gen::<f64>() < 0.5 + 0.4 * lean.tanh() {
                    1
                } else {
                    -1
                };
                events.push(event(p, st, v));
            }
        }
        VoteMatrix::from_events(&events).unwrap()
    }

    #[test]
    fn near_equal_second_and_third_eigenvalues_do_not_stop_it_early() {
        for (seed, strengths) in [
            (31, [1.0, 0.62, 0.6]),
            (32, [1.0, 0.5, 0.49]),
            (33, [0.8, 0.8, 0.3]),
        ] {
            let m = three_axes(1500, 220, strengths, seed);
            let other = three_axes(1400, 220, strengths, seed + 50);
            assert_within_tolerance(
                &m,
                &exact_components(&other, seed),
                seed,
                [1e-6, 1e-8, 1e-9],
            );
        }
    }

    #[test]
    fn warm_starts_keep_their_signs_and_converge_at_once() {
        let m = camps(600, 40, 5);
        let cols = model(&m);
        let pc = principal_components(&m, &cols, None, 5, &PcaConfig::default());
        let flipped = [
            pc.vectors[0].iter().map(|x| -x).collect(),
            pc.vectors[1].clone(),
        ];
        let warm = principal_components(&m, &cols, Some(&flipped), 5, &PcaConfig::default());
        assert!(warm.converged);
        assert!(warm.iterations <= 2, "{}", warm.iterations);
        for (v, f) in warm.vectors.iter().zip(&flipped) {
            assert!(dot(v, f) > 0.999);
        }
    }
}
