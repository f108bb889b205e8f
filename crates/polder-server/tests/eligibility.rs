//! Participation modes, invite codes and blind-signed eligibility tokens
//! over real HTTP (SQLite always, PostgreSQL under `with-postgres`), and a
//! scan of the SQLite file showing that nothing stored links a token's
//! join to the invite code that paid for it.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use blind_rsa_signatures::{BlindingResult, DefaultRng, PublicKeySha384PSSRandomized};
use common::{Reply, TestServer, database_urls, server, unique};
use serde_json::{Value, json};

/// Joins with `body`, adding a solved proof of work unless the body has a
/// signed xid (which needs none) or a `pow` of its own.
async fn join(s: &TestServer, id: &str, mut body: Value) -> Reply {
    if body.get("xid").is_none() && body.get("pow").is_none() {
        body["pow"] = s.solved_pow(id).await;
    }
    s.json(
        "POST",
        &format!("/api/v1/conversations/{id}/participants"),
        None,
        body,
    )
    .await
}

async fn make_invites(s: &TestServer, id: &str, key: &str, count: u32) -> Vec<String> {
    let reply = s
        .json(
            "POST",
            &format!("/api/v1/conversations/{id}/invites"),
            Some(key),
            json!({ "count": count }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

async fn invite_status(s: &TestServer, id: &str, key: &str) -> (u64, u64) {
    let reply = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/invites"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    (
        reply.body["total"].as_u64().unwrap(),
        reply.body["used"].as_u64().unwrap(),
    )
}

fn assert_problem(reply: &Reply, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.code(), code, "{}", reply.text);
    assert_eq!(reply.body["field"].as_str(), field, "{}", reply.text);
}

#[actix_web::test]
async fn invite_codes_and_tokens_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    for url in database_urls(dir.path()) {
        let s = server(&url, |c| c.max_body_bytes = 4096).await;
        invite_codes_work_once(&s).await;
        modes_decide_who_joins_and_the_cohort(&s).await;
        invites_need_a_manager_and_come_printable(&s).await;
        blind_tokens_join_once_and_only_when_signed(&s).await;
        s.stop().await;
    }
}

async fn invite_codes_work_once(s: &TestServer) {
    let id = unique("invite-once");
    let key = s.create(&id, json!({ "participation": "both" })).await;
    let codes = make_invites(s, &id, &key, 3).await;
    assert_eq!(codes.len(), 3);
    assert_eq!(invite_status(s, &id, &key).await, (3, 0));

    let first = join(s, &id, json!({ "invite_code": codes[0] })).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["cohort"], "panel");
    let again = join(s, &id, json!({ "invite_code": codes[0] })).await;
    assert_problem(&again, 409, "invite_used", Some("invite_code"));
    // The same code as a person might retype it is still the same code.
    let retyped = codes[0].to_lowercase().replace('-', " ");
    let again = join(s, &id, json!({ "invite_code": retyped })).await;
    assert_problem(&again, 409, "invite_used", Some("invite_code"));
    let unknown = join(s, &id, json!({ "invite_code": "AAAA-BBBB-CCCC-DDDD" })).await;
    assert_problem(&unknown, 403, "invite_unknown", Some("invite_code"));
    let malformed = join(s, &id, json!({ "invite_code": "not a code" })).await;
    assert_problem(&malformed, 422, "validation_failed", Some("invite_code"));
    assert_eq!(
        invite_status(s, &id, &key).await,
        (3, 1),
        "refused joins used nothing up"
    );

    // Two joins racing with one code: exactly one gets in.
    let racers = (0..6).map(|_| join(s, &id, json!({ "invite_code": codes[1] })));
    let statuses: Vec<u16> = futures_util::future::join_all(racers)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );

    let participants = s.store.list_participants(&id).await.unwrap();
    assert_eq!(participants.len(), 2, "one per redeemed code");
    assert!(
        participants
            .iter()
            .all(|p| p.cohort == polder_store::Cohort::Panel && p.xid.is_none())
    );
    assert_eq!(invite_status(s, &id, &key).await, (3, 2));
}

async fn modes_decide_who_joins_and_the_cohort(s: &TestServer) {
    // both: anonymous is open, an invite is panel.
    let both = unique("mode-both");
    let key = s.create(&both, json!({ "participation": "both" })).await;
    let code = make_invites(s, &both, &key, 1).await.remove(0);
    let anonymous = join(s, &both, json!({})).await;
    assert_eq!(anonymous.status, 201, "{}", anonymous.text);
    assert_eq!(anonymous.body["cohort"], "open");
    let bodiless = s
        .call(
            "POST",
            &format!("/api/v1/conversations/{both}/participants"),
            None,
            None,
        )
        .await;
    // Without a body there is no proof of work either.
    assert_eq!(
        bodiless.body["code"], "proof_of_work_failed",
        "{}",
        bodiless.text
    );
    let invited = join(s, &both, json!({ "invite_code": code })).await;
    assert_eq!(invited.body["cohort"], "panel", "{}", invited.text);
    let stored = |pid: &Value| {
        let pid = polder_core::ParticipantId(pid.as_u64().unwrap() as u32);
        let store = s.store.clone();
        let both = both.clone();
        async move {
            store
                .get_participant(&both, pid)
                .await
                .unwrap()
                .unwrap()
                .cohort
        }
    };
    assert_eq!(
        stored(&anonymous.body["participant_id"]).await,
        polder_store::Cohort::Open
    );
    assert_eq!(
        stored(&invited.body["participant_id"]).await,
        polder_store::Cohort::Panel
    );
    let both_ways = join(
        s,
        &both,
        json!({ "invite_code": code, "token": { "message": "AA", "msg_randomizer": "AA", "signature": "AA" } }),
    )
    .await;
    assert_problem(&both_ways, 422, "validation_failed", Some("token"));

    // invite_only: anonymous is refused; a code or a signed xid is panel.
    let closed = unique("mode-invite-only");
    let key = s
        .create(&closed, json!({ "participation": "invite_only" }))
        .await;
    let code = make_invites(s, &closed, &key, 1).await.remove(0);
    let refused = join(s, &closed, json!({})).await;
    assert_problem(&refused, 403, "not_allowed", None);
    let invited = join(s, &closed, json!({ "invite_code": code })).await;
    assert_eq!(invited.status, 201, "{}", invited.text);
    assert_eq!(invited.body["cohort"], "panel");
    let secret = s
        .store
        .secret(&polder_server::routes::conversations::xid_secret_name(
            &closed,
        ))
        .await
        .unwrap();
    let signature = polder_server::auth::sign_xid(&secret, &closed, "member-7");
    let signed = join(
        s,
        &closed,
        json!({ "xid": "member-7", "xid_signature": signature }),
    )
    .await;
    assert_eq!(signed.status, 201, "{}", signed.text);
    assert_eq!(signed.body["cohort"], "panel");
    // A returning xid gets its participant back and uses no code.
    let spare = make_invites(s, &closed, &key, 1).await.remove(0);
    let returning = join(
        s,
        &closed,
        json!({ "xid": "member-7", "xid_signature": signature, "invite_code": spare }),
    )
    .await;
    assert_eq!(returning.status, 201, "{}", returning.text);
    assert_eq!(
        returning.body["participant_id"],
        signed.body["participant_id"]
    );
    assert_eq!(invite_status(s, &closed, &key).await, (2, 1));

    // open: everybody is open; a code is refused rather than used up.
    let open = unique("mode-open");
    let key = s.create(&open, json!({})).await;
    let code = make_invites(s, &open, &key, 1).await.remove(0);
    let anonymous = join(s, &open, json!({})).await;
    assert_eq!(anonymous.body["cohort"], "open", "{}", anonymous.text);
    let invited = join(s, &open, json!({ "invite_code": code })).await;
    assert_problem(&invited, 403, "not_allowed", Some("invite_code"));
    assert_eq!(invite_status(s, &open, &key).await, (1, 0));
}

async fn invites_need_a_manager_and_come_printable(s: &TestServer) {
    let id = unique("invite-admin");
    let key = s.create(&id, json!({ "participation": "both" })).await;
    let other = unique("invite-other");
    let other_key = s.create(&other, json!({})).await;
    let path = format!("/api/v1/conversations/{id}/invites");
    let anonymous = s.json("POST", &path, None, json!({ "count": 1 })).await;
    assert_problem(&anonymous, 401, "unauthenticated", None);
    let foreign = s
        .json("POST", &path, Some(&other_key), json!({ "count": 1 }))
        .await;
    assert_problem(&foreign, 403, "forbidden", None);
    let (_, participant) = s.join(&id).await;
    let participant = s
        .json("POST", &path, Some(&participant), json!({ "count": 1 }))
        .await;
    assert_problem(&participant, 403, "forbidden", None);
    let status = s.call("GET", &path, None, None).await;
    assert_problem(&status, 401, "unauthenticated", None);
    for count in [0, 10_001] {
        let reply = s
            .json("POST", &path, Some(&key), json!({ "count": count }))
            .await;
        assert_problem(&reply, 422, "validation_failed", Some("count"));
    }
    let missing = s
        .json(
            "POST",
            "/api/v1/conversations/no-such-conversation/invites",
            Some(&s.admin_key),
            json!({ "count": 1 }),
        )
        .await;
    assert_problem(&missing, 404, "conversation_not_found", None);
    assert_eq!(
        invite_status(s, &id, &key).await,
        (0, 0),
        "refusals made nothing"
    );

    let by_admin = make_invites(s, &id, &s.admin_key, 2).await;
    assert_eq!(by_admin.len(), 2);
    for code in &by_admin {
        assert!(
            code.len() == 19 && code.split('-').all(|g| g.len() == 4),
            "{code}"
        );
    }

    let html = s
        .json(
            "POST",
            &format!("{path}?format=html"),
            Some(&key),
            json!({ "count": 3, "join_url": "https://example.org/harbour?x=1&y=2" }),
        )
        .await;
    assert_eq!(html.status, 201, "{}", html.text);
    assert!(
        html.content_type.starts_with("text/html"),
        "{}",
        html.content_type
    );
    assert_eq!(html.text.matches("<article ").count(), 3);
    assert!(
        html.text
            .contains("https://example.org/harbour?x=1&amp;y=2")
    );
    assert!(html.text.contains("<html lang=\"en\">"));
    let printed: Vec<String> = html
        .text
        .split("<code>")
        .skip(1)
        .map(|rest| rest.split("</code>").next().unwrap().to_owned())
        .collect();
    assert_eq!(printed.len(), 3);
    // The printed codes are real ones.
    let joined = join(s, &id, json!({ "invite_code": printed[2] })).await;
    assert_eq!(joined.body["cohort"], "panel", "{}", joined.text);

    let csv = s
        .json(
            "POST",
            &format!("{path}?format=csv"),
            Some(&key),
            json!({ "count": 2 }),
        )
        .await;
    assert_eq!(csv.status, 201, "{}", csv.text);
    assert!(csv.content_type.starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "conversation,code,join_url");
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with(&format!("{id},")));
    let text = s
        .json(
            "POST",
            &format!("{path}?format=text"),
            Some(&key),
            json!({ "count": 4 }),
        )
        .await;
    assert!(text.content_type.starts_with("text/plain"));
    assert_eq!(text.text.lines().count(), 4);
    let bad_format = s
        .json(
            "POST",
            &format!("{path}?format=pdf"),
            Some(&key),
            json!({ "count": 1 }),
        )
        .await;
    assert_problem(&bad_format, 400, "invalid_parameter", None);
    assert_eq!(invite_status(s, &id, &key).await, (11, 1));
}

/// A client's side of the token flow: key, blinding.
struct Client {
    public: PublicKeySha384PSSRandomized,
}

impl Client {
    async fn new(s: &TestServer, id: &str) -> Client {
        let reply = s
            .call(
                "GET",
                &format!("/api/v1/conversations/{id}/eligibility/key"),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["variant"], "RSABSSA-SHA384-PSS-Randomized");
        assert!(reply.body["modulus_bits"].as_u64().unwrap() >= 2048);
        let spki = URL_SAFE_NO_PAD
            .decode(reply.body["spki"].as_str().unwrap())
            .unwrap();
        let public = PublicKeySha384PSSRandomized::from_spki(&spki).unwrap();
        let der = URL_SAFE_NO_PAD
            .decode(reply.body["spki_rsa_encryption"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            PublicKeySha384PSSRandomized::from_der(&der).unwrap(),
            public,
            "both encodings are the same key"
        );
        Client { public }
    }

    fn blind(&self, message: &[u8]) -> BlindingResult {
        self.public.blind(&mut DefaultRng, message).unwrap()
    }

    /// Issues a blind signature for `message` with `code`; returns the
    /// token body and what went over the wire at issuance.
    async fn token(&self, s: &TestServer, id: &str, code: &str, message: &[u8]) -> (Value, Issued) {
        let blinding = self.blind(message);
        let reply = issue(s, id, code, &blinding.blind_message.0).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let blind_signature = URL_SAFE_NO_PAD
            .decode(reply.body["blind_signature"].as_str().unwrap())
            .unwrap();
        let signature = polder_server::eligibility::finalize(
            &self.public,
            &blind_signature,
            &blinding,
            message,
        )
        .expect("the blind signature finalizes to a valid signature");
        let randomizer = blinding.msg_randomizer.unwrap().0;
        let token = json!({
            "message": URL_SAFE_NO_PAD.encode(message),
            "msg_randomizer": URL_SAFE_NO_PAD.encode(randomizer),
            "signature": URL_SAFE_NO_PAD.encode(&signature),
        });
        (
            token,
            Issued {
                blinded: blinding.blind_message.0.clone(),
                blind_signature,
                message: message.to_vec(),
                randomizer: randomizer.to_vec(),
                signature,
            },
        )
    }
}

/// Everything that crossed the wire for one token.
struct Issued {
    blinded: Vec<u8>,
    blind_signature: Vec<u8>,
    message: Vec<u8>,
    randomizer: Vec<u8>,
    signature: Vec<u8>,
}

async fn issue(s: &TestServer, id: &str, code: &str, blinded: &[u8]) -> Reply {
    s.json(
        "POST",
        &format!("/api/v1/conversations/{id}/eligibility/tokens"),
        None,
        json!({ "invite_code": code, "blinded_message": URL_SAFE_NO_PAD.encode(blinded) }),
    )
    .await
}

fn random_message() -> Vec<u8> {
    use rand::RngCore;
    let mut message = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut message);
    message
}

async fn blind_tokens_join_once_and_only_when_signed(s: &TestServer) {
    let id = unique("tokens");
    let key = s
        .create(&id, json!({ "participation": "invite_only" }))
        .await;
    // A token for a conversation that never made a key cannot verify, and
    // asking does not make a key.
    let fake = json!({ "token": {
        "message": URL_SAFE_NO_PAD.encode(random_message()),
        "msg_randomizer": URL_SAFE_NO_PAD.encode([7u8; 32]),
        "signature": URL_SAFE_NO_PAD.encode([1u8; 256]),
    }});
    let refused = join(s, &id, fake.clone()).await;
    assert_problem(&refused, 403, "token_invalid", Some("token"));
    assert_eq!(
        s.store
            .find_secret(&polder_server::eligibility::key_secret_name(&id))
            .await
            .unwrap(),
        None
    );

    let codes = make_invites(s, &id, &key, 3).await;
    let started = std::time::Instant::now();
    let client = Client::new(s, &id).await;
    eprintln!(
        "first key request (generate + store): {:?}",
        started.elapsed()
    );

    // Bad blinded messages are refused before the code is used up.
    let short = issue(s, &id, &codes[0], &[1u8; 100]).await;
    assert_problem(&short, 422, "validation_failed", Some("blinded_message"));
    let too_big = issue(s, &id, &codes[0], &[0xffu8; 256]).await;
    assert_problem(&too_big, 422, "validation_failed", Some("blinded_message"));
    let not_base64 = s
        .json(
            "POST",
            &format!("/api/v1/conversations/{id}/eligibility/tokens"),
            None,
            json!({ "invite_code": codes[0], "blinded_message": "***" }),
        )
        .await;
    assert_problem(
        &not_base64,
        422,
        "validation_failed",
        Some("blinded_message"),
    );
    assert_eq!(invite_status(s, &id, &key).await, (3, 0));

    let started = std::time::Instant::now();
    let (token, _) = client.token(s, &id, &codes[0], &random_message()).await;
    eprintln!("issuance round trip: {:?}", started.elapsed());
    assert_eq!(
        invite_status(s, &id, &key).await,
        (3, 1),
        "issuing used the code"
    );
    // The code that paid for a token is spent: neither a second token nor a join.
    let blinded = client.blind(&random_message());
    let second = issue(s, &id, &codes[0], &blinded.blind_message.0).await;
    assert_problem(&second, 409, "invite_used", Some("invite_code"));
    let direct = join(s, &id, json!({ "invite_code": codes[0] })).await;
    assert_problem(&direct, 409, "invite_used", Some("invite_code"));

    let joined = join(s, &id, json!({ "token": token })).await;
    assert_eq!(joined.status, 201, "{}", joined.text);
    assert_eq!(joined.body["cohort"], "panel");
    let reused = join(s, &id, json!({ "token": token })).await;
    assert_problem(&reused, 409, "token_used", Some("token"));

    // A signature over another message, a changed randomizer, a changed
    // signature: all invalid, and none spends anything.
    let (good, _) = client.token(s, &id, &codes[1], &random_message()).await;
    let mut wrong_message = good.clone();
    wrong_message["message"] = json!(URL_SAFE_NO_PAD.encode(random_message()));
    let mut wrong_randomizer = good.clone();
    wrong_randomizer["msg_randomizer"] = json!(URL_SAFE_NO_PAD.encode([0u8; 32]));
    let mut wrong_signature = good.clone();
    let mut bytes = URL_SAFE_NO_PAD
        .decode(good["signature"].as_str().unwrap())
        .unwrap();
    bytes[100] ^= 0x01;
    wrong_signature["signature"] = json!(URL_SAFE_NO_PAD.encode(&bytes));
    for bad in [&wrong_message, &wrong_randomizer, &wrong_signature] {
        let reply = join(s, &id, json!({ "token": bad })).await;
        assert_problem(&reply, 403, "token_invalid", Some("token"));
    }
    let mut short_randomizer = good.clone();
    short_randomizer["msg_randomizer"] = json!(URL_SAFE_NO_PAD.encode([0u8; 8]));
    let reply = join(s, &id, json!({ "token": short_randomizer })).await;
    assert_problem(
        &reply,
        422,
        "validation_failed",
        Some("token.msg_randomizer"),
    );
    let joined = join(s, &id, json!({ "token": good })).await;
    assert_eq!(
        joined.status, 201,
        "the refusals did not spend the good token: {}",
        joined.text
    );

    // A token of another conversation's key is worthless here.
    let elsewhere = unique("tokens-elsewhere");
    let elsewhere_key = s
        .create(&elsewhere, json!({ "participation": "both" }))
        .await;
    let elsewhere_code = make_invites(s, &elsewhere, &elsewhere_key, 1)
        .await
        .remove(0);
    let elsewhere_client = Client::new(s, &elsewhere).await;
    assert_ne!(
        elsewhere_client.public, client.public,
        "every conversation has its own key"
    );
    let (foreign, _) = elsewhere_client
        .token(s, &elsewhere, &elsewhere_code, &random_message())
        .await;
    let reply = join(s, &id, json!({ "token": foreign })).await;
    assert_problem(&reply, 403, "token_invalid", Some("token"));
    let reply = join(s, &elsewhere, json!({ "token": foreign })).await;
    assert_eq!(reply.body["cohort"], "panel", "{}", reply.text);

    // The key stays the same across requests (and server restarts: it is stored).
    let again = Client::new(s, &id).await;
    assert_eq!(again.public, client.public);
    let panel = s.store.list_participants(&id).await.unwrap();
    assert_eq!(panel.len(), 2);
    assert!(
        panel
            .iter()
            .all(|p| p.cohort == polder_store::Cohort::Panel)
    );
}

/// Every encoding of `bytes` that a careless implementation might store.
fn encodings(bytes: &[u8]) -> Vec<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        hex.clone(),
        hex.to_uppercase(),
        URL_SAFE_NO_PAD.encode(bytes),
        STANDARD.encode(bytes),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[actix_web::test]
async fn stored_records_cannot_link_a_token_to_its_invite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("polder.db");
    let s = server(&format!("sqlite://{}", path.display()), |_| {}).await;
    let id = unique("unlinkable");
    let key = s.create(&id, json!({ "participation": "both" })).await;
    let codes = make_invites(&s, &id, &key, 5).await;
    let client = Client::new(&s, &id).await;
    // Some company for the token's participant: open joins, a direct
    // invite join, and a second token.
    s.join(&id).await;
    let direct = join(&s, &id, json!({ "invite_code": codes[1] })).await;
    assert_eq!(direct.status, 201, "{}", direct.text);
    let (token, issued) = client.token(&s, &id, &codes[0], &random_message()).await;
    let (other_token, other_issued) = client.token(&s, &id, &codes[2], &random_message()).await;
    s.join(&id).await;
    for t in [&other_token, &token] {
        let reply = join(&s, &id, json!({ "token": t })).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let statement = s.statement(&id, &key, "More ferries").await;
    let (_, voter) = s.join(&id).await;
    assert_eq!(s.vote(&id, &voter, statement, "agree").await.status, 200);
    s.stop().await;

    let db =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();

    // The invite and spent-token tables have nothing but what single use needs.
    let columns = |table: &str| -> Vec<String> {
        db.prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    assert_eq!(columns("invites"), ["conversation", "code_hash", "used"]);
    assert_eq!(columns("spent_tokens"), ["conversation", "nullifier"]);

    // The values of the invite rows, besides the conversation id and the flag.
    let invite_values: Vec<String> = db
        .prepare("SELECT code_hash FROM invites WHERE conversation = ?1")
        .unwrap()
        .query_map([&id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(invite_values.len(), 5);

    // What crossed the wire, and the codes themselves, in every encoding.
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, issued) in [("token", &issued), ("other token", &other_issued)] {
        for (what, bytes) in [
            ("blinded message", &issued.blinded),
            ("blind signature", &issued.blind_signature),
            ("token message", &issued.message),
            ("message randomizer", &issued.randomizer),
            ("token signature", &issued.signature),
        ] {
            secrets.push((format!("{name}: {what} (raw)"), bytes.clone()));
            for encoded in encodings(bytes) {
                secrets.push((
                    format!("{name}: {what} ({encoded:.12}…)"),
                    encoded.into_bytes(),
                ));
            }
        }
    }
    for code in &codes {
        secrets.push((format!("code {code}"), code.clone().into_bytes()));
        secrets.push((
            format!("code {code} (bare)"),
            code.replace('-', "").into_bytes(),
        ));
    }

    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.contains(&"participants".to_owned()) && tables.contains(&"invites".to_owned()));
    let mut cells = 0usize;
    for table in &tables {
        let mut stmt = db.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        for name in &names {
            let lower = name.to_lowercase();
            if table != "invites" && table != "spent_tokens" {
                assert!(
                    !lower.contains("invite")
                        && !lower.contains("token")
                        && !lower.contains("nullifier"),
                    "{table}.{name} looks like a link to an invite or token"
                );
            }
        }
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for (i, name) in names.iter().enumerate() {
                cells += 1;
                let bytes: Vec<u8> = match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        t.to_vec()
                    }
                    rusqlite::types::ValueRef::Integer(n) => n.to_string().into_bytes(),
                    rusqlite::types::ValueRef::Real(f) => f.to_string().into_bytes(),
                    rusqlite::types::ValueRef::Null => Vec::new(),
                };
                for (what, secret) in &secrets {
                    assert!(!contains(&bytes, secret), "{table}.{name} holds the {what}");
                }
                if table != "invites" {
                    for value in &invite_values {
                        assert!(
                            !contains(&bytes, value.as_bytes()),
                            "{table}.{name} holds a value of an invite row"
                        );
                    }
                }
            }
        }
    }
    assert!(cells > 50, "the scan saw the data ({cells} cells)");

    // Not even in the file's free pages or the write-ahead log.
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        let Ok(raw) = std::fs::read(&file) else {
            continue;
        };
        for (what, secret) in &secrets {
            assert!(
                !contains(&raw, secret),
                "{} holds the {what}",
                file.display()
            );
        }
    }
}
