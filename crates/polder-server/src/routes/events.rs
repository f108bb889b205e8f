//! `GET /api/v1/conversations/{id}/events`: Server-Sent Events with vote
//! counts, recompute progress and every new report.

use super::State;
use crate::error::ApiResult;
use crate::live::LiveEvent;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::stream;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// Registers the route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(events);
}

/// How often an idle stream sends a comment, so that proxies keep it open.
const KEEPALIVE: Duration = Duration::from_secs(15);

fn frame(event: &LiveEvent) -> Bytes {
    // `data` is one line of JSON (serde_json writes no raw newlines).
    Bytes::from(format!("event: {}\ndata: {}\n\n", event.name, event.data))
}

/// Decrements the open-stream gauge when the client goes away.
struct StreamGuard(Arc<crate::state::AppState>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.metrics.sse_clients.dec();
    }
}

/// The event stream. Events: `status` (first, the current report header),
/// `votes` (votes acknowledged: `received`, `pending`, `last_seq`; at most
/// four a second), `progress` (a recompute stage started),
/// `report` (a new report: `etag`, `vote_count`, `last_seq`, `computed_ms`,
/// `report`).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/events", tag = "reports",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "text/event-stream", content_type = "text/event-stream"),
        (status = 404, body = crate::error::Problem),
    )
)]
#[actix_web::get("/conversations/{id}/events")]
pub async fn events(state: State, id: web::Path<String>) -> ApiResult<HttpResponse> {
    super::conversation(&state, &id).await?;
    let live = state.live(&id);
    let receiver = live.events.subscribe();
    let status = match live.published() {
        Some(p) => LiveEvent::new(
            "status",
            &serde_json::json!({
                "etag": p.etag, "vote_count": p.vote_count,
                "last_seq": p.last_seq, "computed_ms": p.computed_ms,
            }),
        ),
        None => LiveEvent::new("status", &serde_json::json!({ "etag": null })),
    };
    live.dirty.notify_one();
    let app: Arc<crate::state::AppState> = Arc::clone(&state);
    app.metrics.sse_clients.inc();
    let guard = StreamGuard(Arc::clone(&app));
    let first = stream::once(async move { Ok::<Bytes, actix_web::Error>(frame(&status)) });
    let rest = stream::unfold((receiver, guard), |(mut receiver, guard)| async move {
        let bytes = next_frame(&mut receiver).await?;
        Some((Ok::<Bytes, actix_web::Error>(bytes), (receiver, guard)))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::StreamExt::chain(first, rest)))
}

/// The next bytes to send, or `None` when the stream must end.
async fn next_frame(receiver: &mut broadcast::Receiver<LiveEvent>) -> Option<Bytes> {
    match tokio::time::timeout(KEEPALIVE, receiver.recv()).await {
        Err(_elapsed) => Some(Bytes::from_static(b": keep-alive\n\n")),
        Ok(Ok(event)) => Some(frame(&event)),
        // A slow client missed events; the next `report` brings it up to date.
        Ok(Err(RecvError::Lagged(missed))) => {
            Some(Bytes::from(format!(": missed {missed} events\n\n")))
        }
        Ok(Err(RecvError::Closed)) => None,
    }
}
