//! End to end over real HTTP: import vtaiwan.uberx, let 500 simulated
//! participants vote concurrently through the API, and check that the
//! report the server serves equals `polder analyze` (one from-scratch
//! update) on the same votes — on SQLite, and on PostgreSQL under
//! `with-postgres`.

use polder::analyze::{self, Mode};
use polder::storage;
use polder_core::MathConfig;
use polder_server::{Running, ServerConfig, build_state, start};
use polder_store::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

mod common;
use common::{send, urls};

const PARTICIPANTS: usize = 500;
const VOTES_EACH: usize = 8;

#[actix_web::test]
async fn served_report_equals_analyze_after_concurrent_votes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/opendata/vtaiwan.uberx");
    for url in urls(dir.path()) {
        let store = polder_store::open(&url).await.expect("store");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let id = format!("vtaiwan-{nanos}");
        storage::import(&store, &fixture, Some(id.clone()), false)
            .await
            .expect("import");
        let admin = polder_server::auth::issue_api_key(store.as_ref(), Role::Admin, "e2e")
            .await
            .expect("key");
        let config = ServerConfig {
            bind: "127.0.0.1:0".into(),
            database_url: url.clone(),
            recompute_debounce_ms: 50,
            workers: Some(2),
            // Throughput, not bot resistance, is measured here.
            join_pow_bits: 0,
            join_pow_max_bits: 0,
            ..ServerConfig::default()
        };
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
        let base = format!("http://{addr}/api/v1/conversations/{id}");
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .finish();

        // 500 participants at once: join, then ask for the next statement
        // and vote on it, VOTES_EACH times.
        let voters = (0..PARTICIPANTS).map(|i| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let (status, joined) =
                    send(&client, "POST", format!("{base}/participants"), "", None).await;
                assert_eq!(status, 201, "{joined}");
                let token = joined["token"].as_str().expect("token").to_owned();
                let mut last = 0;
                for round in 0..VOTES_EACH {
                    let (_, next) =
                        send(&client, "GET", format!("{base}/next"), &token, None).await;
                    let Some(tid) = next["statement"]["id"].as_u64() else {
                        break;
                    };
                    let vote =
                        ["agree", "disagree", "pass"][(i * 7 + round * 3 + tid as usize) % 3];
                    let (status, ack) = send(
                        &client,
                        "POST",
                        format!("{base}/votes"),
                        &token,
                        Some(json!({ "statement_id": tid, "vote": vote })),
                    )
                    .await;
                    assert_eq!(status, 200, "{ack}");
                    last = last.max(ack["seq"].as_u64().expect("seq"));
                }
                last
            }
        });
        let last_seq = futures_util::future::join_all(voters)
            .await
            .into_iter()
            .max()
            .unwrap_or(0);
        assert_eq!(store.last_seq(&id).await.expect("seq"), last_seq);

        // A from-scratch recompute, then the served report.
        let (status, _) = send(
            &client,
            "POST",
            format!("{base}/recompute?full=true"),
            &admin,
            None,
        )
        .await;
        assert_eq!(status, 202);
        let mut served = Value::Null;
        for _ in 0..1200 {
            let published = state.hub.get(&id).and_then(|l| l.published());
            if published.is_some_and(|p| p.last_seq >= last_seq && p.analysis.tick == 1) {
                served = send(&client, "GET", format!("{base}/report"), "", None)
                    .await
                    .1;
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(served.is_object(), "no from-scratch report after 60 s");

        // polder analyze on the same votes.
        let conversation = storage::read_stored(&store, &id).await.expect("read");
        let outcome = analyze::analyze(&conversation, &MathConfig::default(), Mode::Once, false)
            .expect("analyze");
        let expected: Value = serde_json::from_str(
            &analyze::render(&conversation, &outcome, analyze::OutputFormat::Json).expect("render"),
        )
        .expect("json");
        for part in ["groups", "consensus", "statements", "pca"] {
            assert_eq!(served[part], expected[part], "{url}: `{part}` differs");
        }
        for field in ["n_participants", "n_votes", "n_groups", "n_clustered"] {
            assert_eq!(
                served["meta"][field], expected["meta"][field],
                "{url}: meta.{field}"
            );
        }
        assert!(served["meta"]["n_participants"].as_u64().expect("n") > 1_000);
        handle.stop(true).await;
        state.shutdown.trigger();
    }
}
