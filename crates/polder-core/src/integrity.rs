//! Coordinated-account detection: many participants with one and the same
//! vote vector, more than chance allows.
//!
//! Real people who saw the same statements do agree with each other, and
//! Polis-style routing shows everyone the same first statements, so identical
//! short vectors are common and mean nothing. What sock puppets cannot avoid
//! is *length*: to move a report they must cast many votes, and many people
//! casting the very same long vector is improbable. The chance model is
//! conditional on the set of statements voted on (so routing and early
//! drop-out do not count as evidence): among the participants who voted on
//! exactly that set, each statement's vote is drawn from its shares among
//! everyone who voted on it. The evidence is the Poisson tail of the observed number of
//! copies against the number expected. Independence between statements makes
//! the expectation too low for genuine like-minded people, which is why the
//! default threshold is far out (10^-9) and vectors need
//! [`IntegrityConfig::min_votes`] votes.

use crate::matrix::VoteMatrix;
use crate::vote::ParticipantId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// When a group of identical vote vectors is reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntegrityConfig {
    /// Shortest vector considered (votes, passes included).
    pub min_votes: usize,
    /// Fewest accounts sharing a vector for it to be reported.
    pub min_accounts: usize,
    /// Largest base-10 logarithm of the chance of the observed number of
    /// copies (or more) for it to be reported.
    pub max_log10_chance: f64,
    /// Accounts that joined within this many milliseconds of each other count
    /// as one burst.
    pub burst_window_ms: i64,
}

impl Default for IntegrityConfig {
    fn default() -> Self {
        IntegrityConfig {
            min_votes: 6,
            min_accounts: 10,
            max_log10_chance: -9.0,
            burst_window_ms: 10 * 60 * 1000,
        }
    }
}

/// Accounts that cast one and the same vote vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuspectCluster {
    /// The accounts, ascending.
    pub participants: Vec<ParticipantId>,
    /// Votes in the shared vector.
    pub votes_each: usize,
    /// Participants who voted on exactly the same statements.
    pub same_statements: usize,
    /// Copies expected by chance among those.
    pub expected_by_chance: f64,
    /// Base-10 logarithm of the chance of this many copies or more.
    pub log10_chance: f64,
    /// Most members that joined within one burst window (0 when join times
    /// are unknown).
    pub largest_burst: usize,
    /// Whether at least [`IntegrityConfig::min_accounts`] of them joined in one burst.
    pub burst: bool,
}

/// Groups of identical vote vectors that chance does not explain, most
/// improbable first. `joined_ms` gives a participant's join time, if known.
pub fn identical_vote_clusters(
    matrix: &VoteMatrix,
    joined_ms: &dyn Fn(ParticipantId) -> Option<i64>,
    config: &IntegrityConfig,
) -> Vec<SuspectCluster> {
    let participants = matrix.participants();
    // Each statement's vote shares over everyone who voted on it: copies
    // make up only a small part of these, unlike of the shares among the few
    // who voted on exactly the same set.
    let mut shares = vec![[0u32; 3]; matrix.n_statements()];
    for row in 0..matrix.n_participants() {
        let (columns, votes) = matrix.row(row);
        for (&c, &v) in columns.iter().zip(votes) {
            shares[c as usize][vote_slot(v)] += 1;
        }
    }
    // Rows by the statements they voted on, then by the votes themselves.
    let mut by_statements: HashMap<&[u32], Vec<usize>> = HashMap::new();
    for row in 0..matrix.n_participants() {
        let (columns, _) = matrix.row(row);
        if columns.len() >= config.min_votes.max(1) {
            by_statements.entry(columns).or_default().push(row);
        }
    }
    let mut found = Vec::new();
    for (columns, rows) in by_statements {
        if rows.len() < config.min_accounts {
            continue;
        }
        let mut by_votes: HashMap<&[i8], Vec<usize>> = HashMap::new();
        for &row in &rows {
            by_votes.entry(matrix.row(row).1).or_default().push(row);
        }
        let n = rows.len() as f64;
        for (votes, members) in by_votes {
            if members.len() < config.min_accounts {
                continue;
            }
            let ln_p: f64 = columns
                .iter()
                .zip(votes)
                .map(|(&c, &v)| {
                    let share = &shares[c as usize];
                    let voted: u32 = share.iter().sum();
                    (f64::from(share[vote_slot(v)]) / f64::from(voted.max(1))).ln()
                })
                .sum();
            let expected = n * ln_p.exp();
            let log10_chance = poisson_tail_ln(members.len(), expected) / std::f64::consts::LN_10;
            if log10_chance > config.max_log10_chance {
                continue;
            }
            let mut ids: Vec<ParticipantId> = members.iter().map(|&r| participants[r]).collect();
            ids.sort_unstable();
            let largest_burst = largest_burst(&ids, joined_ms, config.burst_window_ms);
            found.push(SuspectCluster {
                votes_each: columns.len(),
                same_statements: rows.len(),
                expected_by_chance: expected,
                log10_chance,
                largest_burst,
                burst: largest_burst >= config.min_accounts,
                participants: ids,
            });
        }
    }
    found.sort_by(|a, b| {
        a.log10_chance
            .total_cmp(&b.log10_chance)
            .then_with(|| a.participants.cmp(&b.participants))
    });
    found
}

fn vote_slot(v: i8) -> usize {
    match v {
        x if x < 0 => 0,
        0 => 1,
        _ => 2,
    }
}

/// Natural log of a Chernoff bound on P(X ≥ k) for X ~ Poisson(λ): tight
/// enough for the far tail that matters here, and free of factorials.
fn poisson_tail_ln(k: usize, lambda: f64) -> f64 {
    let k = k as f64;
    if k <= lambda {
        return 0.0;
    }
    if lambda <= 0.0 {
        return f64::NEG_INFINITY;
    }
    -lambda + k * (1.0 + lambda.ln() - k.ln())
}

/// Most of `ids` whose join times fit in one window.
fn largest_burst(
    ids: &[ParticipantId],
    joined_ms: &dyn Fn(ParticipantId) -> Option<i64>,
    window_ms: i64,
) -> usize {
    let mut times: Vec<i64> = ids.iter().filter_map(|&p| joined_ms(p)).collect();
    times.sort_unstable();
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] > window_ms {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vote::{StatementId, Vote, VoteEvent};

    /// Two opinion camps of 300 voting with noise on 40 statements, each
    /// person on a random-length prefix; then `puppets` copies of one vector.
    fn conversation(puppets: u32) -> VoteMatrix {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(7);
        let mut events = Vec::new();
        for p in 0..600u32 {
            let camp = p % 2 == 0;
            let seen = rng.gen_range(3..=40u32);
            for s in 0..seen {
                let leaning = (s % 2 == 0) == camp;
                let r: f64 = rng.r#gen();
                let vote = if r < 0.15 {
                    Vote::Pass
                } else if (r < 0.85) == leaning {
                    Vote::Agree
                } else {
                    Vote::Disagree
                };
                events.push(VoteEvent {
                    participant: ParticipantId(p),
                    statement: StatementId(s),
                    vote,
                    timestamp: 0,
                });
            }
        }
        for p in 600..600 + puppets {
            for s in 0..30u32 {
                events.push(VoteEvent {
                    participant: ParticipantId(p),
                    statement: StatementId(s),
                    vote: if s < 20 { Vote::Agree } else { Vote::Disagree },
                    timestamp: 0,
                });
            }
        }
        VoteMatrix::from_events(&events).unwrap()
    }

    #[test]
    fn real_looking_votes_raise_nothing() {
        let found =
            identical_vote_clusters(&conversation(0), &|_| None, &IntegrityConfig::default());
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn copied_vectors_are_found_with_their_burst() {
        let matrix = conversation(50);
        // The puppets joined within two minutes; everyone else over a day.
        let joined = |p: ParticipantId| {
            Some(if p.0 >= 600 {
                1_000_000 + i64::from(p.0)
            } else {
                i64::from(p.0) * 150_000
            })
        };
        let found = identical_vote_clusters(&matrix, &joined, &IntegrityConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let cluster = &found[0];
        assert_eq!(cluster.participants.len(), 50);
        assert!(cluster.participants.iter().all(|p| p.0 >= 600));
        assert_eq!(cluster.votes_each, 30);
        assert!(cluster.log10_chance < -20.0, "{}", cluster.log10_chance);
        assert!(cluster.burst);
        assert_eq!(cluster.largest_burst, 50);
    }

    #[test]
    fn too_few_copies_or_too_short_vectors_are_not_reported() {
        let config = IntegrityConfig {
            min_accounts: 60,
            ..IntegrityConfig::default()
        };
        assert!(identical_vote_clusters(&conversation(50), &|_| None, &config).is_empty());
        let config = IntegrityConfig {
            min_votes: 31,
            ..IntegrityConfig::default()
        };
        assert!(identical_vote_clusters(&conversation(50), &|_| None, &config).is_empty());
    }

    #[test]
    fn the_tail_bound_behaves() {
        assert_eq!(poisson_tail_ln(3, 5.0), 0.0);
        assert!(poisson_tail_ln(20, 1.0) < poisson_tail_ln(10, 1.0));
        assert!(poisson_tail_ln(10, 0.1) < poisson_tail_ln(10, 1.0));
        assert_eq!(poisson_tail_ln(10, 0.0), f64::NEG_INFINITY);
    }
}
