//! Reports: the full report, its parts, a participant's own position,
//! stored snapshots, and the Polis-compatible `math/pca2` view.

use super::{State, require_manager, require_participant};
use crate::api::{Position, SnapshotView};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::live::Published;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use polder_core::{ParticipantId, Pca2, ReportContext};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// Registers the `/api/v1` routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(report)
        .service(groups)
        .service(consensus)
        .service(statements)
        .service(me)
        .service(snapshots)
        .service(recompute);
}

/// Registers the Polis-compatible routes.
pub fn configure_polis(cfg: &mut web::ServiceConfig) {
    cfg.service(pca2);
}

/// Which report to answer with.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AtQuery {
    /// A past moment: the latest snapshot at or before it. Milliseconds
    /// since the epoch or an RFC 3339 time. Absent: the live report.
    pub at: Option<String>,
}

fn parse_at(at: &str) -> ApiResult<i64> {
    if let Ok(ms) = at.parse::<i64>() {
        return Ok(ms);
    }
    humantime::parse_rfc3339_weak(at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::InvalidParameter,
                format!("`{at}` is neither milliseconds since the epoch nor an RFC 3339 time"),
            )
            .with_field("at")
        })
}

/// A report body: the live one, or a stored snapshot.
enum Source {
    Live(Arc<Published>),
    Snapshot {
        etag: String,
        json: serde_json::Value,
        raw: String,
    },
}

async fn source(state: &State, id: &str, at: Option<&str>) -> ApiResult<Source> {
    super::conversation(state, id).await?;
    match at {
        Some(at) => {
            let at = parse_at(at)?;
            let snapshot = state
                .store
                .snapshot_at(id, Some(at))
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorKind::ReportNotFound,
                        format!("conversation `{id}` has no snapshot at or before {at} ms"),
                    )
                })?;
            let json = serde_json::from_str(&snapshot.report_json).map_err(ApiError::internal)?;
            Ok(Source::Snapshot {
                etag: format!("\"s{}\"", snapshot.meta.id),
                json,
                raw: snapshot.report_json,
            })
        }
        None => {
            let live = state.live(id);
            // A conversation nobody asked about since start-up has no
            // report yet; its worker has just started, so wait briefly.
            for _ in 0..FIRST_REPORT_WAIT_STEPS {
                if live.published().is_some() {
                    break;
                }
                actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            live.published().map(Source::Live).ok_or_else(|| {
            ApiError::new(
                ErrorKind::ReportNotFound,
                format!("the first report of `{id}` is being computed; retry in a moment or listen to the events"),
            )
        })
        }
    }
}

/// How long (in 50 ms steps) a report request waits for a first report.
const FIRST_REPORT_WAIT_STEPS: usize = 100;

fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn respond(req: &HttpRequest, etag: &str, body: String) -> HttpResponse {
    if not_modified(req, etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag.to_owned()))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("application/json")
        .body(body)
}

/// One top-level part of a report.
async fn part(
    state: State,
    req: HttpRequest,
    id: &str,
    at: Option<&str>,
    pick: fn(&polder_core::Report) -> serde_json::Result<String>,
    key: &str,
) -> ApiResult<HttpResponse> {
    match source(&state, id, at).await? {
        Source::Live(p) => {
            let body = pick(&p.report).map_err(ApiError::internal)?;
            Ok(respond(&req, &p.etag, body))
        }
        Source::Snapshot { etag, json, .. } => {
            let body = json
                .get(key)
                .map(ToString::to_string)
                .unwrap_or_else(|| "null".to_owned());
            Ok(respond(&req, &etag, body))
        }
    }
}

/// The full native report (see the polder-core `Report` documentation for
/// every field). With `?at=`, the stored snapshot of that moment.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/report", tag = "reports",
    params(("id" = String, Path, description = "Conversation id"), AtQuery),
    responses(
        (status = 200, description = "The report (polder-report/1)", body = Object),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 404, body = crate::error::Problem),
    )
)]
#[actix_web::get("/conversations/{id}/report")]
pub async fn report(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<AtQuery>,
) -> ApiResult<HttpResponse> {
    match source(&state, &id, query.at.as_deref()).await? {
        Source::Live(p) => Ok(respond(&req, &p.etag, p.report_json.to_string())),
        Source::Snapshot { etag, raw, .. } => Ok(respond(&req, &etag, raw)),
    }
}

/// The opinion groups: size, centre and representative statements.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/report/groups", tag = "reports",
    params(("id" = String, Path, description = "Conversation id"), AtQuery),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem))
)]
#[actix_web::get("/conversations/{id}/report/groups")]
pub async fn groups(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<AtQuery>,
) -> ApiResult<HttpResponse> {
    part(
        state,
        req,
        &id,
        query.at.as_deref(),
        |r| serde_json::to_string(&r.groups),
        "groups",
    )
    .await
}

/// What all groups share: consensus statements and group-aware consensus.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/report/consensus", tag = "reports",
    params(("id" = String, Path, description = "Conversation id"), AtQuery),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem))
)]
#[actix_web::get("/conversations/{id}/report/consensus")]
pub async fn consensus(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<AtQuery>,
) -> ApiResult<HttpResponse> {
    part(
        state,
        req,
        &id,
        query.at.as_deref(),
        |r| serde_json::to_string(&r.consensus),
        "consensus",
    )
    .await
}

/// Every statement: position on the map, priority, votes in total and per group.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/report/statements", tag = "reports",
    params(("id" = String, Path, description = "Conversation id"), AtQuery),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem))
)]
#[actix_web::get("/conversations/{id}/report/statements")]
pub async fn statements(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<AtQuery>,
) -> ApiResult<HttpResponse> {
    part(
        state,
        req,
        &id,
        query.at.as_deref(),
        |r| serde_json::to_string(&r.statements),
        "statements",
    )
    .await
}

/// The calling participant's own position and group in the live report.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/report/me", tag = "reports",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, body = Position), (status = 401, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
    ),
    security(("participant_token" = []))
)]
#[actix_web::get("/conversations/{id}/report/me")]
pub async fn me(state: State, req: HttpRequest, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let pid = require_participant(&state, &req, &id).await?;
    let Source::Live(p) = source(&state, &id, None).await? else {
        return Err(ApiError::internal("a live source was asked for"));
    };
    let a = &p.analysis;
    let position = match a.participants.binary_search(&ParticipantId(pid)) {
        Ok(row) => Position {
            participant_id: pid,
            group_id: a.group_of[row],
            projection: a.in_conv[row].then_some(a.projections[row]),
            in_conversation: a.in_conv[row],
            votes_counted: a.vote_counts[row],
        },
        Err(_) => Position {
            participant_id: pid,
            group_id: None,
            projection: None,
            in_conversation: false,
            votes_counted: 0,
        },
    };
    Ok(HttpResponse::Ok().json(position))
}

/// Stored report snapshots, oldest first: the moments `?at=` can show.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/snapshots", tag = "reports",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Vec<SnapshotView>), (status = 404, body = crate::error::Problem))
)]
#[actix_web::get("/conversations/{id}/snapshots")]
pub async fn snapshots(state: State, id: web::Path<String>) -> ApiResult<HttpResponse> {
    super::conversation(&state, &id).await?;
    let list: Vec<SnapshotView> = state
        .store
        .list_snapshots(&id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// Query of a forced recompute.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RecomputeQuery {
    /// Start from scratch (cold start) instead of warm-starting.
    #[serde(default)]
    pub full: bool,
}

/// Asks for a recompute now (moderators); `?full=true` starts the math from
/// scratch, as `polder analyze --mode once` does. Answers at once; the new
/// report arrives on the event stream.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/recompute", tag = "reports",
    params(("id" = String, Path, description = "Conversation id"), RecomputeQuery),
    responses((status = 202, description = "Recompute scheduled"), (status = 403, body = crate::error::Problem)),
    security(("api_key" = []))
)]
#[actix_web::post("/conversations/{id}/recompute")]
pub async fn recompute(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<RecomputeQuery>,
) -> ApiResult<HttpResponse> {
    require_manager(&state, &req, &id).await?;
    super::conversation(&state, &id).await?;
    let live = state.live(&id);
    if query.full {
        live.request_reset();
    }
    live.dirty.notify_one();
    Ok(HttpResponse::Accepted().finish())
}

/// Query of the Polis-compatible view.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Pca2Query {
    /// The conversation (polder id).
    pub conversation_id: String,
    /// The tick the client has; unchanged math answers 304.
    pub math_tick: Option<u64>,
}

/// The live report in the shape of Polis `GET /api/v3/math/pca2`, for
/// existing Polis clients.
#[utoipa::path(
    get, path = "/api/v3/math/pca2", tag = "polis",
    params(Pca2Query),
    responses(
        (status = 200, description = "Polis math-pca2 JSON", body = Object),
        (status = 304, description = "No newer math than `math_tick`"),
        (status = 404, body = crate::error::Problem),
    )
)]
#[actix_web::get("/api/v3/math/pca2")]
pub async fn pca2(
    state: State,
    req: HttpRequest,
    query: web::Query<Pca2Query>,
) -> ApiResult<HttpResponse> {
    let Source::Live(p) = source(&state, &query.conversation_id, None).await? else {
        return Err(ApiError::internal("a live source was asked for"));
    };
    if query.math_tick.is_some_and(|t| t >= p.analysis.tick) {
        return Ok(HttpResponse::NotModified().finish());
    }
    let context = ReportContext {
        last_vote_timestamp: None,
        last_mod_timestamp: None,
        seed: state.config.seed,
        include_participants: false,
    };
    let view = Pca2::new(&p.analysis, &context);
    let body = serde_json::to_string(&view).map_err(ApiError::internal)?;
    Ok(respond(&req, &p.etag, body))
}
