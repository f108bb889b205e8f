//! Eligibility tokens over HTTP: the conversation's public key, blind
//! issuance in exchange for an invite code, and the checks a join with a
//! token goes through. The cryptography is in [`crate::eligibility`].

use super::invites::{parse_code, redeem};
use super::{State, conversation, open_conversation};
use crate::api::{EligibilityKey, EligibilityToken, IssueToken, IssuedToken};
use crate::eligibility::{
    BlindedProblem, EligibilityError, MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES, RANDOMIZER_BYTES,
    VARIANT, nullifier,
};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use polder_store::{Conversation, Participation};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(public_key).service(issue);
}

impl From<EligibilityError> for ApiError {
    fn from(error: EligibilityError) -> Self {
        match error {
            EligibilityError::Store(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

/// The conversation's public key for eligibility tokens (RFC 9474). Made
/// the first time anyone asks; it does not change afterwards, so clients
/// may pin it (compare it with the one the organisers publish).
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/eligibility/key", tag = "participants",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, body = EligibilityKey), (status = 404, body = crate::error::Problem),
    )
)]
#[actix_web::get("/conversations/{id}/eligibility/key")]
pub async fn public_key(state: State, id: web::Path<String>) -> ApiResult<HttpResponse> {
    conversation(&state, &id).await?;
    let key = state
        .eligibility_keys
        .get_or_create(state.store.as_ref(), &id)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(EligibilityKey {
            variant: VARIANT.to_owned(),
            modulus_bits: u32::try_from(key.modulus_bytes * 8).unwrap_or(u32::MAX),
            spki: URL_SAFE_NO_PAD.encode(&key.spki_pss),
            spki_rsa_encryption: URL_SAFE_NO_PAD.encode(&key.spki_rsa),
        }))
}

/// Exchanges an invite code for a blind signature: the code is used up,
/// the blinded message is signed and forgotten. The client unblinds the
/// signature and joins with the resulting token, which the server cannot
/// tell apart from any other token it signed. To keep the join from being
/// matched by time, wait before joining (see docs/privacy.md).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/eligibility/tokens", tag = "participants",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = IssueToken,
    responses(
        (status = 200, body = IssuedToken),
        (status = 403, body = crate::error::Problem, description = "`invite_unknown`, or `not_allowed` in an open conversation"),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem, description = "`invite_used`, or `conversation_closed`"),
        (status = 422, body = crate::error::Problem),
    )
)]
#[actix_web::post("/conversations/{id}/eligibility/tokens")]
pub async fn issue(
    state: State,
    id: web::Path<String>,
    body: web::Json<IssueToken>,
) -> ApiResult<HttpResponse> {
    let found = open_conversation(&state, &id).await?;
    refuse_in_open_mode(&found, "invite_code")?;
    let body = body.into_inner();
    // Everything that can be refused is checked before the code is used up.
    let hash = parse_code(&body.invite_code)?;
    let blinded = decode("blinded_message", &body.blinded_message)?;
    let key = state
        .eligibility_keys
        .get_or_create(state.store.as_ref(), &id)
        .await?;
    match key.check_blinded(&blinded) {
        Ok(()) => {}
        Err(BlindedProblem::Length) => {
            return Err(ApiError::validation(
                "blinded_message",
                format!(
                    "a blinded message has {} bytes for this key",
                    key.modulus_bytes
                ),
            ));
        }
        Err(BlindedProblem::Range) => {
            return Err(ApiError::validation(
                "blinded_message",
                "the blinded message is not smaller than the key's modulus",
            ));
        }
    }
    // Sign first, redeem second: a signature is only released for a code
    // that was redeemed, and a code is only used up once a signature is
    // ready, so a failure in between never burns a code for nothing.
    let signer = std::sync::Arc::clone(&key);
    let signature = web::block(move || signer.blind_sign(&blinded))
        .await
        .map_err(ApiError::internal)??;
    redeem(&state, &id, &hash).await?;
    // Deliberately not logged: neither the code nor the blinded message.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(IssuedToken {
            blind_signature: URL_SAFE_NO_PAD.encode(signature),
        }))
}

/// An open conversation has no panel: codes and tokens are refused rather
/// than silently used up.
pub fn refuse_in_open_mode(conversation: &Conversation, field: &str) -> ApiResult<()> {
    if conversation.settings.participation == Participation::Open {
        return Err(ApiError::new(
            ErrorKind::NotAllowed,
            "this conversation is open to everyone and has no panel: join without an invite \
             code or token",
        )
        .with_field(field));
    }
    Ok(())
}

/// base64url (padding optional) of a named field.
fn decode(field: &str, value: &str) -> ApiResult<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| ApiError::validation(field, "not base64url"))
}

/// Checks a token's form and signature; returns its nullifier. Spends
/// nothing.
pub async fn check_token(
    state: &AppState,
    conversation: &str,
    token: &EligibilityToken,
) -> ApiResult<String> {
    let message = decode("token.message", &token.message)?;
    if !(MIN_MESSAGE_BYTES..=MAX_MESSAGE_BYTES).contains(&message.len()) {
        return Err(ApiError::validation(
            "token.message",
            format!("a token message has {MIN_MESSAGE_BYTES} to {MAX_MESSAGE_BYTES} bytes"),
        ));
    }
    let randomizer: [u8; RANDOMIZER_BYTES] = decode("token.msg_randomizer", &token.msg_randomizer)?
        .try_into()
        .map_err(|_| {
            ApiError::validation(
                "token.msg_randomizer",
                format!("the message randomizer has {RANDOMIZER_BYTES} bytes"),
            )
        })?;
    let signature = decode("token.signature", &token.signature)?;
    let invalid = || {
        ApiError::new(
            ErrorKind::TokenInvalid,
            "this token was not signed by this conversation's eligibility key",
        )
        .with_field("token")
    };
    // Without a key no token can have been issued: do not make one now.
    let Some(key) = state
        .eligibility_keys
        .existing(state.store.as_ref(), conversation)
        .await?
    else {
        return Err(invalid());
    };
    // A public-key operation (e = 65537): cheap enough for the async thread.
    if !key.verify(&message, randomizer, &signature) {
        return Err(invalid());
    }
    Ok(nullifier(&message))
}

/// Spends a checked token; refused when it joined before.
pub async fn spend(state: &AppState, conversation: &str, nullifier: &str) -> ApiResult<()> {
    if state.store.spend_token(conversation, nullifier).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorKind::TokenUsed,
            "this token has already been used to join; each token joins once",
        )
        .with_field("token"))
    }
}
