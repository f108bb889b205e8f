//! Statements: submit, list, moderate, and the moderation audit log.

use super::{Caller, State, caller, open_conversation, require_manager};
use crate::api::{Moderate, ModerationLogView, StatementView, SubmitStatement};
use crate::error::{ApiError, ApiResult, ErrorKind};
use actix_web::{HttpRequest, HttpResponse, web};
use polder_core::{Moderation, StatementId};
use polder_store::{ModerationAction, NewStatement};
use serde::Deserialize;
use utoipa::IntoParams;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(submit)
        .service(list)
        .service(moderate)
        .service(moderation_log);
}

/// Submits a statement: participants when the conversation allows it,
/// moderators always (their statements are accepted at once).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/statements", tag = "statements",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = SubmitStatement,
    responses(
        (status = 201, body = StatementView), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ),
    security(("participant_token" = []), ("api_key" = []))
)]
#[actix_web::post("/conversations/{id}/statements")]
pub async fn submit(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<SubmitStatement>,
) -> ApiResult<HttpResponse> {
    let conversation = open_conversation(&state, &id).await?;
    let body = body.into_inner();
    let caller = caller(&state, &req).await?;
    let new = match &caller {
        c if c.manages(&id) => NewStatement {
            text: body.text,
            lang: body.lang,
            author: None,
            is_meta: body.is_meta,
            is_seed: body.is_seed,
            moderation: Moderation::Accepted,
        },
        Caller::Participant {
            conversation: c,
            pid,
        } if *c == *id => {
            if !conversation.settings.allow_statements {
                return Err(ApiError::new(
                    ErrorKind::NotAllowed,
                    "this conversation does not take statements from participants",
                ));
            }
            if body.is_seed || body.is_meta {
                return Err(ApiError::new(
                    ErrorKind::Forbidden,
                    "only moderators can write seed or meta statements",
                )
                .with_field(if body.is_seed { "is_seed" } else { "is_meta" }));
            }
            NewStatement {
                text: body.text,
                lang: body.lang,
                author: Some(polder_core::ParticipantId(*pid)),
                is_meta: false,
                is_seed: false,
                moderation: Moderation::Unmoderated,
            }
        }
        Caller::Anonymous => {
            return Err(ApiError::new(
                ErrorKind::Unauthenticated,
                "join the conversation first",
            ));
        }
        _ => {
            return Err(ApiError::new(
                ErrorKind::Forbidden,
                format!("these credentials do not belong to conversation `{id}`"),
            ));
        }
    };
    let statement = state.store.add_statement(&id, new).await?;
    state.live(&id).statements_changed();
    Ok(HttpResponse::Created().json(StatementView::from(statement)))
}

/// Query of the statement list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Moderators only: include statements participants are not shown.
    #[serde(default)]
    pub all: bool,
}

/// Lists the statements participants are shown (moderators: `?all=true`
/// for every statement).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/statements", tag = "statements",
    params(("id" = String, Path, description = "Conversation id"), ListQuery),
    responses((status = 200, body = Vec<StatementView>), (status = 404, body = crate::error::Problem))
)]
#[actix_web::get("/conversations/{id}/statements")]
pub async fn list(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let conversation = super::conversation(&state, &id).await?;
    if query.all {
        require_manager(&state, &req, &id).await?;
    }
    let strict = conversation.settings.strict_moderation;
    let statements: Vec<StatementView> = state
        .store
        .list_statements(&id)
        .await?
        .into_iter()
        .filter(|s| query.all || visible(s, strict))
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(statements))
}

/// Whether participants are shown this statement.
pub fn visible(statement: &polder_store::Statement, strict_moderation: bool) -> bool {
    polder_core::StatementInfo {
        id: statement.id,
        moderation: statement.moderation,
        is_meta: statement.is_meta,
    }
    .is_visible(strict_moderation)
}

/// Moderates a statement (moderators): in, out or back to unmoderated, and
/// the meta flag. Logged with who did it.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/statements/{tid}/moderation", tag = "statements",
    params(("id" = String, Path, description = "Conversation id"), ("tid" = u32, Path, description = "Statement id")),
    request_body = Moderate,
    responses(
        (status = 200, body = StatementView), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
    ),
    security(("api_key" = []))
)]
#[actix_web::post("/conversations/{id}/statements/{tid}/moderation")]
pub async fn moderate(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, u32)>,
    body: web::Json<Moderate>,
) -> ApiResult<HttpResponse> {
    let (id, tid) = path.into_inner();
    let caller = require_manager(&state, &req, &id).await?;
    let body = body.into_inner();
    let statement = state
        .store
        .moderate_statement(
            &id,
            StatementId(tid),
            ModerationAction {
                actor: caller.label(),
                state: body.state.into(),
                is_meta: body.is_meta,
            },
        )
        .await?;
    state.live(&id).statements_changed();
    Ok(HttpResponse::Ok().json(StatementView::from(statement)))
}

/// The moderation audit log, oldest first (moderators).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/moderation-log", tag = "statements",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = Vec<ModerationLogView>), (status = 403, body = crate::error::Problem)),
    security(("api_key" = []))
)]
#[actix_web::get("/conversations/{id}/moderation-log")]
pub async fn moderation_log(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    require_manager(&state, &req, &id).await?;
    let log: Vec<ModerationLogView> = state
        .store
        .moderation_log(&id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(log))
}
