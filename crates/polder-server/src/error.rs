//! Every failure the API reports, as `application/problem+json` (RFC 9457)
//! with a stable machine-readable `code`.
//!
//! Clients branch on `code`, never on `title` or `detail`: the codes are part
//! of the API contract and listed in `docs/api.md`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// A failed request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// Which failure; decides the status and the `code`.
    pub kind: ErrorKind,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// The offending field, when one input field is to blame.
    pub field: Option<String>,
}

/// The stable failure classes. Each has one status and one `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The body is not valid JSON or does not match the schema.
    InvalidBody,
    /// A query parameter or path segment is malformed.
    InvalidParameter,
    /// The body parsed, but a value is not acceptable.
    Validation,
    /// No credentials, or credentials that are not valid.
    Unauthenticated,
    /// Valid credentials without the right for this action.
    Forbidden,
    /// The conversation does not exist.
    ConversationNotFound,
    /// The statement does not exist in this conversation.
    StatementNotFound,
    /// The participant does not exist in this conversation.
    ParticipantNotFound,
    /// No report or snapshot exists yet.
    ReportNotFound,
    /// Any other missing resource (unknown route).
    NotFound,
    /// A conversation with this id already exists.
    ConversationExists,
    /// The conversation is closed to votes and statements.
    ConversationClosed,
    /// The action is not allowed by the conversation's settings.
    NotAllowed,
    /// The statement was moderated out; it takes no votes.
    StatementModeratedOut,
    /// No such invite code in this conversation.
    InviteUnknown,
    /// The invite code was redeemed before; a code works once.
    InviteUsed,
    /// The eligibility token's signature does not verify for this conversation.
    TokenInvalid,
    /// The eligibility token has already been used to join.
    TokenUsed,
    /// The request body is larger than the configured limit.
    PayloadTooLarge,
    /// The body is not JSON.
    UnsupportedMediaType,
    /// Too many requests from this participant or client.
    RateLimited,
    /// A join without a valid solved proof-of-work challenge.
    ProofOfWorkFailed,
    /// The database is not reachable.
    Unavailable,
    /// A bug or an unexpected condition; details are in the server log.
    Internal,
}

impl ErrorKind {
    /// Every kind, for the documentation table and its test.
    pub const ALL: [ErrorKind; 24] = [
        ErrorKind::InvalidBody,
        ErrorKind::InvalidParameter,
        ErrorKind::Validation,
        ErrorKind::Unauthenticated,
        ErrorKind::Forbidden,
        ErrorKind::ConversationNotFound,
        ErrorKind::StatementNotFound,
        ErrorKind::ParticipantNotFound,
        ErrorKind::ReportNotFound,
        ErrorKind::NotFound,
        ErrorKind::ConversationExists,
        ErrorKind::ConversationClosed,
        ErrorKind::NotAllowed,
        ErrorKind::StatementModeratedOut,
        ErrorKind::InviteUnknown,
        ErrorKind::InviteUsed,
        ErrorKind::TokenInvalid,
        ErrorKind::TokenUsed,
        ErrorKind::PayloadTooLarge,
        ErrorKind::UnsupportedMediaType,
        ErrorKind::RateLimited,
        ErrorKind::ProofOfWorkFailed,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];

    /// The stable code clients branch on.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidBody => "invalid_body",
            ErrorKind::InvalidParameter => "invalid_parameter",
            ErrorKind::Validation => "validation_failed",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::ConversationNotFound => "conversation_not_found",
            ErrorKind::StatementNotFound => "statement_not_found",
            ErrorKind::ParticipantNotFound => "participant_not_found",
            ErrorKind::ReportNotFound => "report_not_found",
            ErrorKind::NotFound => "not_found",
            ErrorKind::ConversationExists => "conversation_exists",
            ErrorKind::ConversationClosed => "conversation_closed",
            ErrorKind::NotAllowed => "not_allowed",
            ErrorKind::StatementModeratedOut => "statement_moderated_out",
            ErrorKind::InviteUnknown => "invite_unknown",
            ErrorKind::InviteUsed => "invite_used",
            ErrorKind::TokenInvalid => "token_invalid",
            ErrorKind::TokenUsed => "token_used",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ProofOfWorkFailed => "proof_of_work_failed",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    /// The HTTP status of this kind.
    pub const fn status(self) -> StatusCode {
        match self {
            ErrorKind::InvalidBody | ErrorKind::InvalidParameter => StatusCode::BAD_REQUEST,
            ErrorKind::Validation | ErrorKind::StatementModeratedOut => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden
            | ErrorKind::NotAllowed
            | ErrorKind::InviteUnknown
            | ErrorKind::TokenInvalid
            | ErrorKind::ProofOfWorkFailed => StatusCode::FORBIDDEN,
            ErrorKind::ConversationNotFound
            | ErrorKind::StatementNotFound
            | ErrorKind::ParticipantNotFound
            | ErrorKind::ReportNotFound
            | ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::ConversationExists
            | ErrorKind::ConversationClosed
            | ErrorKind::InviteUsed
            | ErrorKind::TokenUsed => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Short summary, the same for every occurrence.
    pub const fn title(self) -> &'static str {
        match self {
            ErrorKind::InvalidBody => "The request body is not valid",
            ErrorKind::InvalidParameter => "A request parameter is not valid",
            ErrorKind::Validation => "A value is not acceptable",
            ErrorKind::Unauthenticated => "Credentials are missing or not valid",
            ErrorKind::Forbidden => "These credentials do not allow this action",
            ErrorKind::ConversationNotFound => "No such conversation",
            ErrorKind::StatementNotFound => "No such statement",
            ErrorKind::ParticipantNotFound => "No such participant",
            ErrorKind::ReportNotFound => "No report yet",
            ErrorKind::NotFound => "Not found",
            ErrorKind::ConversationExists => "The conversation already exists",
            ErrorKind::ConversationClosed => "The conversation is closed",
            ErrorKind::NotAllowed => "The conversation's settings do not allow this",
            ErrorKind::StatementModeratedOut => "The statement was moderated out",
            ErrorKind::InviteUnknown => "No such invite code",
            ErrorKind::InviteUsed => "The invite code was already used",
            ErrorKind::TokenInvalid => "The eligibility token is not valid",
            ErrorKind::TokenUsed => "The eligibility token was already used",
            ErrorKind::PayloadTooLarge => "The request body is too large",
            ErrorKind::UnsupportedMediaType => "The request body must be JSON",
            ErrorKind::RateLimited => "Too many requests",
            ErrorKind::ProofOfWorkFailed => "The proof of work is missing or not valid",
            ErrorKind::Unavailable => "The database is not reachable",
            ErrorKind::Internal => "Internal error",
        }
    }
}

impl ApiError {
    /// An error of `kind` with an explanation.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        ApiError {
            kind,
            detail: detail.into(),
            field: None,
        }
    }

    /// Names the input field to blame.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A validation failure of one field.
    pub fn validation(field: &str, detail: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Validation, detail).with_field(field)
    }

    /// An unexpected failure: logged in full, reported without internals.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        ApiError::new(ErrorKind::Internal, "see the server log")
    }

    /// The response body.
    pub fn problem(&self) -> Problem {
        Problem {
            r#type: format!("urn:polder:problem:{}", self.kind.code()),
            title: self.kind.title().to_owned(),
            status: self.kind.status().as_u16(),
            code: self.kind.code().to_owned(),
            detail: self.detail.clone(),
            field: self.field.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.detail)
    }
}

impl std::error::Error for ApiError {}

/// The `application/problem+json` body of every error response.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// `urn:polder:problem:{code}`.
    pub r#type: String,
    /// Short summary of the kind of failure.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Stable machine-readable code (see docs/api.md).
    pub code: String,
    /// What went wrong this time.
    pub detail: String,
    /// The offending input field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        if self.kind == ErrorKind::RateLimited {
            response.insert_header(("Retry-After", "1"));
        }
        response.json(self.problem())
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<polder_store::StoreError> for ApiError {
    fn from(error: polder_store::StoreError) -> Self {
        use polder_store::StoreError as E;
        let kind = match &error {
            E::ConversationNotFound(_) => ErrorKind::ConversationNotFound,
            E::ConversationExists(_) => ErrorKind::ConversationExists,
            E::InvalidConversationId { .. } => {
                return ApiError::validation("id", error.to_string());
            }
            E::ConversationClosed(_) => ErrorKind::ConversationClosed,
            E::StatementNotFound { .. } => ErrorKind::StatementNotFound,
            E::StatementModeratedOut { .. } => ErrorKind::StatementModeratedOut,
            E::InvalidStatement { .. } => return ApiError::validation("text", error.to_string()),
            E::ParticipantNotFound { .. } | E::ParticipantErased { .. } => {
                ErrorKind::ParticipantNotFound
            }
            E::InvalidValue { .. } => ErrorKind::Validation,
            E::Pool(_) | E::WriterGone => ErrorKind::Unavailable,
            _ => return ApiError::internal(error),
        };
        ApiError::new(kind, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let codes: HashSet<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for code in codes {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
    }

    #[test]
    fn every_kind_is_a_client_or_server_error() {
        for kind in ErrorKind::ALL {
            assert!(kind.status().is_client_error() || kind.status().is_server_error());
        }
    }
}
