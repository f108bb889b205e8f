//! Proof of work on join: a small hashing puzzle that costs a person's
//! browser a fraction of a second and a bot farm real compute, with the
//! difficulty raised automatically while a conversation is flooded with joins.
//!
//! A challenge is stateless: `v1.<conversation>.<issued_ms>.<bits>.<nonce>.<mac>`,
//! HMAC-SHA-256 under a server secret, so any node can check it. A solution is
//! a decimal number `n` such that SHA-256(`<challenge>:<n>`) starts with
//! `bits` zero bits. Each challenge is accepted once (per node: the replay
//! cache is in memory) and only for [`CHALLENGE_TTL_MS`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

type HmacSha256 = Hmac<Sha256>;

/// How long a challenge may be solved and used.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
/// Length of the window over which joins are counted for the flood rule.
pub const FLOOD_WINDOW_MS: i64 = 60 * 1000;
/// Hardest puzzle ever asked for: 2^24 hashes is tens of seconds on a phone.
pub const MAX_BITS_CEILING: u8 = 24;

/// How hard joining is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowPolicy {
    /// Leading zero bits asked for in calm times (0 turns the puzzle off).
    pub base_bits: u8,
    /// The most bits a flood can raise it to.
    pub max_bits: u8,
    /// Joins per minute (per conversation) above which the difficulty rises:
    /// one more bit each time the rate doubles.
    pub flood_joins_per_minute: u32,
}

/// A puzzle for one join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The string to hash (with `:<nonce>` appended).
    pub challenge: String,
    /// Leading zero bits asked for.
    pub difficulty: u8,
    /// Until when it may be used, milliseconds since the epoch.
    pub expires_ms: i64,
}

/// Why a proof of work was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The join came without a solved challenge.
    #[error("joining needs a solved proof-of-work challenge (GET the join-challenge first)")]
    Missing,
    /// Not a challenge this server issued for this conversation.
    #[error("the challenge was not issued by this server for this conversation")]
    Forged,
    /// Issued too long ago.
    #[error("the challenge has expired; fetch a new one")]
    Expired,
    /// The hash does not have enough leading zero bits.
    #[error("the nonce does not solve the challenge")]
    Unsolved,
    /// Already used for a join.
    #[error("the challenge has already been used")]
    Replayed,
}

/// Issues and checks challenges, and watches the join rate.
#[derive(Debug)]
pub struct PowGate {
    secret: Vec<u8>,
    policy: PowPolicy,
    joins: Mutex<HashMap<String, VecDeque<i64>>>,
    used: Mutex<HashMap<String, i64>>,
}

impl PowGate {
    /// A gate keyed by `secret` (shared by all nodes through the store).
    pub fn new(secret: Vec<u8>, policy: PowPolicy) -> Self {
        let max_bits = policy.max_bits.clamp(policy.base_bits, MAX_BITS_CEILING);
        PowGate {
            secret,
            policy: PowPolicy {
                base_bits: policy.base_bits.min(max_bits),
                max_bits,
                flood_joins_per_minute: policy.flood_joins_per_minute.max(1),
            },
            joins: Mutex::default(),
            used: Mutex::default(),
        }
    }

    /// Whether joining needs a puzzle at all right now.
    pub fn difficulty(&self, conversation: &str, now_ms: i64) -> u8 {
        let rate = self.recent_joins(conversation, now_ms);
        difficulty_for(&self.policy, rate)
    }

    /// A fresh challenge at the current difficulty.
    pub fn issue(&self, conversation: &str, now_ms: i64) -> Challenge {
        use rand::RngCore;
        let difficulty = self.difficulty(conversation, now_ms);
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let body = format!(
            "v1.{conversation}.{now_ms}.{difficulty}.{}",
            URL_SAFE_NO_PAD.encode(nonce)
        );
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&body).finalize().into_bytes());
        Challenge {
            challenge: format!("{body}.{mac}"),
            difficulty,
            expires_ms: now_ms + CHALLENGE_TTL_MS,
        }
    }

    /// Checks a solution; on success the challenge is spent. With the puzzle
    /// turned off and nothing offered, joining is free.
    pub fn admit(
        &self,
        conversation: &str,
        solution: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<(), PowError> {
        let Some((challenge, nonce)) = solution else {
            return if self.difficulty(conversation, now_ms) == 0 {
                Ok(())
            } else {
                Err(PowError::Missing)
            };
        };
        let (issued_ms, bits) = self.parse(conversation, challenge)?;
        if now_ms > issued_ms + CHALLENGE_TTL_MS || issued_ms > now_ms + CHALLENGE_TTL_MS {
            return Err(PowError::Expired);
        }
        // The difficulty is the one in force when the challenge was issued:
        // a client never has to re-solve because a flood started meanwhile.
        if nonce.len() > 20 || !nonce.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PowError::Unsolved);
        }
        if leading_zero_bits(&solution_hash(challenge, nonce)) < u32::from(bits) {
            return Err(PowError::Unsolved);
        }
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        used.retain(|_, &mut expires| expires >= now_ms);
        if used
            .insert(challenge.to_owned(), issued_ms + CHALLENGE_TTL_MS)
            .is_some()
        {
            return Err(PowError::Replayed);
        }
        Ok(())
    }

    /// Counts a join for the flood rule.
    pub fn record_join(&self, conversation: &str, now_ms: i64) {
        let mut joins = self
            .joins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget conversations that went quiet so the map stays small.
        joins.retain(|_, times| times.back().is_some_and(|&t| t > now_ms - FLOOD_WINDOW_MS));
        let times = joins.entry(conversation.to_owned()).or_default();
        times.push_back(now_ms);
        // The rate only matters up to where the ceiling is reached, so the
        // queue is bounded however hard the flood.
        let cap = (self.policy.flood_joins_per_minute as usize)
            << usize::from(self.policy.max_bits - self.policy.base_bits + 1).min(16);
        while times.len() > cap {
            times.pop_front();
        }
    }

    fn recent_joins(&self, conversation: &str, now_ms: i64) -> usize {
        let mut joins = self
            .joins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(times) = joins.get_mut(conversation) else {
            return 0;
        };
        while times
            .front()
            .is_some_and(|&t| t <= now_ms - FLOOD_WINDOW_MS)
        {
            times.pop_front();
        }
        times.len()
    }

    fn parse(&self, conversation: &str, challenge: &str) -> Result<(i64, u8), PowError> {
        let (body, mac) = challenge.rsplit_once('.').ok_or(PowError::Forged)?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| PowError::Forged)?;
        self.mac(body)
            .verify_slice(&mac)
            .map_err(|_| PowError::Forged)?;
        // The conversation id may not contain dots, but parse from both ends
        // anyway so that the check does not depend on it.
        let rest = body.strip_prefix("v1.").ok_or(PowError::Forged)?;
        let mut tail = rest.rsplitn(4, '.');
        let _nonce = tail.next();
        let bits = tail.next().and_then(|b| b.parse::<u8>().ok());
        let issued = tail.next().and_then(|t| t.parse::<i64>().ok());
        let conv = tail.next();
        match (conv, issued, bits) {
            (Some(c), Some(issued), Some(bits)) if c == conversation => Ok((issued, bits)),
            _ => Err(PowError::Forged),
        }
    }

    fn mac(&self, message: &str) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        #[allow(clippy::expect_used)]
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        mac
    }
}

/// The difficulty at `joins` joins in the last minute: the base, plus one bit
/// per doubling of the rate beyond the flood threshold, up to the maximum.
pub fn difficulty_for(policy: &PowPolicy, joins: usize) -> u8 {
    if policy.base_bits == 0 && policy.max_bits == 0 {
        return 0;
    }
    let threshold = policy.flood_joins_per_minute.max(1) as usize;
    let mut bits = policy.base_bits;
    let mut level = threshold;
    while joins >= level && bits < policy.max_bits {
        bits += 1;
        level = level.saturating_mul(2);
    }
    bits
}

/// SHA-256 of `<challenge>:<nonce>`.
pub fn solution_hash(challenge: &str, nonce: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(challenge.as_bytes());
    hasher.update(b":");
    hasher.update(nonce.as_bytes());
    hasher.finalize().into()
}

/// Leading zero bits of a hash.
pub fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut bits = 0;
    for &byte in hash {
        if byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Solves a challenge by brute force (what a client does; used by tests,
/// benches and the CLI's load tools).
pub fn solve(challenge: &str, difficulty: u8) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|n| leading_zero_bits(&solution_hash(challenge, n)) >= u32::from(difficulty))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(base: u8, max: u8, flood: u32) -> PowGate {
        PowGate::new(
            vec![7; 32],
            PowPolicy {
                base_bits: base,
                max_bits: max,
                flood_joins_per_minute: flood,
            },
        )
    }

    #[test]
    fn a_solved_challenge_admits_once() {
        let gate = gate(8, 16, 100);
        let c = gate.issue("conv", 1_000);
        assert_eq!(c.difficulty, 8);
        let nonce = solve(&c.challenge, c.difficulty);
        assert_eq!(
            gate.admit("conv", Some((&c.challenge, &nonce)), 2_000),
            Ok(())
        );
        assert_eq!(
            gate.admit("conv", Some((&c.challenge, &nonce)), 2_000),
            Err(PowError::Replayed)
        );
    }

    #[test]
    fn bad_solutions_are_refused_with_the_reason() {
        let gate = gate(8, 16, 100);
        let c = gate.issue("conv", 1_000);
        let nonce = solve(&c.challenge, c.difficulty);
        // Wrong nonce: find one that does not solve it.
        let wrong = (0u64..)
            .map(|n| n.to_string())
            .find(|n| leading_zero_bits(&solution_hash(&c.challenge, n)) < 8)
            .unwrap();
        assert_eq!(
            gate.admit("conv", Some((&c.challenge, &wrong)), 2_000),
            Err(PowError::Unsolved)
        );
        assert_eq!(
            gate.admit("other", Some((&c.challenge, &nonce)), 2_000),
            Err(PowError::Forged)
        );
        let lowered = c.challenge.replacen(".8.", ".0.", 1);
        assert_eq!(
            gate.admit("conv", Some((&lowered, "0")), 2_000),
            Err(PowError::Forged)
        );
        assert_eq!(
            gate.admit(
                "conv",
                Some((&c.challenge, &nonce)),
                1_000 + CHALLENGE_TTL_MS + 1
            ),
            Err(PowError::Expired)
        );
        assert_eq!(gate.admit("conv", None, 2_000), Err(PowError::Missing));
    }

    #[test]
    fn difficulty_rises_under_a_join_flood_and_stays_bounded() {
        let gate = gate(10, 14, 50);
        let mut seen = Vec::new();
        // 2 000 joins in 20 s: forty times the threshold rate.
        for i in 0..2_000i64 {
            gate.record_join("conv", i * 10);
            if i % 100 == 99 {
                seen.push(gate.difficulty("conv", i * 10));
            }
        }
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(seen.first(), Some(&12), "{seen:?}"); // 100 joins: 2× threshold
        assert_eq!(seen.last(), Some(&14), "{seen:?}"); // capped at max
        // Other conversations are not slowed down.
        assert_eq!(gate.difficulty("calm", 20_000), 10);
        // A minute after the flood, calm returns.
        assert_eq!(gate.difficulty("conv", 20_000 + FLOOD_WINDOW_MS), 10);
        assert_eq!(gate.issue("conv", 20_000 + FLOOD_WINDOW_MS).difficulty, 10);
    }

    #[test]
    fn the_flood_queue_is_bounded() {
        let gate = gate(1, 3, 10);
        for _ in 0..100_000 {
            gate.record_join("conv", 5);
        }
        let len = gate.joins.lock().unwrap()["conv"].len();
        assert!(len <= 10 << 3, "{len}");
        assert_eq!(gate.difficulty("conv", 5), 3);
    }

    #[test]
    fn off_means_free() {
        let gate = gate(0, 0, 10);
        for _ in 0..1_000 {
            gate.record_join("conv", 5);
        }
        assert_eq!(gate.admit("conv", None, 5), Ok(()));
        assert_eq!(difficulty_for(&gate.policy, 1_000_000), 0);
    }
}
