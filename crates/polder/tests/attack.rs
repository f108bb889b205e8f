//! A simulated coordinated attack, bounded and local: 200 sock-puppet
//! accounts join a real conversation (vtaiwan.uberx from the Polis open data,
//! CC BY 4.0, see ../shared/fixtures/README) through the HTTP API — solving
//! the proof of work like any client — and all cast the same 30 votes. The
//! integrity report must flag all of them and none of the real participants,
//! and its "without suspects" groups must be the groups of the real votes.

use polder::storage;
use polder_server::{Running, ServerConfig, build_state, start};
use polder_store::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

mod common;
use common::send;

const PUPPETS: usize = 200;
const VOTES_EACH: usize = 30;

#[actix_web::test]
async fn two_hundred_sock_puppets_are_flagged_and_set_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/opendata/vtaiwan.uberx");
    let url = format!("sqlite://{}", dir.path().join("attack.db").display());
    let store = polder_store::open(&url).await.expect("store");
    let id = "vtaiwan-attack".to_owned();
    storage::import(&store, &fixture, Some(id.clone()), false)
        .await
        .expect("import");
    let admin = polder_server::auth::issue_api_key(store.as_ref(), Role::Admin, "attack")
        .await
        .expect("key");
    let config = ServerConfig {
        bind: "127.0.0.1:0".into(),
        database_url: url.clone(),
        workers: Some(2),
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

    // Before: the real conversation raises nothing.
    let (status, before) = send(
        &client,
        "GET",
        format!("{base}/report/integrity"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        before["suspects"], 0,
        "real participants flagged: {}",
        before["clusters"]
    );
    let real_participants = before["with_suspects"]["n_participants"]
        .as_u64()
        .expect("n");
    assert!(real_participants > 1_000);

    // The attack: the 30 statements with the most votes, agree with the
    // first half and disagree with the rest.
    let (_, statements) = send(
        &client,
        "GET",
        format!("{base}/report/statements"),
        "",
        None,
    )
    .await;
    let mut ranked: Vec<(u64, u64)> = statements
        .as_array()
        .expect("statements")
        .iter()
        .filter(|s| s["moderated_out"] == false)
        .map(|s| {
            (
                s["votes"]["seen"].as_u64().unwrap(),
                s["id"].as_u64().unwrap(),
            )
        })
        .collect();
    ranked.sort_unstable_by(|a, b| b.cmp(a));
    let agenda: Vec<Value> = ranked
        .iter()
        .take(VOTES_EACH)
        .enumerate()
        .map(|(i, &(_, tid))| {
            json!({ "statement_id": tid, "vote": if i < VOTES_EACH / 2 { "agree" } else { "disagree" } })
        })
        .collect();
    assert_eq!(agenda.len(), VOTES_EACH);
    let mut puppets = Vec::new();
    for _ in 0..PUPPETS {
        let (_, challenge) = send(&client, "GET", format!("{base}/join-challenge"), "", None).await;
        let text = challenge["challenge"]
            .as_str()
            .expect("challenge")
            .to_owned();
        let bits = challenge["difficulty"].as_u64().expect("bits") as u8;
        let nonce = polder_server::pow::solve(&text, bits);
        let (status, joined) = send(
            &client,
            "POST",
            format!("{base}/participants"),
            "",
            Some(json!({ "pow": { "challenge": text, "nonce": nonce } })),
        )
        .await;
        assert_eq!(status, 201, "{joined}");
        let token = joined["token"].as_str().expect("token").to_owned();
        let (status, ack) = send(
            &client,
            "POST",
            format!("{base}/votes/batch"),
            &token,
            Some(json!({ "votes": agenda })),
        )
        .await;
        assert_eq!(status, 200, "{ack}");
        puppets.push(joined["participant_id"].as_u64().expect("pid"));
    }

    let (status, after) = send(
        &client,
        "GET",
        format!("{base}/report/integrity"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{after}");
    let flagged: Vec<u64> = after["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .flat_map(|c| c["participants"].as_array().expect("members").clone())
        .map(|p| p.as_u64().expect("pid"))
        .collect();
    puppets.sort_unstable();
    let mut sorted = flagged.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, puppets, "exactly the puppets are flagged");
    assert_eq!(after["clusters"][0]["burst"], true);
    assert_eq!(after["clusters"][0]["votes_each"], VOTES_EACH);
    assert_eq!(
        after["with_suspects"]["n_participants"].as_u64().unwrap(),
        real_participants + PUPPETS as u64
    );
    // Without them, the report is the report of the real votes.
    assert_eq!(
        after["without_suspects"]["groups"], before["with_suspects"]["groups"],
        "the groups without suspects are the groups before the attack"
    );
    assert_eq!(
        after["without_suspects"]["n_participants"]
            .as_u64()
            .unwrap(),
        real_participants
    );
    // The puppets are a group of their own in the report computed with them.
    assert!(
        after["suspects_by_group"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["suspects"] == g["size"] && g["size"].as_u64() >= Some(190)),
        "{}",
        after["suspects_by_group"]
    );
    // What the attack did to the picture, for the record.
    eprintln!(
        "groups before/with puppets: {} / {}; suspects per group: {}; ARI without vs with: {}",
        before["with_suspects"]["n_groups"],
        after["with_suspects"]["n_groups"],
        after["suspects_by_group"],
        after["agreement"]["ari"],
    );
    handle.stop(true).await;
    state.shutdown.trigger();
}

#[actix_web::test]
async fn no_real_opendata_conversation_raises_a_flag() {
    use polder_core::integrity::{IntegrityConfig, identical_vote_clusters};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/opendata");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("real.db").display());
    let store = polder_store::open(&url).await.expect("store");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).expect("opendata") {
        let path = entry.expect("entry").path();
        if !path.join("votes.csv").exists() {
            continue;
        }
        let id = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace('.', "-");
        storage::import(&store, &path, Some(id.clone()), false)
            .await
            .expect("import");
        let matrix = store.load_matrix(&id, None).await.expect("matrix").matrix;
        let found = identical_vote_clusters(&matrix, &|_| None, &IntegrityConfig::default());
        assert!(found.is_empty(), "{}: {found:?}", path.display());
        checked += 1;
    }
    assert_eq!(checked, 5);
}
