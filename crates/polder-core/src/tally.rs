//! Vote counts per statement, for everyone, per base cluster and per group.

use crate::matrix::VoteMatrix;
use crate::parallel;
use serde::{Deserialize, Serialize};

/// Agree / disagree / seen counts of one statement in one set of participants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Agree votes (Polis `A`, `na`).
    pub agree: u32,
    /// Disagree votes (Polis `D`, `nd`).
    pub disagree: u32,
    /// Non-missing votes, passes included (Polis `S`, `ns`).
    pub seen: u32,
}

impl Counts {
    /// Pass votes: seen but neither agreed nor disagreed.
    pub fn pass(&self) -> u32 {
        self.seen - self.agree - self.disagree
    }

    /// Component-wise sum.
    pub fn plus(self, other: Counts) -> Counts {
        Counts {
            agree: self.agree + other.agree,
            disagree: self.disagree + other.disagree,
            seen: self.seen + other.seen,
        }
    }

    /// Component-wise difference (`self` must contain `other`).
    pub fn minus(self, other: Counts) -> Counts {
        Counts {
            agree: self.agree - other.agree,
            disagree: self.disagree - other.disagree,
            seen: self.seen - other.seen,
        }
    }
}

/// Counts per (bucket, statement) in one flat table, bucket-major.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally {
    n_columns: usize,
    cells: Vec<Counts>,
}

impl Tally {
    /// Number of buckets.
    pub fn n_buckets(&self) -> usize {
        self.cells.len().checked_div(self.n_columns).unwrap_or(0)
    }

    /// The counts of one bucket on one column.
    pub fn get(&self, bucket: usize, column: usize) -> Counts {
        self.cells[bucket * self.n_columns + column]
    }

    /// All columns of one bucket.
    pub fn bucket(&self, bucket: usize) -> &[Counts] {
        &self.cells[bucket * self.n_columns..(bucket + 1) * self.n_columns]
    }

    /// Counts each row's votes into the bucket `bucket_of(row)` (rows
    /// mapped to `None` are skipped) in one parallel pass over the votes.
    pub fn count(
        matrix: &VoteMatrix,
        n_buckets: usize,
        bucket_of: impl Fn(usize) -> Option<usize> + Sync,
    ) -> Tally {
        let n_columns = matrix.n_statements();
        let raw = parallel::count_rows(
            matrix.n_participants(),
            n_buckets * n_columns * 3,
            |rows, acc| {
                for row in rows {
                    let Some(b) = bucket_of(row) else { continue };
                    let base = b * n_columns;
                    let (cols, vals) = matrix.row(row);
                    // One counter per (cell, vote) — disagree, pass, agree —
                    // indexed by the vote itself: one increment a vote and no
                    // branch on its value, which is unpredictable. Matrix values
                    // are -1, 0 or 1 by construction (they come from `Vote`).
                    for (&c, &v) in cols.iter().zip(vals) {
                        acc[3 * (base + c as usize) + (v + 1) as usize] += 1;
                    }
                }
            },
        );
        Tally {
            n_columns,
            cells: raw
                .chunks_exact(3)
                .map(|c| Counts {
                    agree: c[2],
                    disagree: c[0],
                    seen: c[0] + c[1] + c[2],
                })
                .collect(),
        }
    }

    /// Sums groups of buckets into new buckets: `groups[g]` lists the
    /// buckets that make up bucket `g` of the result.
    pub fn merge(&self, groups: &[Vec<usize>]) -> Tally {
        let mut cells = vec![Counts::default(); groups.len() * self.n_columns];
        for (g, members) in groups.iter().enumerate() {
            let out = &mut cells[g * self.n_columns..(g + 1) * self.n_columns];
            for &b in members {
                for (o, c) in out.iter_mut().zip(self.bucket(b)) {
                    *o = o.plus(*c);
                }
            }
        }
        Tally {
            n_columns: self.n_columns,
            cells,
        }
    }
}
