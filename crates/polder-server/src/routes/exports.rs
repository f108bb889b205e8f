//! Exports in the Polis CSV format, for researchers and other tools.

use super::{State, require_manager};
use crate::error::{ApiError, ApiResult, ErrorKind};
use actix_web::{HttpRequest, HttpResponse, web};

/// Registers the route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(export_file);
}

/// The files of a Polis export.
const FILES: [&str; 4] = [
    "votes.csv",
    "comments.csv",
    "participants-votes.csv",
    "summary.csv",
];

/// One file of the conversation's Polis export (moderators): `votes.csv`
/// (the full vote history), `comments.csv`, `participants-votes.csv` or
/// `summary.csv`.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/export/{file}", tag = "conversations",
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("file" = String, Path, description = "votes.csv, comments.csv, participants-votes.csv or summary.csv"),
    ),
    responses(
        (status = 200, description = "The CSV file", content_type = "text/csv"),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
    ),
    security(("api_key" = []))
)]
#[actix_web::get("/conversations/{id}/export/{file}")]
pub async fn export_file(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, file) = path.into_inner();
    require_manager(&state, &req, &id).await?;
    if !FILES.contains(&file.as_str()) {
        return Err(ApiError::new(
            ErrorKind::NotFound,
            format!(
                "`{file}` is not a file of a Polis export; try one of {}",
                FILES.join(", ")
            ),
        ));
    }
    super::conversation(&state, &id).await?;
    let dir = tempfile::tempdir().map_err(ApiError::internal)?;
    polder_store::export::export_polis(&state.store, &id, dir.path())
        .await
        .map_err(ApiError::from)?;
    let body = std::fs::read(dir.path().join(&file)).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{id}-{file}\""),
        ))
        .body(body))
}
