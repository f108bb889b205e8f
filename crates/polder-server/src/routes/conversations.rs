//! Conversations: create, read, update, close, reopen, list.

use super::{State, caller, conversation, require_admin, require_manager};
use crate::api::{ConversationView, CreateConversation, CreatedConversation, UpdateConversation};
use crate::auth::generate_api_key;
use crate::error::{ApiError, ApiResult};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use polder_store::{ConversationPatch, KeyRecord, NewConversation, Role};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(close)
        .service(reopen);
}

/// Longest topic, in characters.
const MAX_TOPIC_CHARS: usize = 300;
/// Longest description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 10_000;

fn validate_texts(topic: Option<&str>, description: Option<&str>) -> ApiResult<()> {
    if let Some(topic) = topic {
        if topic.trim().is_empty() {
            return Err(ApiError::validation("topic", "the topic is empty"));
        }
        if topic.chars().count() > MAX_TOPIC_CHARS {
            return Err(ApiError::validation(
                "topic",
                format!("the topic is longer than {MAX_TOPIC_CHARS} characters"),
            ));
        }
    }
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(ApiError::validation(
            "description",
            format!("the description is longer than {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Creates a conversation (admin). The answer holds the moderator key and
/// the xid secret; neither is shown again.
#[utoipa::path(
    post, path = "/api/v1/conversations", tag = "conversations",
    request_body = CreateConversation,
    responses(
        (status = 201, body = CreatedConversation),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem),
    ),
    security(("api_key" = []))
)]
#[actix_web::post("/conversations")]
pub async fn create(
    state: State,
    req: HttpRequest,
    body: web::Json<CreateConversation>,
) -> ApiResult<HttpResponse> {
    require_admin(&state, &req).await?;
    let body = body.into_inner();
    validate_texts(Some(&body.topic), Some(&body.description))?;
    let created = state
        .store
        .create_conversation(NewConversation {
            id: body.id,
            topic: body.topic,
            description: body.description,
            settings: body.settings.into(),
        })
        .await?;
    let key = generate_api_key();
    state
        .store
        .put_key(KeyRecord {
            hash: key.hash,
            role: Role::Moderator {
                conversation: created.id.clone(),
            },
            label: format!("owner of {}", created.id),
            created_ms: crate::time::now_ms(),
        })
        .await?;
    let xid_secret = state.store.secret(&xid_secret_name(&created.id)).await?;
    tracing::info!(conversation = %created.id, "conversation created");
    Ok(HttpResponse::Created().json(CreatedConversation {
        conversation: created.into(),
        moderator_key: key.plaintext,
        xid_secret: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(xid_secret),
    }))
}

/// Name of a conversation's xid secret in the store.
pub fn xid_secret_name(conversation: &str) -> String {
    format!("xid:{conversation}")
}

/// Lists conversations: open ones for everybody, all of them for admins.
#[utoipa::path(
    get, path = "/api/v1/conversations", tag = "conversations",
    responses((status = 200, body = Vec<ConversationView>))
)]
#[actix_web::get("/conversations")]
pub async fn list(state: State, req: HttpRequest) -> ApiResult<HttpResponse> {
    let caller = caller(&state, &req).await?;
    let all = state.store.list_conversations().await?;
    let visible: Vec<ConversationView> = all
        .into_iter()
        .filter(|c| !c.closed || caller.manages(&c.id))
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(visible))
}

/// One conversation.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationView), (status = 404, body = crate::error::Problem))
)]
#[actix_web::get("/conversations/{id}")]
pub async fn get(state: State, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let found = conversation(&state, &id).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(found)))
}

/// Changes topic, description or settings (admin or the conversation's moderators).
#[utoipa::path(
    patch, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = UpdateConversation,
    responses(
        (status = 200, body = ConversationView), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ),
    security(("api_key" = []))
)]
#[actix_web::patch("/conversations/{id}")]
pub async fn update(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<UpdateConversation>,
) -> ApiResult<HttpResponse> {
    require_manager(&state, &req, &id).await?;
    let body = body.into_inner();
    validate_texts(body.topic.as_deref(), body.description.as_deref())?;
    let updated = state
        .store
        .update_conversation(
            &id,
            ConversationPatch {
                topic: body.topic,
                description: body.description,
                settings: body.settings.map(Into::into),
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(updated)))
}

/// Closes a conversation to votes and statements; reports stay readable.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/close", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationView), (status = 403, body = crate::error::Problem)),
    security(("api_key" = []))
)]
#[actix_web::post("/conversations/{id}/close")]
pub async fn close(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    set_closed(state, req, id, true).await
}

/// Opens a closed conversation again.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationView), (status = 403, body = crate::error::Problem)),
    security(("api_key" = []))
)]
#[actix_web::post("/conversations/{id}/reopen")]
pub async fn reopen(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    set_closed(state, req, id, false).await
}

async fn set_closed(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    closed: bool,
) -> ApiResult<HttpResponse> {
    require_manager(&state, &req, &id).await?;
    let updated = state.store.set_closed(&id, closed).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(updated)))
}
