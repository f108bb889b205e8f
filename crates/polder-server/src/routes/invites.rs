//! Invite codes: made in bulk by the conversation's managers, shown once
//! (JSON, text, CSV or printable HTML cards), counted, and redeemed once.

use super::{State, conversation, require_manager};
use crate::api::{CreateInvites, CreatedInvites, InviteStatus};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::invites::{self, CardText, InviteFormat};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use polder_store::Redemption;
use serde::Deserialize;
use utoipa::IntoParams;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create).service(status);
}

/// Most codes one request makes: a big panel takes a few requests, and no
/// single answer grows beyond about a megabyte of HTML.
pub const MAX_INVITES_PER_REQUEST: u32 = 10_000;
/// Longest join URL printed on cards.
const MAX_JOIN_URL_BYTES: usize = 2_000;

/// How to write out the new codes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FormatQuery {
    /// `json` (default), `text` (one code per line), `csv`
    /// (`conversation,code,join_url`) or `html` (print-ready cut-out cards).
    #[serde(default)]
    #[param(inline)]
    pub format: InviteFormat,
}

/// Makes invite codes for the conversation's panel (managers). The codes
/// are in this answer only — the server keeps just their SHA-256 — so save
/// or print it. Works in every participation mode, so codes can be made
/// before the conversation switches to `invite_only` or `both`.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/invites", tag = "participants",
    params(("id" = String, Path, description = "Conversation id"), FormatQuery),
    request_body = CreateInvites,
    responses(
        (status = 201, body = CreatedInvites, description = "The codes as JSON; with `format=text`, `csv` or `html` the same codes as `text/plain`, `text/csv` or `text/html`"),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
    ),
    security(("api_key" = []))
)]
#[actix_web::post("/conversations/{id}/invites")]
pub async fn create(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<FormatQuery>,
    body: web::Json<CreateInvites>,
) -> ApiResult<HttpResponse> {
    require_manager(&state, &req, &id).await?;
    let found = conversation(&state, &id).await?;
    let body = body.into_inner();
    if body.count == 0 || body.count > MAX_INVITES_PER_REQUEST {
        return Err(ApiError::validation(
            "count",
            format!("make 1 to {MAX_INVITES_PER_REQUEST} codes per request"),
        ));
    }
    if let Some(url) = &body.join_url
        && (url.trim().is_empty()
            || url.len() > MAX_JOIN_URL_BYTES
            || url.chars().any(char::is_control))
    {
        return Err(ApiError::validation(
            "join_url",
            format!(
                "the join URL must have 1 to {MAX_JOIN_URL_BYTES} bytes and no control characters"
            ),
        ));
    }
    // u32 → usize is lossless on every platform polder builds for.
    let made = invites::generate_batch(body.count as usize);
    let hashes: Vec<String> = made.iter().map(|i| i.hash.clone()).collect();
    let added = state.store.create_invites(&id, hashes).await?;
    if added != u64::from(body.count) {
        // Only a collision with an existing code can cause this (odds about
        // 2^-80 per code): refuse the batch rather than hand out a code
        // someone else may hold.
        return Err(ApiError::internal(format!(
            "{} of {} new invite codes already existed",
            u64::from(body.count) - added,
            body.count
        )));
    }
    let counts = state.store.invite_counts(&id).await?;
    tracing::info!(conversation = %id, count = body.count, "invite codes made");
    let codes: Vec<String> = made.into_iter().map(|i| i.code).collect();
    let card = CardText {
        conversation: &id,
        topic: &found.topic,
        join_url: body.join_url.as_deref(),
    };
    let mut response = HttpResponse::Created();
    // The codes are credentials: no cache may keep them.
    response.insert_header(("Cache-Control", "no-store"));
    let disposition = |ext: &str| {
        (
            "Content-Disposition",
            format!("inline; filename=\"polder-{id}-invites.{ext}\""),
        )
    };
    Ok(match query.format {
        InviteFormat::Json => response.json(CreatedInvites {
            codes,
            invites: counts.into(),
        }),
        InviteFormat::Text => response
            .content_type("text/plain; charset=utf-8")
            .insert_header(disposition("txt"))
            .body(invites::render_text(&codes)),
        InviteFormat::Csv => response
            .content_type("text/csv; charset=utf-8")
            .insert_header(disposition("csv"))
            .body(invites::render_csv(&codes, &card)),
        InviteFormat::Html => response
            .content_type("text/html; charset=utf-8")
            .insert_header(disposition("html"))
            .body(invites::render_html(&codes, &card)),
    })
}

/// How many invite codes exist and how many were redeemed (managers).
/// Nothing says which codes, when, or by whom: the server does not know.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/invites", tag = "participants",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, body = InviteStatus),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
    ),
    security(("api_key" = []))
)]
#[actix_web::get("/conversations/{id}/invites")]
pub async fn status(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    require_manager(&state, &req, &id).await?;
    conversation(&state, &id).await?;
    let counts = state.store.invite_counts(&id).await?;
    Ok(HttpResponse::Ok().json(InviteStatus::from(counts)))
}

/// The stored hash of a typed invite code, or a validation error naming
/// `invite_code`. Checks the form only; nothing is used up.
pub fn parse_code(typed: &str) -> ApiResult<String> {
    invites::hash_typed(typed).ok_or_else(|| {
        ApiError::validation(
            "invite_code",
            "this is not an invite code: codes have 16 characters (0-9 and A-Z without I, L, O \
             and U), usually written in four groups of four",
        )
    })
}

/// Uses up the invite code with this hash, or explains why it cannot be used.
pub async fn redeem(state: &AppState, conversation: &str, hash: &str) -> ApiResult<()> {
    match state.store.redeem_invite(conversation, hash).await? {
        Redemption::Redeemed => Ok(()),
        Redemption::AlreadyUsed => Err(ApiError::new(
            ErrorKind::InviteUsed,
            "this invite code was already used; each code works once",
        )
        .with_field("invite_code")),
        Redemption::Unknown => Err(ApiError::new(
            ErrorKind::InviteUnknown,
            "this conversation has no such invite code; check it for typing mistakes",
        )
        .with_field("invite_code")),
    }
}
