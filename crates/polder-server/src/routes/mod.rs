//! The HTTP routes, one module per resource.

pub mod comparisons;
pub mod conversations;
pub mod eligibility;
pub mod events;
pub mod exports;
pub mod invites;
pub mod ops;
pub mod pages;
pub mod participants;
pub mod reports;
pub mod statements;
pub mod votes;

use crate::auth::{API_KEY_PREFIX, hash_api_key};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::state::AppState;
use actix_web::{HttpRequest, web};
use polder_store::{Conversation, Role};
use std::sync::Arc;

/// Shared state as handlers receive it.
pub type State = web::Data<Arc<AppState>>;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    ops::configure(cfg);
    cfg.service(
        web::scope("/api/v1")
            .configure(conversations::configure)
            .configure(statements::configure)
            .configure(participants::configure)
            .configure(invites::configure)
            .configure(eligibility::configure)
            .configure(votes::configure)
            .configure(reports::configure)
            .configure(comparisons::configure)
            .configure(events::configure)
            .configure(exports::configure),
    );
    cfg.configure(reports::configure_polis);
    cfg.configure(pages::configure);
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials.
    Anonymous,
    /// An administrator (all conversations).
    Admin {
        /// Key label, for audit logs.
        label: String,
    },
    /// A moderator of one conversation.
    Moderator {
        /// The conversation.
        conversation: String,
        /// Key label, for audit logs.
        label: String,
    },
    /// A participant of one conversation.
    Participant {
        /// The conversation.
        conversation: String,
        /// The participant.
        pid: u32,
    },
}

impl Caller {
    /// Whether the caller may manage `conversation`.
    pub fn manages(&self, conversation: &str) -> bool {
        match self {
            Caller::Admin { .. } => true,
            Caller::Moderator {
                conversation: c, ..
            } => c == conversation,
            _ => false,
        }
    }

    /// Label for the audit log.
    pub fn label(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".to_owned(),
            Caller::Admin { label } => format!("admin:{label}"),
            Caller::Moderator { label, .. } => format!("moderator:{label}"),
            Caller::Participant { pid, .. } => format!("participant:{pid}"),
        }
    }
}

/// Reads the `Authorization: Bearer …` credentials.
pub async fn caller(state: &AppState, req: &HttpRequest) -> ApiResult<Caller> {
    let Some(header) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let value = header.to_str().map_err(|_| {
        ApiError::new(
            ErrorKind::Unauthenticated,
            "Authorization header is not ASCII",
        )
    })?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::Unauthenticated,
                "Authorization must be `Bearer <key or token>`",
            )
        })?
        .trim();
    if token.starts_with(API_KEY_PREFIX) {
        let record = state
            .store
            .find_key(&hash_api_key(token))
            .await?
            .ok_or_else(|| {
                ApiError::new(ErrorKind::Unauthenticated, "unknown or revoked API key")
            })?;
        return Ok(match record.role {
            Role::Admin => Caller::Admin {
                label: record.label,
            },
            Role::Moderator { conversation } => Caller::Moderator {
                conversation,
                label: record.label,
            },
        });
    }
    let (conversation, pid) = state.signer.verify(token).ok_or_else(|| {
        ApiError::new(
            ErrorKind::Unauthenticated,
            "the participant token is not valid",
        )
    })?;
    if !state.limits.participant_allows(&conversation, pid) {
        state.metrics.rate_limited.inc();
        return Err(ApiError::new(
            ErrorKind::RateLimited,
            "too many requests from this participant; slow down",
        ));
    }
    Ok(Caller::Participant { conversation, pid })
}

/// The caller, who must manage `conversation`.
pub async fn require_manager(
    state: &AppState,
    req: &HttpRequest,
    conversation: &str,
) -> ApiResult<Caller> {
    let caller = caller(state, req).await?;
    match &caller {
        Caller::Anonymous => Err(ApiError::new(
            ErrorKind::Unauthenticated,
            "this needs an admin or moderator key",
        )),
        c if c.manages(conversation) => Ok(caller),
        _ => Err(ApiError::new(
            ErrorKind::Forbidden,
            format!("these credentials do not manage conversation `{conversation}`"),
        )),
    }
}

/// The caller, who must be an administrator.
pub async fn require_admin(state: &AppState, req: &HttpRequest) -> ApiResult<Caller> {
    let caller = caller(state, req).await?;
    match caller {
        Caller::Admin { .. } => Ok(caller),
        Caller::Anonymous => Err(ApiError::new(
            ErrorKind::Unauthenticated,
            "this needs an admin key",
        )),
        _ => Err(ApiError::new(
            ErrorKind::Forbidden,
            "this needs an admin key",
        )),
    }
}

/// The participant calling, who must belong to `conversation`.
pub async fn require_participant(
    state: &AppState,
    req: &HttpRequest,
    conversation: &str,
) -> ApiResult<u32> {
    match caller(state, req).await? {
        Caller::Participant {
            conversation: c,
            pid,
        } if c == conversation => Ok(pid),
        Caller::Participant { .. } => Err(ApiError::new(
            ErrorKind::Forbidden,
            format!("this participant token belongs to another conversation than `{conversation}`"),
        )),
        Caller::Anonymous => Err(ApiError::new(
            ErrorKind::Unauthenticated,
            "this needs a participant token (join the conversation first)",
        )),
        _ => Err(ApiError::new(
            ErrorKind::Forbidden,
            "this needs a participant token, not an API key",
        )),
    }
}

/// The conversation, or `conversation_not_found`.
pub async fn conversation(state: &AppState, id: &str) -> ApiResult<Conversation> {
    state.store.get_conversation(id).await?.ok_or_else(|| {
        ApiError::new(
            ErrorKind::ConversationNotFound,
            format!("conversation `{id}` does not exist"),
        )
    })
}

/// The conversation, which must be open for votes and statements.
pub async fn open_conversation(state: &AppState, id: &str) -> ApiResult<Conversation> {
    let conversation = conversation(state, id).await?;
    if conversation.closed {
        return Err(ApiError::new(
            ErrorKind::ConversationClosed,
            format!("conversation `{id}` is closed"),
        ));
    }
    Ok(conversation)
}
