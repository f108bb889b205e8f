//! Which statement to show a participant next (Polis `comment-priorities`
//! and the server's weighted draw).

use crate::tally::Counts;

/// Priority Polis gives every meta statement (7², see `meta-priority`).
pub const META_PRIORITY: f64 = 49.0;

/// Priority of one statement from the grouped participants' votes on it and
/// its extremity on the opinion map:
/// `((1 − p_pass) · (extremity + 1) · p_agree · novelty)²` with
/// `novelty = 1 + 8 · 2^(−seen/5)`, so that fresh statements surface first
/// and statements that split the map are shown more often.
pub fn priority(counts: Counts, extremity: f64, is_meta: bool) -> f64 {
    if is_meta {
        return META_PRIORITY;
    }
    let seen = f64::from(counts.seen);
    let p_pass = (f64::from(counts.pass()) + 1.0) / (seen + 2.0);
    let p_agree = (f64::from(counts.agree) + 1.0) / (seen + 2.0);
    let importance = (1.0 - p_pass) * (extremity + 1.0) * p_agree;
    let novelty = 1.0 + 8.0 * 2f64.powf(-seen / 5.0);
    (importance * novelty).powi(2)
}

/// Draws one candidate with probability proportional to its priority, as
/// the Polis server does: a missing or zero priority weighs 1. `unit` is a
/// uniform random number in [0, 1); passing it in keeps this function pure.
pub fn draw<T: Copy>(candidates: &[(T, Option<f64>)], unit: f64) -> Option<T> {
    let weight = |p: Option<f64>| match p {
        Some(w) if w > 0.0 && w.is_finite() => w,
        _ => 1.0,
    };
    let total: f64 = candidates.iter().map(|&(_, p)| weight(p)).sum();
    let target = unit.clamp(0.0, 1.0) * total;
    let mut running = 0.0;
    for &(item, p) in candidates {
        running += weight(p);
        if running > target {
            return Some(item);
        }
    }
    candidates.last().map(|&(item, _)| item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unseen_statements_get_the_novelty_bonus() {
        let fresh = priority(Counts::default(), 0.0, false);
        // (0.5 · 1 · 0.5 · 9)² = 5.0625
        assert!((fresh - 5.0625).abs() < 1e-12);
        let old = priority(
            Counts {
                agree: 50,
                disagree: 50,
                seen: 100,
            },
            0.0,
            false,
        );
        assert!(old < fresh);
        assert_eq!(priority(Counts::default(), 3.0, true), META_PRIORITY);
    }

    #[test]
    fn draw_follows_the_cumulative_weights() {
        let c = [(1, Some(1.0)), (2, Some(3.0)), (3, None)];
        assert_eq!(draw(&c, 0.0), Some(1));
        assert_eq!(draw(&c, 0.3), Some(2));
        assert_eq!(draw(&c, 0.99), Some(3));
        assert_eq!(draw::<u8>(&[], 0.5), None);
    }
}
