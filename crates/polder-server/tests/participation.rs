//! Participation integrity over real HTTP: the proof of work on join and its
//! flood rule, the per-token rate limit, per-cohort reports and the
//! suspicious-voting report.

mod common;

use common::{TestServer, database_urls, server, unique};
use polder_core::{StatementId, Vote};
use polder_store::{Cohort, NewParticipant, NewVote};
use serde_json::json;

async fn join_with(s: &TestServer, id: &str, pow: serde_json::Value) -> common::Reply {
    s.json(
        "POST",
        &format!("/api/v1/conversations/{id}/participants"),
        None,
        json!({ "pow": pow }),
    )
    .await
}

#[actix_web::test]
async fn joining_takes_a_solved_unused_challenge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = &database_urls(dir.path())[0];
    let s = server(url, |_| {}).await;
    let id = unique("pow");
    s.create(&id, json!({})).await;

    let bare = s
        .call(
            "POST",
            &format!("/api/v1/conversations/{id}/participants"),
            None,
            None,
        )
        .await;
    assert_eq!(bare.status, 403, "{}", bare.text);
    assert_eq!(bare.body["code"], "proof_of_work_failed");
    assert_eq!(bare.body["field"], "pow");

    let solved = s.solved_pow(&id).await;
    let challenge = solved["challenge"].as_str().expect("challenge").to_owned();
    // The default difficulty is in force: 12 bits.
    let hash = polder_server::pow::solution_hash(&challenge, solved["nonce"].as_str().unwrap());
    assert!(polder_server::pow::leading_zero_bits(&hash) >= 12);
    let unsolved = (0u64..)
        .map(|n| n.to_string())
        .find(|n| {
            polder_server::pow::leading_zero_bits(&polder_server::pow::solution_hash(&challenge, n))
                < 12
        })
        .expect("some nonce fails");
    let wrong = join_with(
        &s,
        &id,
        json!({ "challenge": challenge, "nonce": unsolved }),
    )
    .await;
    assert_eq!(wrong.status, 403, "{}", wrong.text);
    assert!(
        wrong.body["detail"]
            .as_str()
            .unwrap()
            .contains("does not solve")
    );

    let first = join_with(&s, &id, solved.clone()).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let replay = join_with(&s, &id, solved).await;
    assert_eq!(replay.status, 403, "{}", replay.text);
    assert!(
        replay.body["detail"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );

    // A challenge of another conversation does not open this one.
    let other = unique("pow-other");
    s.create(&other, json!({})).await;
    let foreign = s.solved_pow(&other).await;
    let crossed = join_with(&s, &id, foreign).await;
    assert_eq!(crossed.status, 403, "{}", crossed.text);
    assert_eq!(s.store.list_participants(&id).await.unwrap().len(), 1);
    s.stop().await;
}

#[actix_web::test]
async fn a_join_flood_raises_the_difficulty_up_to_the_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = &database_urls(dir.path())[0];
    let s = server(url, |c| {
        c.join_pow_bits = 2;
        c.join_pow_max_bits = 7;
        c.join_flood_per_minute = 5;
    })
    .await;
    let id = unique("flood");
    s.create(&id, json!({})).await;
    let mut seen = Vec::new();
    // 120 joins in a few seconds: 24 times the flood threshold.
    for _ in 0..120 {
        let pow = s.solved_pow(&id).await;
        let challenge = pow["challenge"].as_str().unwrap();
        let bits = challenge
            .split('.')
            .nth_back(2)
            .unwrap()
            .parse::<u8>()
            .unwrap();
        seen.push(bits);
        let joined = join_with(&s, &id, pow).await;
        assert_eq!(joined.status, 201, "{}", joined.text);
    }
    assert_eq!(seen[0], 2, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    // 5 joins → 3 bits, 10 → 4, 20 → 5, 40 → 6, 80 → 7, then bounded.
    assert_eq!(seen[5], 3, "{seen:?}");
    assert_eq!(seen[80], 7, "{seen:?}");
    assert_eq!(*seen.last().unwrap(), 7, "{seen:?}");
    // Another conversation is not slowed down.
    let calm = unique("calm");
    s.create(&calm, json!({})).await;
    let c = s
        .call(
            "GET",
            &format!("/api/v1/conversations/{calm}/join-challenge"),
            None,
            None,
        )
        .await;
    assert_eq!(c.body["difficulty"], 2);
    s.stop().await;
}

#[actix_web::test]
async fn a_participant_token_is_rate_limited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = &database_urls(dir.path())[0];
    let s = server(url, |c| c.participant_rate_per_minute = 5).await;
    let id = unique("rate");
    let key = s.create(&id, json!({})).await;
    let tid = s.statement(&id, &key, "A statement").await;
    let (_, token) = s.join(&id).await;
    let (_, other) = s.join(&id).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(s.vote(&id, &token, tid, "agree").await.status);
    }
    assert!(
        statuses[..5].iter().all(|&st| st == 200 || st == 201),
        "{statuses:?}"
    );
    let limited = s.vote(&id, &token, tid, "agree").await;
    assert_eq!(limited.status, 429, "{statuses:?}");
    assert_eq!(limited.body["code"], "rate_limited");
    // Another participant is unaffected.
    let fine = s.vote(&id, &other, tid, "agree").await;
    assert!(fine.status < 300, "{}", fine.text);
    s.stop().await;
}

/// `n` participants of `cohort`, in two camps over statements `0..8`; with
/// `flip`, everyone agrees with statement 0; with `noise`, everyone departs
/// from their camp on one or two statements (a different pattern for each
/// tenth of them), as real people do.
async fn seed_camps(s: &TestServer, id: &str, cohort: Cohort, n: u32, flip: bool, noise: bool) {
    let mut votes = Vec::new();
    for i in 0..n {
        let p = s
            .store
            .add_participant(id, NewParticipant { xid: None, cohort })
            .await
            .expect("participant");
        for t in 0..8u32 {
            let departs = noise && (7 * i + 13 * t) % 5 == 0;
            let agree = ((i % 2 == 0) == (t < 4)) != departs || (flip && t == 0);
            votes.push(NewVote {
                participant: p.id,
                statement: StatementId(t),
                vote: if agree { Vote::Agree } else { Vote::Disagree },
                client_key: None,
            });
        }
    }
    s.store.cast_votes(id, votes).await.expect("votes");
}

#[actix_web::test]
async fn panel_public_and_all_reports_differ_where_the_data_differ() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in database_urls(dir.path()) {
        let s = server(&url, |_| {}).await;
        let id = unique("cohorts");
        let key = s.create(&id, json!({ "participation": "both" })).await;
        for t in 0..8 {
            s.statement(&id, &key, &format!("Statement {t}")).await;
        }
        seed_camps(&s, &id, Cohort::Panel, 40, false, false).await;
        seed_camps(&s, &id, Cohort::Open, 60, true, false).await;
        let reply = s
            .call(
                "GET",
                &format!("/api/v1/conversations/{id}/report/cohorts"),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let b = &reply.body;
        assert_eq!(b["all"]["n_participants"], 100);
        assert_eq!(b["panel"]["n_participants"], 40);
        assert_eq!(b["open"]["n_participants"], 60);
        assert_eq!(b["panel"]["n_groups"], 2, "{}", b["panel"]);
        assert_eq!(b["open"]["n_groups"], 2, "{}", b["open"]);
        // Statement 0 is where the two populations part ways.
        let top = &b["panel_vs_open"]["statement_differences"][0];
        assert_eq!(top["statement_id"], 0, "{}", b["panel_vs_open"]);
        assert!(top["agree_difference"].as_f64().unwrap() < -0.4, "{top}");
        // Every other statement is answered alike.
        for d in b["panel_vs_open"]["statement_differences"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
        {
            assert!(d["agree_difference"].as_f64().unwrap().abs() < 0.01, "{d}");
        }
        assert_eq!(b["panel_vs_all"]["shared"], 40);
        // The cohorts' own reports differ on statement 0 and agree elsewhere.
        let agree_share = |r: &serde_json::Value, t: usize| {
            let v = &r["statements"][t]["votes"];
            v["agree"].as_f64().unwrap() / v["seen"].as_f64().unwrap()
        };
        let panel = s
            .call(
                "GET",
                &format!("/api/v1/conversations/{id}/report/cohorts/panel"),
                None,
                None,
            )
            .await;
        let open = s
            .call(
                "GET",
                &format!("/api/v1/conversations/{id}/report/cohorts/open"),
                None,
                None,
            )
            .await;
        assert_eq!(panel.status, 200, "{}", panel.text);
        assert_eq!(panel.body["meta"]["n_participants"], 40);
        assert_eq!(open.body["meta"]["n_participants"], 60);
        assert!((agree_share(&panel.body, 0) - 0.5).abs() < 1e-9);
        assert!((agree_share(&open.body, 0) - 1.0).abs() < 1e-9);
        assert!((agree_share(&panel.body, 3) - agree_share(&open.body, 3)).abs() < 1e-9);
        let bad = s
            .call(
                "GET",
                &format!("/api/v1/conversations/{id}/report/cohorts/vip"),
                None,
                None,
            )
            .await;
        assert_eq!(bad.status, 400);
        assert_eq!(bad.body["field"], "cohort");
        // A new panel vote shows up (the cache follows the data).
        let before = b["panel"]["n_participants"].clone();
        seed_camps(&s, &id, Cohort::Panel, 2, false, false).await;
        let again = s
            .call(
                "GET",
                &format!("/api/v1/conversations/{id}/report/cohorts"),
                None,
                None,
            )
            .await;
        assert_eq!(before, 40);
        assert_eq!(again.body["panel"]["n_participants"], 42);
        s.stop().await;
    }
}

#[actix_web::test]
async fn copied_vote_vectors_are_flagged_and_compared_without() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = &database_urls(dir.path())[0];
    let s = server(url, |_| {}).await;
    let id = unique("integrity");
    let key = s.create(&id, json!({})).await;
    for t in 0..8 {
        s.statement(&id, &key, &format!("Statement {t}")).await;
    }
    seed_camps(&s, &id, Cohort::Open, 60, false, true).await;
    let path = format!("/api/v1/conversations/{id}/report/integrity");
    let clean = s.call("GET", &path, Some(&key), None).await;
    assert_eq!(clean.status, 200, "{}", clean.text);
    // Like-minded people share vectors too, but never ten of them here.
    assert_eq!(clean.body["suspects"], 0, "{}", clean.body["clusters"]);

    // 40 accounts agreeing with everything, joined in one burst.
    let mut votes = Vec::new();
    let mut puppets = Vec::new();
    for _ in 0..40 {
        let p = s
            .store
            .add_participant(&id, NewParticipant::default())
            .await
            .unwrap();
        puppets.push(p.id.0);
        for t in 0..8 {
            votes.push(NewVote {
                participant: p.id,
                statement: StatementId(t),
                vote: Vote::Agree,
                client_key: None,
            });
        }
    }
    s.store.cast_votes(&id, votes).await.unwrap();
    let flagged = s.call("GET", &path, Some(&key), None).await;
    let b = &flagged.body;
    assert_eq!(b["suspects"], 40, "{}", b["clusters"]);
    assert_eq!(b["clusters"][0]["burst"], true);
    let ids: Vec<u32> = b["clusters"][0]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    assert_eq!(ids, puppets);
    assert_eq!(b["with_suspects"]["n_participants"], 100);
    assert_eq!(b["without_suspects"]["n_participants"], 60);
    assert_eq!(b["without_suspects"]["n_groups"], 2);
    // Without the puppets, the real participants are grouped as before.
    assert_eq!(b["agreement"]["shared"].as_u64().unwrap(), 60);
    let sum: u64 = b["suspects_by_group"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["suspects"].as_u64().unwrap())
        .sum::<u64>()
        + b["suspects_unclustered"].as_u64().unwrap();
    assert_eq!(sum, 40);

    // Moderators only; and a stricter setting reports nothing.
    let anonymous = s.call("GET", &path, None, None).await;
    assert_eq!(anonymous.status, 401);
    let strict = s
        .call("GET", &format!("{path}?min_accounts=41"), Some(&key), None)
        .await;
    assert_eq!(strict.body["suspects"], 0);
    s.stop().await;
}

#[actix_web::test]
async fn a_remove_erasure_on_one_node_reaches_the_reports_of_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    for url in database_urls(dir.path()) {
        let a = server(&url, |c| c.poll_interval_ms = 100).await;
        let b = server(&url, |c| c.poll_interval_ms = 100).await;
        let id = unique("nodes");
        let key = a.create(&id, json!({ "erasure": "remove" })).await;
        for t in 0..8 {
            a.statement(&id, &key, &format!("Statement {t}")).await;
        }
        seed_camps(&a, &id, Cohort::Open, 20, false, false).await;
        let (_, token) = a.join(&id).await;
        for t in 0..8 {
            a.vote(&id, &token, t, "agree").await;
        }
        let last = a.store.last_seq(&id).await.unwrap();
        let n = |r: &serde_json::Value| r["meta"]["n_participants"].as_u64();
        // Node B has seen all 21 participants.
        assert_eq!(n(&b.wait_for_report(&id, last).await), Some(21));
        let erased = a
            .call(
                "DELETE",
                &format!("/api/v1/conversations/{id}/participants/me"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(erased.body["votes_removed"], 8, "{}", erased.text);
        // No vote follows the erasure, yet node B's report must drop them.
        let mut seen = None;
        for _ in 0..200 {
            let r = b
                .call(
                    "GET",
                    &format!("/api/v1/conversations/{id}/report"),
                    None,
                    None,
                )
                .await;
            seen = n(&r.body);
            if seen == Some(20) {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            seen,
            Some(20),
            "{url}: node B still counts the erased participant"
        );
        a.stop().await;
        b.stop().await;
    }
}
