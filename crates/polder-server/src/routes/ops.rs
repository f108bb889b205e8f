//! Operations endpoints: health, readiness, metrics, the OpenAPI document.

use super::State;
use crate::api::Health;
use crate::error::{ApiError, ErrorKind};
use actix_web::{HttpResponse, web};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(metrics)
        .service(openapi);
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
#[actix_web::get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    })
}

/// The database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = crate::error::Problem))
)]
#[actix_web::get("/readyz")]
pub async fn readyz(state: State) -> Result<HttpResponse, ApiError> {
    state
        .store
        .last_seq("readyz-probe")
        .await
        .or_else(|e| match e {
            polder_store::StoreError::ConversationNotFound(_) => Ok(0),
            other => Err(ApiError::new(ErrorKind::Unavailable, other.to_string())),
        })?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    }))
}

/// Counters in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
#[actix_web::get("/metrics")]
pub async fn metrics(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(state.hub.len()))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, body = Object)))]
#[actix_web::get("/openapi.json")]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::document_json())
}
