//! Helpers shared by the polder crate's HTTP tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;

/// The databases to run against: SQLite always; PostgreSQL when
/// `DATABASE_URL` is set, and it must be set on CI.
pub fn urls(dir: &Path) -> Vec<String> {
    let mut urls = vec![format!("sqlite://{}", dir.join("e2e.db").display())];
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => urls.push(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but DATABASE_URL is unset: run under ../shared/scripts/with-postgres")
        }
        _ => eprintln!("DATABASE_URL unset: PostgreSQL part skipped"),
    }
    urls
}

/// One request; the status and the JSON body (`Null` when not JSON).
pub async fn send(
    client: &awc::Client,
    method: &str,
    url: String,
    auth: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
    let req = client
        .request(method, url)
        .insert_header(("Authorization", format!("Bearer {auth}")));
    let mut res = match body {
        Some(body) => req.send_json(&body).await.expect("request"),
        None => req.send().await.expect("request"),
    };
    let bytes = res.body().limit(256 * 1024 * 1024).await.expect("body");
    (
        res.status().as_u16(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
