//! The API over real HTTP on an ephemeral port, against SQLite and (under
//! `with-postgres`) PostgreSQL: the main flows, live events, and a
//! bad-input suite that checks each refusal's status and code and that
//! nothing in the database changed.

mod common;

use common::{TestServer, database_urls, server, unique};
use futures_util::StreamExt;
use serde_json::json;

/// What the bad-input suite must leave unchanged.
async fn fingerprint(s: &TestServer, id: &str) -> (u64, usize, usize, String) {
    let store = &s.store;
    (
        store.last_seq(id).await.expect("seq"),
        store.list_statements(id).await.expect("statements").len(),
        store
            .list_participants(id)
            .await
            .expect("participants")
            .len(),
        format!(
            "{:?}",
            store.get_conversation(id).await.expect("conversation")
        ),
    )
}

#[actix_web::test]
async fn flows_events_and_bad_input_on_every_backend() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in database_urls(dir.path()) {
        let s = server(&url, |c| c.max_body_bytes = 4096).await;
        main_flows(&s).await;
        bad_input(&s).await;
        events(&s).await;
        s.stop().await;
    }
}

async fn main_flows(s: &TestServer) {
    let id = unique("flows");
    let key = s.create(&id, json!({ "erasure": "remove" })).await;
    let t: Vec<u32> = futures_util::future::join_all(
        [
            "Bikes first",
            "More trees",
            "Cheaper parking",
            "Open the harbour",
        ]
        .iter()
        .map(|text| s.statement(&id, &key, text)),
    )
    .await;
    let mut people = Vec::new();
    for _ in 0..8 {
        people.push(s.join(&id).await);
    }
    let mut last = 0;
    for (i, (_, token)) in people.iter().enumerate() {
        for (j, tid) in t.iter().enumerate() {
            let vote = if (i + j) % 2 == 0 {
                "agree"
            } else {
                "disagree"
            };
            let r = s.vote(&id, token, *tid, vote).await;
            assert_eq!(r.status, 200, "{}", r.text);
            last = r.body["seq"].as_u64().expect("seq");
        }
    }
    let report = s.wait_for_report(&id, last).await;
    assert_eq!(report["meta"]["format"], "polder-report/1");
    assert_eq!(report["statements"].as_array().map(Vec::len), Some(4));

    // ETag and If-None-Match.
    let path = format!("/api/v1/conversations/{id}/report");
    let first = s.call("GET", &path, None, None).await;
    let etag = first.etag.clone().expect("etag");
    let url = format!("{}{}", s.base, path);
    let again = s
        .client
        .get(url)
        .insert_header(("If-None-Match", etag.as_str()))
        .send()
        .await
        .expect("request");
    assert_eq!(again.status().as_u16(), 304);

    for part in ["groups", "consensus", "statements"] {
        let r = s.call("GET", &format!("{path}/{part}"), None, None).await;
        assert_eq!(r.status, 200, "{part}: {}", r.text);
        assert_eq!(r.body, report[part], "{part} is the report's part");
    }

    // A participant's own position; the next statement once all are voted.
    let (pid, token) = &people[0];
    let me = s
        .call("GET", &format!("{path}/me"), Some(token), None)
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["participant_id"], *pid);
    assert_eq!(me.body["votes_counted"], 4);
    let next = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/next"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(
        next.body["statement"],
        serde_json::Value::Null,
        "{}",
        next.text
    );
    assert_eq!(next.body["voted"], 4);
    let fresh = s.statement(&id, &key, "A fifth statement").await;
    let next = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/next"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(next.body["statement"]["id"], fresh, "{}", next.text);

    // Idempotent votes with a client key.
    let votes = format!("/api/v1/conversations/{id}/votes");
    let body = json!({ "statement_id": fresh, "vote": "pass", "client_key": "k-1" });
    let a = s.json("POST", &votes, Some(token), body.clone()).await;
    let b = s.json("POST", &votes, Some(token), body).await;
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(a.body["seq"], b.body["seq"]);
    assert_eq!(
        (a.body["duplicate"].clone(), b.body["duplicate"].clone()),
        (json!(false), json!(true))
    );

    // Batch votes.
    let (_, other) = &people[1];
    let batch = s
        .json(
            "POST",
            &format!("{votes}/batch"),
            Some(other),
            json!({ "votes": [{ "statement_id": fresh, "vote": "agree" }] }),
        )
        .await;
    assert_eq!(batch.status, 200, "{}", batch.text);
    assert_eq!(batch.body["receipts"].as_array().map(Vec::len), Some(1));

    // Moderation: out, then votes on it are refused; the audit log has it.
    let moderation = format!("/api/v1/conversations/{id}/statements/{fresh}/moderation");
    let m = s
        .json("POST", &moderation, Some(&key), json!({ "state": "out" }))
        .await;
    assert_eq!(m.status, 200, "{}", m.text);
    assert_eq!(m.body["moderation"], "out");
    let refused = s.vote(&id, &people[2].1, fresh, "agree").await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "statement_moderated_out")
    );
    // The statement list behind "next" was cached above; moderation must
    // drop it, so a participant who voted on the rest gets nothing.
    let next = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/next"),
            Some(&people[2].1),
            None,
        )
        .await;
    assert_eq!(
        next.body["statement"],
        serde_json::Value::Null,
        "a moderated-out statement is not offered: {}",
        next.text
    );
    let log = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/moderation-log"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(log.body.as_array().map(Vec::len), Some(1), "{}", log.text);
    let listed = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/statements"),
            None,
            None,
        )
        .await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(4),
        "moderated out is hidden"
    );

    // Close and reopen.
    let close = s
        .call(
            "POST",
            &format!("/api/v1/conversations/{id}/close"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(close.body["closed"], true);
    let closed = s.vote(&id, token, t[0], "pass").await;
    assert_eq!((closed.status, closed.code()), (409, "conversation_closed"));
    let reopen = s
        .call(
            "POST",
            &format!("/api/v1/conversations/{id}/reopen"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(reopen.body["closed"], false);

    // GDPR: export my data, then erase me (policy: remove) and the report follows.
    let mine = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/participants/me"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.body["votes"].as_array().map(Vec::len), Some(5));
    let before = s.store.last_seq(&id).await.expect("seq");
    let report = s.wait_for_report(&id, before).await;
    let counted = |r: &serde_json::Value| r["meta"]["n_participants"].clone();
    let erased = s
        .call(
            "DELETE",
            &format!("/api/v1/conversations/{id}/participants/me"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert_eq!(erased.body["votes_removed"], 5);
    let mut after = report.clone();
    for _ in 0..200 {
        after = s.call("GET", &path, None, None).await.body;
        if counted(&after) != counted(&report) {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(
        counted(&after),
        counted(&report),
        "the report dropped the erased participant"
    );
    let gone = s.vote(&id, token, t[0], "agree").await;
    assert_eq!(gone.status, 404, "{}", gone.text);

    // Snapshots, the Polis view, metrics and health.
    let snaps = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/snapshots"),
            None,
            None,
        )
        .await;
    assert!(
        snaps.body.as_array().is_some_and(|a| !a.is_empty()),
        "{}",
        snaps.text
    );
    let computed = snaps.body[0]["computed_ms"].as_i64().expect("ms");
    let at = s
        .call("GET", &format!("{path}?at={computed}"), None, None)
        .await;
    assert_eq!(at.status, 200, "{}", at.text);
    assert!(at.body["groups"].is_array());
    let early = s.call("GET", &format!("{path}?at=1000"), None, None).await;
    assert_eq!((early.status, early.code()), (404, "report_not_found"));
    let pca2 = s
        .call(
            "GET",
            &format!("/api/v3/math/pca2?conversation_id={id}"),
            None,
            None,
        )
        .await;
    assert_eq!(pca2.status, 200, "{}", pca2.text);
    assert!(pca2.body["in-conv"].is_array() && pca2.body["base-clusters"].is_object());
    let metrics = s.call("GET", "/metrics", None, None).await;
    assert!(
        metrics.text.contains("polder_votes_total"),
        "{}",
        metrics.text
    );
    assert_eq!(s.call("GET", "/healthz", None, None).await.status, 200);
    assert_eq!(s.call("GET", "/readyz", None, None).await.status, 200);

    // Export in the Polis format.
    let csv = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/export/votes.csv"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let history = s.store.vote_count(&id).await.expect("count");
    assert_eq!(
        csv.text.lines().count() as u64,
        history + 1,
        "header + every vote: {}",
        csv.text
    );
    assert_eq!(
        history,
        32 + 2 - 5,
        "8 × 4 votes, two more, minus the erased participant's 5"
    );
    let public = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{id}/export/votes.csv"),
            None,
            None,
        )
        .await;
    assert_eq!((public.status, public.code()), (401, "unauthenticated"));
}

/// One refused request: name, method, path, credentials, body, status, code.
type Case<'a> = (
    &'a str,
    &'a str,
    String,
    Option<String>,
    Option<String>,
    u16,
    &'a str,
);

async fn bad_input(s: &TestServer) {
    let id = unique("bad");
    let other = unique("other");
    let key = s.create(&id, json!({})).await;
    let other_key = s.create(&other, json!({})).await;
    let tid = s.statement(&id, &key, "A statement").await;
    let (pid, token) = s.join(&id).await;
    let (_, other_token) = s.join(&other).await;
    let ok = s.vote(&id, &token, tid, "agree").await;
    assert_eq!(ok.status, 200);
    let before = fingerprint(s, &id).await;

    let votes = format!("/api/v1/conversations/{id}/votes");
    let forged = token.replace(&format!(".{pid}."), &format!(".{}.", pid + 1));
    let big = format!(r#"{{"text": "{}"}}"#, "x".repeat(5000));
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            "POST",
            votes.clone(),
            Some(token.clone()),
            Some("{\"statement_id\": 1,".into()),
            400,
            "invalid_body",
        ),
        (
            "wrong type",
            "POST",
            votes.clone(),
            Some(token.clone()),
            Some(r#"{"statement_id": "one", "vote": "agree"}"#.into()),
            400,
            "invalid_body",
        ),
        (
            "unknown vote value",
            "POST",
            votes.clone(),
            Some(token.clone()),
            Some(format!(r#"{{"statement_id": {tid}, "vote": "maybe"}}"#)),
            400,
            "invalid_body",
        ),
        (
            "voting as another participant (field)",
            "POST",
            votes.clone(),
            Some(token.clone()),
            Some(format!(
                r#"{{"statement_id": {tid}, "vote": "agree", "participant_id": 7}}"#
            )),
            400,
            "invalid_body",
        ),
        (
            "voting as another participant (forged token)",
            "POST",
            votes.clone(),
            Some(forged),
            Some(format!(r#"{{"statement_id": {tid}, "vote": "disagree"}}"#)),
            401,
            "unauthenticated",
        ),
        (
            "token of another conversation",
            "POST",
            votes.clone(),
            Some(other_token.clone()),
            Some(format!(r#"{{"statement_id": {tid}, "vote": "disagree"}}"#)),
            403,
            "forbidden",
        ),
        (
            "no token",
            "POST",
            votes.clone(),
            None,
            Some(format!(r#"{{"statement_id": {tid}, "vote": "disagree"}}"#)),
            401,
            "unauthenticated",
        ),
        (
            "unknown statement",
            "POST",
            votes.clone(),
            Some(token.clone()),
            Some(r#"{"statement_id": 999, "vote": "agree"}"#.into()),
            404,
            "statement_not_found",
        ),
        (
            "batch with one unknown statement",
            "POST",
            format!("{votes}/batch"),
            Some(token.clone()),
            Some(format!(
                r#"{{"votes": [{{"statement_id": {tid}, "vote": "disagree"}}, {{"statement_id": 999, "vote": "agree"}}]}}"#
            )),
            404,
            "statement_not_found",
        ),
        (
            "empty batch",
            "POST",
            format!("{votes}/batch"),
            Some(token.clone()),
            Some(r#"{"votes": []}"#.into()),
            422,
            "validation_failed",
        ),
        (
            "unknown conversation",
            "POST",
            "/api/v1/conversations/no-such-thing/votes".into(),
            Some(token.clone()),
            Some(r#"{"statement_id": 0, "vote": "agree"}"#.into()),
            403,
            "forbidden",
        ),
        (
            "oversize body",
            "POST",
            format!("/api/v1/conversations/{id}/statements"),
            Some(key.clone()),
            Some(big),
            413,
            "payload_too_large",
        ),
        (
            "empty statement",
            "POST",
            format!("/api/v1/conversations/{id}/statements"),
            Some(key.clone()),
            Some(r#"{"text": "   "}"#.into()),
            422,
            "validation_failed",
        ),
        (
            "missing key",
            "POST",
            "/api/v1/conversations".into(),
            None,
            Some(r#"{"topic": "x"}"#.into()),
            401,
            "unauthenticated",
        ),
        (
            "wrong key",
            "POST",
            "/api/v1/conversations".into(),
            Some("polder_not-a-real-key".into()),
            Some(r#"{"topic": "x"}"#.into()),
            401,
            "unauthenticated",
        ),
        (
            "moderator key of another conversation",
            "POST",
            format!("/api/v1/conversations/{id}/statements/{tid}/moderation"),
            Some(other_key.clone()),
            Some(r#"{"state": "out"}"#.into()),
            403,
            "forbidden",
        ),
        (
            "participant moderating",
            "POST",
            format!("/api/v1/conversations/{id}/statements/{tid}/moderation"),
            Some(token.clone()),
            Some(r#"{"state": "out"}"#.into()),
            403,
            "forbidden",
        ),
        (
            "statement id not a number",
            "POST",
            format!("/api/v1/conversations/{id}/statements/abc/moderation"),
            Some(key.clone()),
            Some(r#"{"state": "out"}"#.into()),
            400,
            "invalid_parameter",
        ),
        (
            "moderating an unknown statement",
            "POST",
            format!("/api/v1/conversations/{id}/statements/999/moderation"),
            Some(key.clone()),
            Some(r#"{"state": "out"}"#.into()),
            404,
            "statement_not_found",
        ),
        (
            "bad conversation id",
            "POST",
            "/api/v1/conversations".into(),
            Some(s.admin_key.clone()),
            Some(r#"{"id": "Not A Slug!", "topic": "x"}"#.into()),
            422,
            "validation_failed",
        ),
        (
            "existing conversation id",
            "POST",
            "/api/v1/conversations".into(),
            Some(s.admin_key.clone()),
            Some(format!(r#"{{"id": "{id}", "topic": "x"}}"#)),
            409,
            "conversation_exists",
        ),
        (
            "unknown setting",
            "PATCH",
            format!("/api/v1/conversations/{id}"),
            Some(key.clone()),
            Some(r#"{"settings": {"stict_moderation": true}}"#.into()),
            400,
            "invalid_body",
        ),
        (
            "bad time",
            "GET",
            format!("/api/v1/conversations/{id}/report?at=yesterday"),
            None,
            None,
            400,
            "invalid_parameter",
        ),
        (
            "unknown conversation report",
            "GET",
            "/api/v1/conversations/no-such-thing/report".into(),
            None,
            None,
            404,
            "conversation_not_found",
        ),
        (
            "unknown route",
            "GET",
            "/api/v1/nothing-here".into(),
            None,
            None,
            404,
            "not_found",
        ),
        (
            "unsigned xid",
            "POST",
            format!("/api/v1/conversations/{id}/participants"),
            None,
            Some(r#"{"xid": "citizen-1"}"#.into()),
            422,
            "validation_failed",
        ),
        (
            "badly signed xid",
            "POST",
            format!("/api/v1/conversations/{id}/participants"),
            None,
            Some(r#"{"xid": "citizen-1", "xid_signature": "AAAA"}"#.into()),
            401,
            "unauthenticated",
        ),
    ];
    for (name, method, path, auth, body, status, code) in cases {
        let reply = s
            .call(method, &path, auth.as_deref(), body.as_deref())
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{name}: {}",
            reply.text
        );
        assert_eq!(reply.content_type, "application/problem+json", "{name}");
        assert_eq!(reply.body["status"], status, "{name}");
        assert!(
            !reply.body["detail"].as_str().unwrap_or("").is_empty(),
            "{name}"
        );
    }
    // Not JSON at all.
    let url = format!("{}{votes}", s.base);
    let plain = s
        .client
        .post(url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "text/plain"))
        .send_body(format!(r#"{{"statement_id": {tid}, "vote": "agree"}}"#))
        .await
        .expect("request");
    assert_eq!(plain.status().as_u16(), 415);

    assert_eq!(
        fingerprint(s, &id).await,
        before,
        "a refused request changed the database"
    );
}

async fn events(s: &TestServer) {
    let id = unique("events");
    let key = s.create(&id, json!({})).await;
    let a = s.statement(&id, &key, "One").await;
    let b = s.statement(&id, &key, "Two").await;
    let url = format!("{}/api/v1/conversations/{id}/events", s.base);
    let mut stream = s.client.get(url).send().await.expect("events");
    assert_eq!(stream.status().as_u16(), 200);
    assert_eq!(
        stream
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut last = 0;
    for _ in 0..5 {
        let (_, token) = s.join(&id).await;
        last = s.vote(&id, &token, a, "agree").await.body["seq"]
            .as_u64()
            .expect("seq");
        s.vote(&id, &token, b, "disagree").await;
        last += 1;
    }
    // Read frames until a report reflecting every vote arrives.
    let mut buffer = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut saw_progress = false;
    let mut saw_votes = false;
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no report event; got:\n{buffer}"
        );
        let chunk = actix_web::rt::time::timeout(std::time::Duration::from_secs(30), stream.next())
            .await
            .expect("timely event")
            .expect("stream open")
            .expect("chunk");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            saw_progress |= frame.starts_with("event: progress");
            if let Some(data) = frame.strip_prefix("event: votes\ndata: ") {
                let event: serde_json::Value = serde_json::from_str(data.trim()).expect("json");
                assert!(event["received"].as_u64().is_some_and(|n| n >= 1), "{data}");
                assert!(event["last_seq"].as_u64().is_some_and(|n| n >= 1), "{data}");
                saw_votes = true;
            }
            if let Some(data) = frame.strip_prefix("event: report\ndata: ") {
                let event: serde_json::Value = serde_json::from_str(data.trim()).expect("json");
                if event["last_seq"].as_u64().is_some_and(|seq| seq >= last) {
                    assert_eq!(event["vote_count"], 10);
                    assert!(event["report"]["groups"].is_array());
                    assert!(saw_progress, "progress events come before the report");
                    assert!(saw_votes, "the first acknowledged vote sends a votes event");
                    return;
                }
            }
        }
    }
}

#[test]
fn the_checked_in_openapi_spec_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../api-spec/openapi.json");
    let generated = polder_server::openapi::document_json();
    if std::env::var("POLDER_BLESS").is_ok() {
        std::fs::write(&path, &generated).expect("write spec");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "api-spec/openapi.json is out of date: run `POLDER_BLESS=1 cargo test -p polder-server --test http` and commit it"
    );
}

/// GET with optional extra headers; returns status, headers and body text.
async fn get_page(
    s: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, awc::http::header::HeaderMap, String) {
    let mut req = s.client.get(format!("{}{}", s.base, path));
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    let mut res = req.send().await.expect("request");
    let bytes = res.body().limit(4 * 1024 * 1024).await.expect("body");
    (
        res.status().as_u16(),
        res.headers().clone(),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn header<'a>(headers: &'a awc::http::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[actix_web::test]
async fn web_pages_and_assets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("web.db").display());
    let s = server(&url, |_| {}).await;
    let id = unique("web");
    s.create(
        &id,
        json!({ "cors_origins": ["https://gemeente.example"], "languages": ["nl"] }),
    )
    .await;

    // Landing: HTML, strict CSP, English by default, lists the conversation.
    let (status, headers, body) = get_page(&s, "/", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    let csp = header(&headers, "content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    assert_eq!(header(&headers, "content-language"), "en");
    assert!(body.contains(r#"<html lang="en">"#));
    assert!(
        body.contains(&format!("/c/{id}")),
        "the landing page lists the conversation"
    );
    assert!(
        !body.contains("<style") && !body.contains(" style="),
        "no inline style"
    );
    assert!(
        !body.contains("<script>")
            && body.contains(r#"<script type="module" src="/assets/polder.js">"#),
        "no inline script"
    );

    // Language: Accept-Language, then ?lang= overrides it.
    let (_, headers, body) =
        get_page(&s, "/", &[("Accept-Language", "nl-NL,nl;q=0.9,en;q=0.8")]).await;
    assert_eq!(header(&headers, "content-language"), "nl");
    assert!(body.contains(r#"<html lang="nl">"#) && body.contains("Open gesprekken"));
    let (_, _, body) = get_page(&s, "/?lang=en", &[("Accept-Language", "nl")]).await;
    assert!(body.contains(r#"<html lang="en">"#) && body.contains("Open conversations"));
    let (_, _, body) = get_page(&s, "/?lang=nl", &[]).await;
    assert!(body.contains(r#"<html lang="nl">"#));

    // Participant and report pages: the widgets, framing by the embedding origins.
    let (status, headers, body) = get_page(&s, &format!("/c/{id}"), &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains(&format!(r#"<polder-vote conversation="{id}">"#)));
    assert!(
        body.contains(r#"<h1 lang="nl">"#),
        "the conversation's language is marked"
    );
    assert!(
        header(&headers, "content-security-policy")
            .contains("frame-ancestors 'self' https://gemeente.example")
    );
    let (status, _, body) = get_page(&s, &format!("/c/{id}/report?lang=nl"), &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("<polder-timeline") && body.contains("<polder-groups"));
    assert!(body.contains("Opiniegroepen"));

    // Unknown conversation: a 404 page in the asked language.
    let (status, headers, body) = get_page(&s, "/c/no-such-conversation?lang=nl", &[]).await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert!(body.contains("Gesprek niet gevonden"));
    let (status, _, _) = get_page(&s, "/c/no-such-conversation/report", &[]).await;
    assert_eq!(status, 404);

    // Assets: content types, ETag revalidation, CORS for module scripts.
    for (path, kind) in [
        ("/assets/polder.js", "text/javascript; charset=utf-8"),
        ("/assets/api.js", "text/javascript; charset=utf-8"),
        ("/assets/i18n.js", "text/javascript; charset=utf-8"),
        ("/assets/pow.js", "text/javascript; charset=utf-8"),
        ("/assets/styles.js", "text/javascript; charset=utf-8"),
        ("/assets/polder.css", "text/css; charset=utf-8"),
        ("/examples/embed.css", "text/css; charset=utf-8"),
    ] {
        let (status, headers, body) = get_page(&s, path, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), kind, "{path}");
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            "*",
            "{path}"
        );
        assert!(!body.is_empty());
        let etag = header(&headers, "etag").to_owned();
        assert!(etag.starts_with('"'), "{path}: {etag}");
        let (status, _, _) = get_page(&s, path, &[("If-None-Match", &etag)]).await;
        assert_eq!(status, 304, "{path}");
    }
    let (status, _, _) = get_page(&s, "/assets/nothing.js", &[]).await;
    assert_eq!(status, 404);

    // The example host page.
    let (status, headers, body) = get_page(&s, "/examples/embed", &[]).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-security-policy").contains("script-src 'self'"));
    assert!(body.contains("<polder-consensus"));

    // The embedding origin may read pca2 (CORS by the conversation's list).
    let (status, headers, _) = get_page(
        &s,
        &format!("/api/v3/math/pca2?conversation_id={id}"),
        &[("Origin", "https://gemeente.example")],
    )
    .await;
    assert!(status == 200 || status == 404, "{status}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        "https://gemeente.example"
    );
    s.stop().await;
}
