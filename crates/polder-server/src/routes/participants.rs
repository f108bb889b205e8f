//! Participants: join, and the GDPR self-service (export my data, erase me).

use super::conversations::xid_secret_name;
use super::eligibility::{self, refuse_in_open_mode};
use super::invites;
use super::{State, open_conversation, require_participant};
use crate::api::{EligibilityToken, Erased, ErasurePolicy, Join, JoinChallenge, Joined};
use crate::auth::verify_xid;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use polder_core::ParticipantId;
use polder_store::{Cohort, Conversation, NewParticipant, Participation};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(join_challenge)
        .service(join)
        .service(export_me)
        .service(erase_me);
}

/// Longest external id, in bytes.
const MAX_XID_BYTES: usize = 256;

/// A proof-of-work puzzle for one join (see `docs/api.md`, "Joining"). The
/// difficulty rises while the conversation is flooded with joins.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/join-challenge", tag = "participants",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = JoinChallenge), (status = 404, body = crate::error::Problem))
)]
#[actix_web::get("/conversations/{id}/join-challenge")]
pub async fn join_challenge(state: State, id: web::Path<String>) -> ApiResult<HttpResponse> {
    open_conversation(&state, &id).await?;
    let c = state.pow.issue(&id, crate::time::now_ms());
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(JoinChallenge {
            challenge: c.challenge,
            difficulty: c.difficulty,
            expires_ms: c.expires_ms,
        }))
}

/// Joins a conversation: anonymously, with an external id signed by the
/// embedding site (the same xid always gets the same participant), with an
/// invite code, or with an eligibility token. The conversation's
/// participation mode decides which are needed and whether the participant
/// counts as open or panel (`cohort` in the answer). Joins without a signed
/// xid carry a solved proof-of-work challenge (the site vouches for its
/// xids); so every guess of an invite code costs one too.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/participants", tag = "participants",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = Join,
    responses(
        (status = 201, body = Joined), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem, description = "`not_allowed`, `invite_unknown` or `token_invalid`"),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "`invite_used`, `token_used` or `conversation_closed`"),
        (status = 422, body = crate::error::Problem),
    )
)]
#[actix_web::post("/conversations/{id}/participants")]
pub async fn join(
    state: State,
    id: web::Path<String>,
    body: Option<web::Json<Join>>,
) -> ApiResult<HttpResponse> {
    let conversation = open_conversation(&state, &id).await?;
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let xid = match (body.xid, body.xid_signature) {
        (Some(xid), Some(signature)) => {
            if xid.is_empty() || xid.len() > MAX_XID_BYTES {
                return Err(ApiError::validation(
                    "xid",
                    format!("the external id must have 1 to {MAX_XID_BYTES} bytes"),
                ));
            }
            let secret = state.store.secret(&xid_secret_name(&id)).await?;
            if !verify_xid(&secret, &id, &xid, &signature) {
                return Err(ApiError::new(
                    ErrorKind::Unauthenticated,
                    "the xid signature does not match this conversation and xid",
                )
                .with_field("xid_signature"));
            }
            Some(xid)
        }
        (Some(_), None) => {
            return Err(ApiError::validation(
                "xid_signature",
                "an external id must come with the embedding site's signature",
            ));
        }
        (None, Some(_)) => {
            return Err(ApiError::validation(
                "xid",
                "a signature without an external id",
            ));
        }
        (None, None) => None,
    };
    let now = crate::time::now_ms();
    if xid.is_none() {
        let solution = body
            .pow
            .as_ref()
            .map(|p| (p.challenge.as_str(), p.nonce.as_str()));
        state.pow.admit(&id, solution, now).map_err(|e| {
            ApiError::new(ErrorKind::ProofOfWorkFailed, e.to_string()).with_field("pow")
        })?;
    }
    let cohort = admission(
        &state,
        &conversation,
        body.invite_code.as_deref(),
        body.token.as_ref(),
        xid.as_deref(),
    )
    .await?;
    let participant = state
        .store
        .add_participant(&id, NewParticipant { xid, cohort })
        .await?;
    state.pow.record_join(&id, now);
    let token = state.signer.issue(&id, participant.id.0);
    Ok(HttpResponse::Created().json(Joined {
        participant_id: participant.id.0,
        token,
        cohort: participant.cohort.into(),
    }))
}

/// Decides whether a join is admitted and into which cohort, by the
/// conversation's participation mode; uses up the invite code or token it
/// admits with. `xid` is an external id whose signature was checked.
///
/// | mode          | nothing      | signed xid | invite code / token |
/// |---------------|--------------|------------|---------------------|
/// | `open`        | open         | open       | refused (no panel)  |
/// | `invite_only` | refused      | panel      | panel               |
/// | `both`        | open         | open       | panel               |
///
/// A returning xid keeps the participant it already has and uses up
/// nothing. Every check that can fail runs before anything is used up.
async fn admission(
    state: &AppState,
    conversation: &Conversation,
    invite_code: Option<&str>,
    token: Option<&EligibilityToken>,
    xid: Option<&str>,
) -> ApiResult<Cohort> {
    let id = conversation.id.as_str();
    let mode = conversation.settings.participation;
    if invite_code.is_some() && token.is_some() {
        return Err(ApiError::validation(
            "token",
            "join with an invite code or with a token, not both",
        ));
    }
    if let Some(xid) = xid
        && let Some(known) = state.store.find_participant_by_xid(id, xid).await?
    {
        return Ok(known.cohort);
    }
    if let Some(code) = invite_code {
        refuse_in_open_mode(conversation, "invite_code")?;
        let hash = invites::parse_code(code)?;
        invites::redeem(state, id, &hash).await?;
        return Ok(Cohort::Panel);
    }
    if let Some(token) = token {
        refuse_in_open_mode(conversation, "token")?;
        let nullifier = eligibility::check_token(state, id, token).await?;
        eligibility::spend(state, id, &nullifier).await?;
        return Ok(Cohort::Panel);
    }
    match (mode, xid) {
        (Participation::Open | Participation::Both, _) => Ok(Cohort::Open),
        // The embedding site vouches for its signed users.
        (Participation::InviteOnly, Some(_)) => Ok(Cohort::Panel),
        (Participation::InviteOnly, None) => Err(ApiError::new(
            ErrorKind::NotAllowed,
            "this conversation is invite-only: join with an invite code, an eligibility token \
             or a signed external id",
        )),
    }
}

/// Everything stored about the calling participant (GDPR right of access).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/participants/me", tag = "participants",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The participant record, vote history and authored statements"),
        (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
    ),
    security(("participant_token" = []))
)]
#[actix_web::get("/conversations/{id}/participants/me")]
pub async fn export_me(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = require_participant(&state, &req, &id).await?;
    let data = state
        .store
        .participant_data(&id, ParticipantId(pid))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"polder-{id}-participant-{pid}.json\""),
        ))
        .json(data))
}

/// Erases the calling participant as the conversation's policy says
/// (GDPR right to erasure); the report is recomputed without them.
#[utoipa::path(
    delete, path = "/api/v1/conversations/{id}/participants/me", tag = "participants",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, body = Erased), (status = 401, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
    ),
    security(("participant_token" = []))
)]
#[actix_web::delete("/conversations/{id}/participants/me")]
pub async fn erase_me(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = require_participant(&state, &req, &id).await?;
    let conversation = super::conversation(&state, &id).await?;
    let report = state
        .store
        .erase_participant(&id, ParticipantId(pid), conversation.settings.erasure)
        .await?;
    let live = state.live(&id);
    if report.votes_removed > 0 {
        // Removed votes are not "newer than a sequence number": the next
        // recompute must start again from the whole matrix.
        live.request_reset();
    }
    // Statements lost their author link; `statements_changed` also wakes
    // the recompute.
    live.statements_changed();
    Ok(HttpResponse::Ok().json(Erased {
        policy: match report.policy {
            polder_store::Erasure::Anonymise => ErasurePolicy::Anonymise,
            polder_store::Erasure::Remove => ErasurePolicy::Remove,
        },
        votes_removed: report.votes_removed,
        statements_unlinked: report.statements_unlinked,
        xid_removed: report.xid_removed,
    }))
}
