//! polder's HTTP API: REST under `/api/v1`, live reports over Server-Sent
//! Events, a Polis-compatible `math/pca2` view, and background recompute.
//!
//! Handlers only wait for IO; the math runs on the rayon pool (see
//! [`recompute`]). Every error is `application/problem+json` with a stable
//! code ([`error::ErrorKind`]).

pub mod api;
pub mod auth;
pub mod config;
pub mod derived;
pub mod eligibility;
pub mod error;
pub mod invites;
pub mod live;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pow;
pub mod ratelimit;
pub mod recompute;
pub mod retention;
pub mod routes;
pub mod state;
pub mod time;

pub use config::ServerConfig;
pub use state::AppState;

use crate::error::{ApiError, ErrorKind};
use actix_web::{App, HttpServer, web};
use polder_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

/// Name of the server secret that signs participant tokens.
const TOKEN_SECRET: &str = "participant-tokens";
/// Name of the server secret that keys client address hashes.
const FINGERPRINT_SECRET: &str = "client-fingerprints";
/// Name of the server secret that signs proof-of-work challenges.
const POW_SECRET: &str = "join-challenges";

/// Builds the shared state: loads (or makes) the server's secrets.
pub async fn build_state(
    config: ServerConfig,
    store: Arc<dyn Store>,
) -> Result<Arc<AppState>, polder_store::StoreError> {
    let token_secret = store.secret(TOKEN_SECRET).await?;
    let fingerprint_key = store.secret(FINGERPRINT_SECRET).await?;
    let pow = pow::PowGate::new(
        store.secret(POW_SECRET).await?,
        pow::PowPolicy {
            base_bits: config.join_pow_bits,
            max_bits: config.join_pow_max_bits,
            flood_joins_per_minute: config.join_flood_per_minute,
        },
    );
    Ok(Arc::new(AppState {
        pow,
        derived: derived::DerivedCache::default(),
        limits: ratelimit::RateLimits::new(
            config.participant_rate_per_minute,
            config.client_rate_per_minute,
        ),
        config,
        store,
        hub: live::Hub::default(),
        signer: auth::TokenSigner::new(token_secret),
        metrics: metrics::Metrics::default(),
        fingerprint_key,
        eligibility_keys: eligibility::Keys::default(),
        shutdown: state::Shutdown::default(),
    }))
}

/// Registers the state, the extractor settings, the routes and the
/// middleware on one app (used by the server and by tests).
pub fn configure(state: Arc<AppState>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        let limit = state.config.max_body_bytes;
        cfg.app_data(web::Data::new(Arc::clone(&state)))
            .app_data(middleware::json_config(limit))
            .app_data(web::PayloadConfig::new(limit))
            .app_data(middleware::path_config())
            .app_data(middleware::query_config())
            .configure(routes::configure);
    }
}

/// A running server.
pub struct Running {
    /// The address it listens on (useful with port 0).
    pub addr: SocketAddr,
    /// Stops it gracefully.
    pub handle: actix_web::dev::ServerHandle,
    /// The server future; await it to wait for the end.
    pub server: actix_web::dev::Server,
    /// Its state.
    pub state: Arc<AppState>,
}

/// Binds and starts the server; returns at once.
pub fn start(state: Arc<AppState>) -> std::io::Result<Running> {
    let for_app = Arc::clone(&state);
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(middleware::guard))
            .wrap(tracing_actix())
            .configure(configure(Arc::clone(&for_app)))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::new(
                    ErrorKind::NotFound,
                    "no such route; see /openapi.json",
                ))
            }))
    })
    .shutdown_timeout(30);
    if let Some(workers) = state.config.workers {
        server = server.workers(workers.max(1));
    }
    let server = server.bind(&state.config.bind)?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("bound to no address"))?;
    let server = server.run();
    let handle = server.handle();
    spawn_housekeeping(Arc::clone(&state));
    warm_up(Arc::clone(&state));
    tracing::info!(%addr, "polder is listening");
    Ok(Running {
        addr,
        handle,
        server,
        state,
    })
}

/// Runs the server until it is stopped (Ctrl-C or SIGTERM): it stops
/// accepting connections, lets in-flight requests finish (their votes are
/// durable once answered), then stops the background workers.
pub async fn serve(state: Arc<AppState>) -> std::io::Result<()> {
    let running = start(state)?;
    let result = running.server.await;
    running.state.shutdown.trigger();
    tracing::info!("polder stopped");
    result
}

fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%r %s %Dms").log_target("polder::http")
}

/// Starts the recompute of every open conversation, so that reports are
/// ready before anyone asks.
fn warm_up(state: Arc<AppState>) {
    actix_web::rt::spawn(async move {
        match state.store.list_conversations().await {
            Ok(conversations) => {
                for c in conversations.iter().filter(|c| !c.closed) {
                    state.live(&c.id);
                }
            }
            Err(error) => tracing::warn!(%error, "cannot list conversations at start-up"),
        }
    });
}

fn spawn_housekeeping(state: Arc<AppState>) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    state.limits.forget_idle();
                    // The first tick fires at once, so retention also runs at start-up.
                    if let Err(error) = retention::apply(state.store.as_ref(), time::now_ms()).await {
                        tracing::warn!(%error, "retention could not be applied; retrying in a minute");
                    }
                }
                () = state.shutdown.cancelled() => return,
            }
        }
    });
}

/// Sets up log output in the configured format (`RUST_LOG` filters).
pub fn init_tracing(format: config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        config::LogFormat::Text => builder.try_init(),
        config::LogFormat::Json => builder.json().try_init(),
    };
}
