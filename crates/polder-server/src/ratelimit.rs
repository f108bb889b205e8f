//! Request limits per participant token and per client, so that one
//! misbehaving script cannot crowd out everyone else.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

/// The two keyed limiters.
#[derive(Debug)]
pub struct RateLimits {
    participants: DefaultKeyedRateLimiter<(String, u32)>,
    clients: DefaultKeyedRateLimiter<u64>,
}

impl RateLimits {
    /// Limits of `participant` and `client` requests per minute (0 is read as 1).
    pub fn new(participant_per_minute: u32, client_per_minute: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        RateLimits {
            participants: RateLimiter::keyed(quota(participant_per_minute)),
            clients: RateLimiter::keyed(quota(client_per_minute)),
        }
    }

    /// Whether this participant may make one more request now.
    pub fn participant_allows(&self, conversation: &str, pid: u32) -> bool {
        self.participants
            .check_key(&(conversation.to_owned(), pid))
            .is_ok()
    }

    /// Whether this client (keyed hash of its address) may make one more request.
    pub fn client_allows(&self, fingerprint: u64) -> bool {
        self.clients.check_key(&fingerprint).is_ok()
    }

    /// Forgets keys whose buckets are full again, bounding memory.
    pub fn forget_idle(&self) {
        self.participants.retain_recent();
        self.clients.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_quota_is_refused() {
        let limits = RateLimits::new(5, 3);
        let allowed = (0..10)
            .filter(|_| limits.participant_allows("c", 1))
            .count();
        assert_eq!(allowed, 5);
        assert!(
            limits.participant_allows("c", 2),
            "other participants are not affected"
        );
        let allowed = (0..10).filter(|_| limits.client_allows(7)).count();
        assert_eq!(allowed, 3);
    }
}
