//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! `api-spec/openapi.json` is this document checked in; a test fails when
//! the two differ, so the published spec cannot drift from the code.

use crate::{api, error, routes};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "polder API",
        description = "Opinion groups, representative statements and consensus, live. \
                       Errors are application/problem+json with a stable `code` (docs/api.md).",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    paths(
        routes::conversations::create, routes::conversations::list, routes::conversations::get,
        routes::conversations::update, routes::conversations::close, routes::conversations::reopen,
        routes::statements::submit, routes::statements::list, routes::statements::moderate,
        routes::statements::moderation_log,
        routes::participants::join, routes::participants::join_challenge, routes::participants::export_me, routes::participants::erase_me,
        routes::invites::create, routes::invites::status,
        routes::eligibility::public_key, routes::eligibility::issue,
        routes::votes::cast, routes::votes::cast_batch, routes::votes::next,
        routes::reports::report, routes::reports::groups, routes::reports::consensus,
        routes::reports::statements, routes::reports::me, routes::reports::snapshots,
        routes::reports::recompute, routes::reports::pca2,
        routes::comparisons::cohorts, routes::comparisons::cohort_report,
        routes::comparisons::integrity,
        routes::events::events,
        routes::exports::export_file,
        routes::ops::healthz, routes::ops::readyz, routes::ops::metrics, routes::ops::openapi,
    ),
    components(schemas(
        error::Problem, api::Settings, api::ParticipationMode, api::ErasurePolicy,
        api::CreateConversation, api::UpdateConversation, api::ConversationView,
        api::CreatedConversation, api::ModerationState, api::SubmitStatement, api::StatementView,
        api::Moderate, api::ModerationLogView, api::Join, api::Joined, api::PowSolution, api::JoinChallenge, api::VoteValue,
        api::EligibilityToken, api::CohortName, api::CreateInvites, api::CreatedInvites,
        api::InviteStatus, api::EligibilityKey, api::IssueToken, api::IssuedToken,
        api::CastVote, api::CastVotes, api::VoteAck, api::VoteAcks, api::NextStatement,
        api::Position, api::SnapshotView, api::Erased, api::Health,
    )),
    modifiers(&Security),
    tags(
        (name = "conversations", description = "Create and manage conversations"),
        (name = "statements", description = "Statements and moderation"),
        (name = "participants", description = "Joining, invite codes, eligibility tokens, and GDPR self-service"),
        (name = "votes", description = "Voting and the next statement"),
        (name = "reports", description = "Opinion groups, consensus, snapshots, live events"),
        (name = "polis", description = "Polis-compatible views"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// Adds the two credential kinds.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Admin or moderator key (`polder_…`), shown once when made",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "participant_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Participant token (`pt1.…`) from joining a conversation",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as pretty-printed JSON with a final newline.
pub fn document_json() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}
