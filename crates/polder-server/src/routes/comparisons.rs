//! Reports that compare populations: the citizens' panel against the open
//! public, and everyone against everyone but suspect (coordinated) accounts.

use super::{State, require_manager};
use crate::derived::{self, Subset};
use crate::error::{ApiError, ApiResult, ErrorKind};
use actix_web::{HttpRequest, HttpResponse, web};
use polder_core::comparison::{grouping_agreement, match_groups, statement_differences};
use polder_core::integrity::IntegrityConfig;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(cohorts)
        .service(cohort_report)
        .service(integrity);
}

/// Statements listed in a "most different" list.
const DIFFERENCES_SHOWN: usize = 10;

/// The part of a subset's report that a comparison shows: its size and groups.
fn summary(subset: &Subset) -> Value {
    json!({
        "n_participants": subset.report.meta.n_participants,
        "n_clustered": subset.report.meta.n_clustered,
        "n_groups": subset.report.groups.len(),
        "groups": subset.report.groups,
        "consensus": subset.report.consensus,
    })
}

/// The panel, the open public and everyone side by side: each one's groups,
/// how alike the panel's and the public's groups are, and the statements
/// they answer most differently. Cohorts without participants are `null`.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/report/cohorts", tag = "reports",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "Per-cohort summaries and their comparison (see docs/api.md)", body = Object),
        (status = 404, body = crate::error::Problem),
    )
)]
#[actix_web::get("/conversations/{id}/report/cohorts")]
pub async fn cohorts(state: State, id: web::Path<String>) -> ApiResult<HttpResponse> {
    super::conversation(&state, &id).await?;
    let c = derived::cohorts(&state, &id).await?;
    let vs_all = |s: &Option<Subset>| {
        s.as_ref()
            .map(|s| json!(grouping_agreement(&s.analysis, &c.all.analysis)))
    };
    let panel_vs_open = match (&c.panel, &c.open) {
        (Some(panel), Some(open)) => json!({
            "group_matches": match_groups(&panel.analysis, &open.analysis),
            "statement_differences":
                statement_differences(&panel.analysis, &open.analysis, DIFFERENCES_SHOWN),
        }),
        _ => Value::Null,
    };
    Ok(HttpResponse::Ok().json(json!({
        "all": summary(&c.all),
        "panel": c.panel.as_ref().map(summary),
        "open": c.open.as_ref().map(summary),
        "panel_vs_all": vs_all(&c.panel),
        "open_vs_all": vs_all(&c.open),
        "panel_vs_open": panel_vs_open,
    })))
}

/// The full report (as `GET …/report`) of one cohort: `panel`, `open` or `all`.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/report/cohorts/{cohort}", tag = "reports",
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("cohort" = String, Path, description = "`panel`, `open` or `all`"),
    ),
    responses(
        (status = 200, description = "The cohort's report (polder-report/1)", body = Object),
        (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
    )
)]
#[actix_web::get("/conversations/{id}/report/cohorts/{cohort}")]
pub async fn cohort_report(
    state: State,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, cohort) = path.into_inner();
    if !matches!(cohort.as_str(), "panel" | "open" | "all") {
        return Err(ApiError::new(
            ErrorKind::InvalidParameter,
            format!("`{cohort}` is not a cohort: use `panel`, `open` or `all`"),
        )
        .with_field("cohort"));
    }
    super::conversation(&state, &id).await?;
    let c = derived::cohorts(&state, &id).await?;
    let subset = match cohort.as_str() {
        "panel" => c.panel.as_ref(),
        "open" => c.open.as_ref(),
        _ => Some(&c.all),
    };
    let subset = subset.ok_or_else(|| {
        ApiError::new(
            ErrorKind::ReportNotFound,
            format!("no participant of conversation `{id}` voted as `{cohort}`"),
        )
    })?;
    Ok(HttpResponse::Ok().json(&subset.report))
}

/// Detector settings of the integrity report (defaults in brackets).
#[derive(Debug, Deserialize, IntoParams)]
pub struct IntegrityQuery {
    /// Fewest accounts sharing one vote vector to report them [10].
    pub min_accounts: Option<usize>,
    /// Shortest vote vector considered [6].
    pub min_votes: Option<usize>,
    /// Largest log10 chance of that many copies to report them [-9].
    pub max_log10_chance: Option<f64>,
}

/// Suspicious voting (moderators): groups of accounts with one and the same
/// vote vector, more than chance explains, with whether they joined in a
/// burst; and the opinion groups with and without those accounts.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/report/integrity", tag = "reports",
    params(("id" = String, Path, description = "Conversation id"), IntegrityQuery),
    responses(
        (status = 200, description = "Suspect clusters and the with/without comparison (see docs/api.md)", body = Object),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
    ),
    security(("api_key" = []))
)]
#[actix_web::get("/conversations/{id}/report/integrity")]
pub async fn integrity(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<IntegrityQuery>,
) -> ApiResult<HttpResponse> {
    require_manager(&state, &req, &id).await?;
    super::conversation(&state, &id).await?;
    let defaults = IntegrityConfig::default();
    let config = IntegrityConfig {
        min_accounts: query.min_accounts.unwrap_or(defaults.min_accounts).max(2),
        min_votes: query.min_votes.unwrap_or(defaults.min_votes).max(1),
        max_log10_chance: query.max_log10_chance.unwrap_or(defaults.max_log10_chance),
        ..defaults
    };
    let s = derived::screened(&state, &id, config).await?;
    let with = &s.with_suspects;
    let without = &s.without_suspects;
    // Where the suspects sit in the groups computed with them.
    let mut in_groups = vec![0usize; with.analysis.groups.len()];
    let mut unclustered = 0usize;
    for cluster in &s.clusters {
        for p in &cluster.participants {
            match with
                .analysis
                .participants
                .binary_search(p)
                .ok()
                .and_then(|row| with.analysis.group_of[row])
            {
                Some(g) => in_groups[g as usize] += 1,
                None => unclustered += 1,
            }
        }
    }
    let suspects_by_group: Vec<Value> = with
        .analysis
        .groups
        .iter()
        .zip(&in_groups)
        .map(|(g, &n)| json!({ "group": g.id, "size": g.size, "suspects": n }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "config": config,
        "suspects": s.clusters.iter().map(|c| c.participants.len()).sum::<usize>(),
        "clusters": s.clusters,
        "suspects_by_group": suspects_by_group,
        "suspects_unclustered": unclustered,
        "with_suspects": summary(with),
        "without_suspects": summary(without),
        "agreement": grouping_agreement(&without.analysis, &with.analysis),
        "group_matches": match_groups(&without.analysis, &with.analysis),
    })))
}
