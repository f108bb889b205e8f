//! The planted model: where groups and participants stand, what each
//! statement is about and when it arrives.

use crate::config::SynthConfig;
use rand::Rng;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The random stream of one participant or of the statements. Streams are
/// independent of each other, so participants can be generated in any
/// order, in parallel, and still come out the same.
pub(crate) fn stream(seed: u64, index: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(splitmix(seed ^ splitmix(index)))
}

/// SplitMix64's finaliser: spreads nearby integers over the whole word.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Stream index of the statement model, beyond any participant index.
pub(crate) const STATEMENT_STREAM: u64 = u64::MAX;

/// Two independent standard normal draws (Box–Muller).
pub(crate) fn normal_pair(rng: &mut impl Rng) -> (f64, f64) {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.r#gen::<f64>();
    let u2: f64 = rng.r#gen::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

/// One statement as the generator sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StatementModel {
    /// When it became available, ms.
    pub created: i64,
    /// Who wrote it.
    pub author: u32,
    /// Opinion direction scaled by strength (unused for consensus).
    pub direction: [f64; 2],
    /// Probability of agreeing for everyone, for consensus statements.
    pub consensus_agree: Option<f64>,
    /// Probability of a pass.
    pub pass: f64,
}

/// Position of planted group `g` of `n`: evenly spaced on the unit circle.
pub(crate) fn group_position(g: usize, n: usize) -> [f64; 2] {
    let angle = std::f64::consts::TAU * g as f64 / n as f64;
    [angle.cos(), angle.sin()]
}

/// Draws the statements: creation times (ids in creation order), authors,
/// directions and pass rates.
pub(crate) fn statements(config: &SynthConfig, seed: u64) -> Vec<StatementModel> {
    let mut rng = stream(seed, STATEMENT_STREAM);
    let n = config.statements as usize;
    let seeds = (config.seed_statements as usize).min(n);
    // Seed statements exist an hour before the first vote; the others
    // arrive over the first 85 % of the conversation, so the last ones
    // still collect a few votes.
    let mut created: Vec<i64> = (0..n)
        .map(|i| {
            if i < seeds {
                config.start_ms - 3_600_000
            } else {
                config.start_ms + (rng.r#gen::<f64>() * 0.85 * config.duration_ms as f64) as i64
            }
        })
        .collect();
    created.sort_unstable();
    created
        .into_iter()
        .enumerate()
        .map(|(i, created)| {
            let author = if i < seeds {
                0
            } else {
                rng.gen_range(0..config.participants)
            };
            let (lo, hi) = config.pass_range;
            let pass = lo + (hi - lo) * rng.r#gen::<f64>();
            let (direction, consensus_agree) = match config.texts {
                Some(texts) => {
                    let t = &texts[i];
                    let a = t.angle.to_radians();
                    let dir = [t.strength * a.cos(), t.strength * a.sin()];
                    (dir, t.consensus.then(|| 0.8 + 0.12 * rng.r#gen::<f64>()))
                }
                None => {
                    let a = std::f64::consts::TAU * rng.r#gen::<f64>();
                    let strength = 0.3 + 0.7 * rng.r#gen::<f64>();
                    let dir = [strength * a.cos(), strength * a.sin()];
                    let consensus = rng.r#gen::<f64>() < config.consensus_share;
                    (dir, consensus.then(|| 0.8 + 0.12 * rng.r#gen::<f64>()))
                }
            };
            StatementModel {
                created,
                author,
                direction,
                consensus_agree,
                pass,
            }
        })
        .collect()
}
