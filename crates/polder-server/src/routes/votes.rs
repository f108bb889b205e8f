//! Votes, and the next statement to vote on.

use super::{State, require_participant};
use crate::api::{CastVote, CastVotes, NextStatement, StatementView, VoteAck, VoteAcks};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use polder_core::{ParticipantId, StatementId};
use polder_store::{MAX_KEY_BYTES, NewVote};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(cast).service(cast_batch).service(next);
}

fn to_new_vote(pid: u32, vote: CastVote, field: &str) -> ApiResult<NewVote> {
    if vote
        .client_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > MAX_KEY_BYTES)
    {
        return Err(ApiError::validation(
            &format!("{field}client_key"),
            format!("a client key must have 1 to {MAX_KEY_BYTES} bytes"),
        ));
    }
    Ok(NewVote {
        participant: ParticipantId(pid),
        statement: StatementId(vote.statement_id),
        vote: vote.vote.into(),
        client_key: vote.client_key,
    })
}

async fn store_votes(
    state: &Arc<AppState>,
    conversation: &str,
    votes: Vec<NewVote>,
) -> ApiResult<Vec<VoteAck>> {
    let cells: Vec<(u32, u32)> = votes
        .iter()
        .map(|v| (v.participant.0, v.statement.0))
        .collect();
    let receipts = state.store.cast_votes(conversation, votes).await?;
    let accepted: Vec<(u64, u32, u32)> = receipts
        .iter()
        .zip(&cells)
        .filter(|(r, _)| !r.duplicate)
        .map(|(r, &(pid, tid))| (r.seq, pid, tid))
        .collect();
    state.metrics.votes.add(accepted.len() as u64);
    state.live(conversation).votes_accepted(&accepted);
    Ok(receipts
        .into_iter()
        .map(|r| VoteAck {
            seq: r.seq,
            duplicate: r.duplicate,
        })
        .collect())
}

/// Casts or changes a vote. Answered once the vote is durably stored;
/// retrying with the same `client_key` does not vote twice.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/votes", tag = "votes",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = CastVote,
    responses(
        (status = 200, body = VoteAck), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
        (status = 429, body = crate::error::Problem),
    ),
    security(("participant_token" = []))
)]
#[actix_web::post("/conversations/{id}/votes")]
pub async fn cast(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<CastVote>,
) -> ApiResult<HttpResponse> {
    let pid = require_participant(&state, &req, &id).await?;
    let vote = to_new_vote(pid, body.into_inner(), "")?;
    let mut acks = store_votes(&state, &id, vec![vote]).await?;
    let ack = acks
        .pop()
        .ok_or_else(|| ApiError::internal("the store returned no receipt"))?;
    Ok(HttpResponse::Ok().json(ack))
}

/// Casts several votes of the calling participant, all or nothing.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/votes/batch", tag = "votes",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = CastVotes,
    responses(
        (status = 200, body = VoteAcks), (status = 401, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
    ),
    security(("participant_token" = []))
)]
#[actix_web::post("/conversations/{id}/votes/batch")]
pub async fn cast_batch(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<CastVotes>,
) -> ApiResult<HttpResponse> {
    let pid = require_participant(&state, &req, &id).await?;
    let body = body.into_inner();
    if body.votes.is_empty() || body.votes.len() > state.config.max_batch_votes {
        return Err(ApiError::validation(
            "votes",
            format!(
                "a batch holds 1 to {} votes, not {}",
                state.config.max_batch_votes,
                body.votes.len()
            ),
        ));
    }
    let votes = body
        .votes
        .into_iter()
        .enumerate()
        .map(|(i, v)| to_new_vote(pid, v, &format!("votes[{i}].")))
        .collect::<ApiResult<Vec<_>>>()?;
    let receipts = store_votes(&state, &id, votes).await?;
    Ok(HttpResponse::Ok().json(VoteAcks { receipts }))
}

/// The next statement for the calling participant, drawn with the engine's
/// statement priorities among the visible statements they have not voted on.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/next", tag = "votes",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, body = NextStatement), (status = 401, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
    ),
    security(("participant_token" = []))
)]
#[actix_web::get("/conversations/{id}/next")]
pub async fn next(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pid = require_participant(&state, &req, &id).await?;
    let conversation = super::conversation(&state, &id).await?;
    let live = state.live(&id);
    let statements = match live.cached_statements() {
        (Some(statements), _) => statements,
        (None, generation) => {
            let statements = Arc::new(state.store.list_statements(&id).await?);
            live.cache_statements(Arc::clone(&statements), generation);
            statements
        }
    };
    let published = live.published();
    let mut voted: HashSet<u32> = live.pending_for(pid).into_iter().collect();
    let mut priorities: HashMap<u32, f64> = HashMap::new();
    if let Some(p) = &published {
        if let Some(row) = p.matrix.row_of(ParticipantId(pid)) {
            let (columns, _) = p.matrix.row(row);
            voted.extend(columns.iter().map(|&c| p.matrix.statements()[c as usize].0));
        }
        priorities.extend(
            polder_core::report::statement_priorities(&p.analysis, &p.catalog)
                .into_iter()
                .map(|(t, w)| (t.0, w)),
        );
    }
    let strict = conversation.settings.strict_moderation;
    let candidates: Vec<(usize, Option<f64>)> = statements
        .iter()
        .enumerate()
        .filter(|(_, s)| super::statements::visible(s, strict) && !voted.contains(&s.id.0))
        .map(|(i, s)| (i, priorities.get(&s.id.0).copied()))
        .collect();
    let voted_visible = statements
        .iter()
        .filter(|s| voted.contains(&s.id.0))
        .count();
    let chosen = polder_core::priority::draw(&candidates, rand::random::<f64>());
    Ok(HttpResponse::Ok().json(NextStatement {
        remaining: candidates.len(),
        voted: voted_visible,
        statement: chosen.map(|i| StatementView::from(statements[i].clone())),
    }))
}
