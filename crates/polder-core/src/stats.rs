//! The significance tests Polis uses (polismath `stats.clj`), with their
//! pseudo-counts kept exactly as they are.

/// One-sided 90 % significance threshold of a z statistic (Polis `z-sig-90`).
pub const Z_90: f64 = 1.2816;

/// Test of a proportion against 1/2: `2·√(n+1)·((s+1)/(n+1) − ½)`.
pub fn prop_test(successes: f64, trials: f64) -> f64 {
    2.0 * (trials + 1.0).sqrt() * ((successes + 1.0) / (trials + 1.0) - 0.5)
}

/// Two-proportion z test with one pseudo-count added to every argument.
pub fn two_prop_test(succ_in: f64, succ_out: f64, n_in: f64, n_out: f64) -> f64 {
    let (s1, s2, n1, n2) = (succ_in + 1.0, succ_out + 1.0, n_in + 1.0, n_out + 1.0);
    let p1 = s1 / n1;
    let p2 = s2 / n2;
    let pooled = (s1 + s2) / (n1 + n2);
    if pooled == 1.0 {
        return 0.0;
    }
    (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt()
}

/// Adjusted Rand index of two labelings of the same items (1 = identical up
/// to renaming, about 0 = chance agreement). Used to compare groupings.
pub fn adjusted_rand_index(a: &[u32], b: &[u32]) -> f64 {
    assert_eq!(a.len(), b.len(), "labelings must cover the same items");
    let n = a.len() as f64;
    if a.len() < 2 {
        return 1.0;
    }
    let mut table = std::collections::HashMap::<(u32, u32), f64>::new();
    let mut rows = std::collections::HashMap::<u32, f64>::new();
    let mut cols = std::collections::HashMap::<u32, f64>::new();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1.0;
        *rows.entry(x).or_default() += 1.0;
        *cols.entry(y).or_default() += 1.0;
    }
    let pairs = |c: f64| c * (c - 1.0) / 2.0;
    let index: f64 = table.values().map(|&c| pairs(c)).sum();
    let sum_rows: f64 = rows.values().map(|&c| pairs(c)).sum();
    let sum_cols: f64 = cols.values().map(|&c| pairs(c)).sum();
    let expected = sum_rows * sum_cols / pairs(n);
    let max = (sum_rows + sum_cols) / 2.0;
    if max == expected {
        // Both labelings put everything together or everything apart.
        return if index == expected { 1.0 } else { 0.0 };
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prop_test_matches_the_worked_example() {
        // polis-math.md §4.1: na = 6, ns = 6 gives √7.
        assert!((prop_test(6.0, 6.0) - 7f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn two_prop_test_is_zero_when_pooled_is_one() {
        assert_eq!(two_prop_test(2.0, 3.0, 2.0, 3.0), 0.0);
        assert!(two_prop_test(9.0, 1.0, 10.0, 10.0) > 3.0);
    }

    #[test]
    fn ari_of_a_relabeling_is_one_and_of_a_split_is_less() {
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[5, 5, 3, 3]), 1.0);
        let ari = adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!(ari < 0.5 && ari > -0.5, "{ari}");
    }
}
