//! A real server on an ephemeral port, and a small client for it.
#![allow(dead_code, missing_docs)]

use polder_server::{Running, ServerConfig, build_state, start};
use polder_store::{Role, Store};
use serde_json::Value;
use std::sync::Arc;

/// The databases to run against: SQLite always; PostgreSQL when
/// `DATABASE_URL` is set, and it must be set on CI.
pub fn database_urls(dir: &std::path::Path) -> Vec<String> {
    let mut urls = vec![format!("sqlite://{}", dir.join("polder.db").display())];
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => urls.push(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but DATABASE_URL is unset: run under ../shared/scripts/with-postgres")
        }
        _ => eprintln!("DATABASE_URL unset: PostgreSQL part skipped (run under with-postgres)"),
    }
    urls
}

/// An id no other test uses (PostgreSQL databases are shared).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{nanos}")
}

pub struct TestServer {
    pub addr: std::net::SocketAddr,
    pub handle: actix_web::dev::ServerHandle,
    pub state: Arc<polder_server::AppState>,
    pub base: String,
    pub admin_key: String,
    pub store: Arc<dyn Store>,
    pub client: awc::Client,
}

/// Starts a server on `url` with a fresh admin key. PostgreSQL databases
/// are shared between tests, so callers use unique conversation ids.
pub async fn server(url: &str, tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let store = polder_store::open(url).await.expect("open store");
    let admin_key = polder_server::auth::issue_api_key(store.as_ref(), Role::Admin, "test")
        .await
        .expect("admin key");
    let mut config = ServerConfig {
        bind: "127.0.0.1:0".into(),
        database_url: url.into(),
        recompute_debounce_ms: 20,
        workers: Some(2),
        ..ServerConfig::default()
    };
    tweak(&mut config);
    let state = build_state(config, Arc::clone(&store))
        .await
        .expect("state");
    let Running {
        addr,
        handle,
        server,
        state,
    } = start(state).expect("start");
    actix_web::rt::spawn(server);
    TestServer {
        base: format!("http://{addr}"),
        addr,
        handle,
        state,
        admin_key,
        store,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .finish(),
    }
}

/// A response: status, headers we need, and the body as JSON (or Null).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl TestServer {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let url = format!("{}{}", self.base, path);
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, url);
        if let Some(auth) = auth {
            req = req.insert_header(("Authorization", format!("Bearer {auth}")));
        }
        let mut res = match body {
            Some(body) => req
                .insert_header(("Content-Type", "application/json"))
                .send_body(body.to_owned())
                .await
                .expect("request"),
            None => req.send().await.expect("request"),
        };
        let bytes = res.body().limit(64 * 1024 * 1024).await.expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status: res.status().as_u16(),
            etag: res
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            content_type: res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    pub async fn json(&self, method: &str, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.call(method, path, auth, Some(&body.to_string())).await
    }

    /// Creates a conversation; returns its moderator key.
    pub async fn create(&self, id: &str, settings: Value) -> String {
        let reply = self
            .json(
                "POST",
                "/api/v1/conversations",
                Some(&self.admin_key.clone()),
                serde_json::json!({ "id": id, "topic": "Test topic", "settings": settings }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.body["moderator_key"]
            .as_str()
            .expect("key")
            .to_owned()
    }

    pub async fn statement(&self, id: &str, key: &str, text: &str) -> u32 {
        let reply = self
            .json(
                "POST",
                &format!("/api/v1/conversations/{id}/statements"),
                Some(key),
                serde_json::json!({ "text": text }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.body["id"].as_u64().expect("id") as u32
    }

    /// A solved proof-of-work for one join, as the `pow` field of the body.
    pub async fn solved_pow(&self, id: &str) -> Value {
        let challenge = self
            .call(
                "GET",
                &format!("/api/v1/conversations/{id}/join-challenge"),
                None,
                None,
            )
            .await;
        assert_eq!(challenge.status, 200, "{}", challenge.text);
        let text = challenge.body["challenge"].as_str().expect("challenge");
        let bits = challenge.body["difficulty"].as_u64().expect("difficulty") as u8;
        serde_json::json!({
            "challenge": text,
            "nonce": polder_server::pow::solve(text, bits),
        })
    }

    /// Joins anonymously (solving the proof of work); returns (pid, token).
    pub async fn join(&self, id: &str) -> (u32, String) {
        let body = serde_json::json!({ "pow": self.solved_pow(id).await });
        let reply = self
            .json(
                "POST",
                &format!("/api/v1/conversations/{id}/participants"),
                None,
                body,
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        (
            reply.body["participant_id"].as_u64().expect("pid") as u32,
            reply.body["token"].as_str().expect("token").to_owned(),
        )
    }

    pub async fn vote(&self, id: &str, token: &str, tid: u32, vote: &str) -> Reply {
        self.json(
            "POST",
            &format!("/api/v1/conversations/{id}/votes"),
            Some(token),
            serde_json::json!({ "statement_id": tid, "vote": vote }),
        )
        .await
    }

    /// Waits until the live report reflects `last_seq`.
    pub async fn wait_for_report(&self, id: &str, last_seq: u64) -> Value {
        for _ in 0..600 {
            let reply = self
                .call(
                    "GET",
                    &format!("/api/v1/conversations/{id}/report"),
                    None,
                    None,
                )
                .await;
            if reply.status == 200 && reply.body["meta"].is_object() {
                let seq = self
                    .state
                    .hub
                    .get(id)
                    .and_then(|l| l.published())
                    .map(|p| p.last_seq);
                if seq.is_some_and(|s| s >= last_seq) {
                    return reply.body;
                }
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no report reflecting seq {last_seq} after 30 s");
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.state.shutdown.trigger();
    }
}
