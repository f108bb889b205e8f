//! Deterministic parallel reductions.
//!
//! Floating-point addition is not associative, so a reduction whose grouping
//! follows rayon's work stealing would give results that change with the
//! number of threads. Here the rows are cut into chunks whose boundaries
//! depend only on the number of rows; chunks run in parallel and their
//! partial results are added in chunk order. The output is therefore the
//! same bit for bit on one thread or sixty-four.

use rayon::prelude::*;
use std::ops::Range;

/// Smallest chunk worth a task of its own.
const MIN_CHUNK: usize = 2048;
/// Upper bound on the number of chunks, which bounds the memory used by
/// per-chunk accumulators.
const MAX_CHUNKS: usize = 128;

/// Fewest items a parallel iterator hands to one task; below this, the cost
/// of waking threads exceeds the work.
pub(crate) const MIN_ITEMS_PER_TASK: usize = 4096;

/// Length of the chunks of [`chunks`] (the last may be shorter).
pub(crate) fn chunk_size(n: usize) -> usize {
    MIN_CHUNK.max(n.div_ceil(MAX_CHUNKS))
}

/// Splits `0..n` into chunks whose boundaries depend only on `n`.
pub(crate) fn chunks(n: usize) -> Vec<Range<usize>> {
    if n == 0 {
        return Vec::new();
    }
    let size = chunk_size(n);
    (0..n)
        .step_by(size)
        .map(|start| start..(start + size).min(n))
        .collect()
}

/// Splits `0..n` into at most `max_chunks` chunks of at least `MIN_CHUNK`
/// rows, boundaries depending only on `n` and `max_chunks`. For reductions
/// whose accumulators are wide, where zeroing and adding up one accumulator
/// per chunk would cost as much as the work itself.
pub(crate) fn few_chunks(n: usize, max_chunks: usize) -> Vec<Range<usize>> {
    if n == 0 {
        return Vec::new();
    }
    let size = MIN_CHUNK.max(n.div_ceil(max_chunks.max(1)));
    (0..n)
        .step_by(size)
        .map(|start| start..(start + size).min(n))
        .collect()
}

/// Sums `width` floating-point accumulators over rows `0..n`.
///
/// `fill(range, acc)` adds the contribution of the rows in `range` to `acc`
/// (which starts zeroed). Partial sums are combined in chunk order.
pub(crate) fn sum_rows<F>(n: usize, width: usize, fill: F) -> Vec<f64>
where
    F: Fn(Range<usize>, &mut [f64]) + Sync,
{
    sum_chunks(chunks(n), width, fill)
}

/// [`sum_rows`] over the given chunks (which must depend only on the input,
/// never on the thread count, for the result to be deterministic).
pub(crate) fn sum_chunks<F>(chunks: Vec<Range<usize>>, width: usize, fill: F) -> Vec<f64>
where
    F: Fn(Range<usize>, &mut [f64]) + Sync,
{
    let partials: Vec<Vec<f64>> = chunks
        .into_par_iter()
        .map(|range| {
            let mut acc = vec![0.0; width];
            fill(range, &mut acc);
            acc
        })
        .collect();
    let mut total = vec![0.0; width];
    for partial in &partials {
        for (t, p) in total.iter_mut().zip(partial) {
            *t += p;
        }
    }
    total
}

/// Counter tables at least this wide (1 MB of `u32`) are not worth one
/// per rayon piece.
const WIDE_COUNTERS: usize = 1 << 18;

/// Sums integer counters over rows `0..n`. Integer addition is exact, so the
/// grouping does not matter; chunks merely bound the number of accumulators.
pub(crate) fn count_rows<F>(n: usize, width: usize, fill: F) -> Vec<u32>
where
    F: Fn(Range<usize>, &mut [u32]) + Sync,
{
    // Wide tables get one accumulator per thread: rayon's fold starts one
    // for each piece it splits the chunks into, and for 100 base clusters ×
    // 5,000 statements × 3 counters (6 MB) zeroing and adding up dozens of
    // them cost more than the counting (tally at 50 M votes 0.10 → 0.07 s).
    // Narrow ones keep the finer pieces, which balance the threads better.
    let chunks = chunks(n);
    let min_len = if width >= WIDE_COUNTERS {
        chunks.len().div_ceil(rayon::current_num_threads().max(1))
    } else {
        1
    };
    chunks
        .into_par_iter()
        .with_min_len(min_len.max(1))
        .fold(
            || vec![0u32; width],
            |mut acc, range| {
                fill(range, &mut acc);
                acc
            },
        )
        .reduce(
            || vec![0u32; width],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    *x += y;
                }
                a
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_once() {
        for n in [0, 1, 2047, 2048, 2049, 300_000, 1_000_003] {
            let cs = chunks(n);
            let mut next = 0;
            for c in &cs {
                assert_eq!(c.start, next);
                assert!(c.end > c.start);
                next = c.end;
            }
            assert_eq!(next, n);
            assert!(cs.len() <= MAX_CHUNKS);
        }
    }

    #[test]
    fn float_sums_do_not_depend_on_thread_count() {
        let values: Vec<f64> = (0..100_000).map(|i| 1.0 / (i as f64 + 0.37)).collect();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    sum_rows(values.len(), 1, |r, acc| {
                        for v in &values[r] {
                            acc[0] += v;
                        }
                    })
                })
        };
        let one = run(1);
        let four = run(4);
        assert_eq!(one[0].to_bits(), four[0].to_bits());
    }
}
