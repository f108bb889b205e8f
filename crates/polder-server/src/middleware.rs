//! Request handling around every route: extractor errors as problems, the
//! per-client rate limit, CORS per conversation, response counters.

use crate::auth::client_fingerprint;
use crate::error::{ApiError, ErrorKind};
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use std::sync::Arc;

/// JSON bodies: size limit, and parse failures as `invalid_body` naming the
/// place (serde reports the field, line and column).
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |error, _req| {
            let api = match &error {
                JsonPayloadError::OverflowKnownLength { length, limit } => ApiError::new(
                    ErrorKind::PayloadTooLarge,
                    format!("the body has {length} bytes; the limit is {limit}"),
                ),
                JsonPayloadError::Overflow { limit } => ApiError::new(
                    ErrorKind::PayloadTooLarge,
                    format!("the body is larger than the limit of {limit} bytes"),
                ),
                JsonPayloadError::ContentType => ApiError::new(
                    ErrorKind::UnsupportedMediaType,
                    "send the body as Content-Type: application/json",
                ),
                JsonPayloadError::Deserialize(e) => {
                    ApiError::new(ErrorKind::InvalidBody, format!("invalid JSON body: {e}"))
                }
                other => ApiError::new(ErrorKind::InvalidBody, other.to_string()),
            };
            api.into()
        })
}

/// Path segments that do not parse (e.g. a statement id that is not a number).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error: PathError, _req| {
        ApiError::new(
            ErrorKind::InvalidParameter,
            format!("invalid path: {error}"),
        )
        .into()
    })
}

/// Query strings that do not parse.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error: QueryPayloadError, _req| {
        ApiError::new(
            ErrorKind::InvalidParameter,
            format!("invalid query: {error}"),
        )
        .into()
    })
}

/// The conversation id of a `/api/v1/conversations/{id}/…` path, or of
/// the Polis-compatible `/api/v3/math/pca2?conversation_id={id}`.
fn conversation_of<'a>(path: &'a str, query: &'a str) -> Option<&'a str> {
    if path == "/api/v3/math/pca2" {
        return query
            .split('&')
            .find_map(|pair| pair.strip_prefix("conversation_id="))
            .filter(|id| !id.is_empty());
    }
    let rest = path.strip_prefix("/api/v1/conversations/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// Rate limit per client, CORS, counters.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<Arc<AppState>>>().cloned() else {
        return Err(ApiError::internal("the app has no state").into());
    };
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    // Only the keyed hash is kept (in the limiter's memory), never the address.
    let fingerprint = client_fingerprint(&state.fingerprint_key, &address);
    if !state.limits.client_allows(fingerprint) {
        state.metrics.rate_limited.inc();
        state.metrics.responses_client_error.inc();
        let response = actix_web::ResponseError::error_response(&ApiError::new(
            ErrorKind::RateLimited,
            "too many requests from this client; slow down",
        ));
        return Ok(req.into_response(response).map_into_right_body());
    }

    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let allowed_origin = match &origin {
        Some(origin) => allowed(&state, req.path(), req.query_string(), origin)
            .await
            .then(|| origin.clone()),
        None => None,
    };
    if req.method() == Method::OPTIONS && origin.is_some() {
        let mut response = HttpResponse::NoContent();
        if let Some(origin) = &allowed_origin {
            response
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.as_str()))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    "GET, POST, PATCH, DELETE",
                ))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "authorization, content-type, if-none-match",
                ))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
                .insert_header((header::VARY, "Origin"));
        }
        return Ok(req.into_response(response.finish()).map_into_right_body());
    }

    let mut response = next.call(req).await?;
    if let Some(origin) = allowed_origin
        && let Ok(value) = header::HeaderValue::from_str(&origin)
    {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::HeaderValue::from_static("etag"),
        );
        headers.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    }
    let status = response.status();
    if status.is_server_error() {
        state.metrics.responses_server_error.inc();
    } else if status.is_client_error() {
        state.metrics.responses_client_error.inc();
    } else {
        state.metrics.responses_ok.inc();
    }
    Ok(response.map_into_left_body())
}

/// Whether `origin` may call `path` from a browser: the server-wide list,
/// or the conversation's own list for its routes.
async fn allowed(state: &AppState, path: &str, query: &str, origin: &str) -> bool {
    if state
        .config
        .cors_origins
        .iter()
        .any(|o| o == origin || o == "*")
    {
        return true;
    }
    let Some(id) = conversation_of(path, query) else {
        return false;
    };
    match state.store.get_conversation(id).await {
        Ok(Some(conversation)) => conversation
            .settings
            .cors_origins
            .iter()
            .any(|o| o == origin),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_conversation_in_a_path() {
        assert_eq!(
            conversation_of("/api/v1/conversations/harbour/votes", ""),
            Some("harbour")
        );
        assert_eq!(
            conversation_of("/api/v1/conversations/harbour", ""),
            Some("harbour")
        );
        assert_eq!(conversation_of("/api/v1/conversations/", ""), None);
        assert_eq!(conversation_of("/healthz", ""), None);
        assert_eq!(
            conversation_of("/api/v3/math/pca2", "math_tick=3&conversation_id=harbour"),
            Some("harbour")
        );
        assert_eq!(
            conversation_of("/api/v3/math/pca2", "conversation_id="),
            None
        );
    }
}
