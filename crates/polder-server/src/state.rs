//! What every request handler can reach.

use crate::auth::TokenSigner;
use crate::config::ServerConfig;
use crate::live::{Hub, Live};
use crate::metrics::Metrics;
use crate::ratelimit::RateLimits;
use polder_core::MathConfig;
use polder_store::Store;
use std::sync::Arc;
use tokio::sync::watch;

/// Shared server state.
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: ServerConfig,
    /// In-memory state per conversation.
    pub hub: Hub,
    /// Participant token signer.
    pub signer: TokenSigner,
    /// Exported counters.
    pub metrics: Metrics,
    /// Per-participant and per-client limits.
    pub limits: RateLimits,
    /// Cohort and screened reports computed on demand.
    pub derived: crate::derived::DerivedCache,
    /// The proof-of-work puzzle on join.
    pub pow: crate::pow::PowGate,
    /// Key for hashing client addresses. It is kept in the store's secrets
    /// so that every node hashes alike; the addresses and their hashes are
    /// never stored.
    pub fingerprint_key: Vec<u8>,
    /// Eligibility-token signing keys, loaded (or made) on first use per
    /// conversation and kept for the life of the process.
    pub eligibility_keys: crate::eligibility::Keys,
    /// Tells background workers to stop.
    pub shutdown: Shutdown,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The math settings of this server.
    pub fn math_config(&self) -> MathConfig {
        MathConfig {
            seed: self.config.seed,
            ..MathConfig::default()
        }
    }

    /// The live state of a conversation, starting its recompute worker the
    /// first time.
    pub fn live(self: &Arc<Self>, conversation: &str) -> Arc<Live> {
        let (live, created) = self.hub.get_or_create(conversation);
        if created {
            let worker =
                crate::recompute::run(Arc::clone(self), conversation.to_owned(), Arc::clone(&live));
            actix_web::rt::spawn(worker);
        }
        live
    }
}

/// A one-way "stop now" signal for background tasks.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            sender: Arc::new(watch::channel(false).0),
        }
    }
}

impl Shutdown {
    /// Signals every waiter.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Completes once [`Shutdown::trigger`] was called.
    pub async fn cancelled(&self) {
        let mut receiver = self.sender.subscribe();
        // An error means the sender is gone, which also means shutdown.
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }
}
