//! The store contract: every test here runs unchanged against SQLite and
//! PostgreSQL (see the `contract!` macro at the bottom).
#![allow(clippy::unwrap_used)]

mod common;

use common::TestDb;
use polder_core::{Moderation, ParticipantId, StatementId, Vote, VoteMatrix};
use polder_store::*;
use std::sync::Arc;

async fn conversation(store: &Arc<dyn Store>) -> Conversation {
    store
        .create_conversation(NewConversation {
            topic: "Harbour".into(),
            ..Default::default()
        })
        .await
        .unwrap()
}

fn statement(text: &str) -> NewStatement {
    NewStatement {
        text: text.into(),
        ..Default::default()
    }
}

fn vote(p: ParticipantId, s: StatementId, v: Vote) -> NewVote {
    NewVote {
        participant: p,
        statement: s,
        vote: v,
        client_key: None,
    }
}

/// A conversation with `n_p` participants and `n_s` statements.
async fn populated(
    store: &Arc<dyn Store>,
    n_p: usize,
    n_s: usize,
) -> (String, Vec<ParticipantId>, Vec<StatementId>) {
    let c = conversation(store).await;
    let mut ps = Vec::new();
    for _ in 0..n_p {
        ps.push(
            store
                .add_participant(&c.id, NewParticipant::default())
                .await
                .unwrap()
                .id,
        );
    }
    let mut ss = Vec::new();
    for i in 0..n_s {
        ss.push(
            store
                .add_statement(&c.id, statement(&format!("Statement {i}")))
                .await
                .unwrap()
                .id,
        );
    }
    (c.id, ps, ss)
}

async fn conversations_are_created_read_updated_and_closed(db: TestDb) {
    let store = db.open().await;
    let named = store
        .create_conversation(NewConversation {
            id: Some(format!("harbour-{}", validate::generate_conversation_id())),
            topic: "Harbour".into(),
            description: "Where should the ferry go?".into(),
            settings: Settings {
                strict_moderation: true,
                languages: vec!["nl".into(), "en".into()],
                participation: Participation::Both,
                retention_days: Some(30),
                ..Default::default()
            },
        })
        .await
        .unwrap();
    let got = store.get_conversation(&named.id).await.unwrap().unwrap();
    assert_eq!(got, named);
    assert_eq!(got.settings.participation, Participation::Both);
    assert!(got.settings.strict_moderation);
    assert_eq!((got.vote_count, got.last_seq, got.closed), (0, 0, false));

    let again = store
        .create_conversation(NewConversation {
            id: Some(named.id.clone()),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(again, Err(StoreError::ConversationExists(_))),
        "{again:?}"
    );
    let bad = store
        .create_conversation(NewConversation {
            id: Some("Not A Slug".into()),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(bad, Err(StoreError::InvalidConversationId { .. })),
        "{bad:?}"
    );

    let generated = conversation(&store).await;
    assert!(validate::conversation_id(&generated.id).is_ok());
    assert_ne!(generated.id, named.id);

    let patched = store
        .update_conversation(
            &named.id,
            ConversationPatch {
                topic: Some("The harbour".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.topic, "The harbour");
    assert_eq!(patched.description, named.description);
    assert_eq!(
        store
            .get_conversation(&named.id)
            .await
            .unwrap()
            .unwrap()
            .topic,
        "The harbour"
    );

    let ids: Vec<String> = store
        .list_conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(ids.contains(&named.id) && ids.contains(&generated.id));

    assert!(store.set_closed(&named.id, true).await.unwrap().closed);
    let refused = store.add_statement(&named.id, statement("Late")).await;
    assert!(
        matches!(refused, Err(StoreError::ConversationClosed(_))),
        "{refused:?}"
    );
    assert!(!store.set_closed(&named.id, false).await.unwrap().closed);

    assert!(
        store
            .get_conversation("no-such-thing")
            .await
            .unwrap()
            .is_none()
    );
    let missing = store.set_closed("no-such-thing", true).await;
    assert!(
        matches!(missing, Err(StoreError::ConversationNotFound(_))),
        "{missing:?}"
    );
}

async fn statements_get_dense_ids_and_are_validated(db: TestDb) {
    let store = db.open().await;
    let c = conversation(&store).await;
    let author = store
        .add_participant(&c.id, NewParticipant::default())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let s = store
            .add_statement(
                &c.id,
                NewStatement {
                    text: format!("Statement {i}"),
                    lang: Some("en".into()),
                    author: Some(author.id),
                    is_seed: i == 0,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        ids.push(s.id.0);
        assert_eq!(s.author, Some(author.id));
        assert_eq!(s.moderation, Moderation::Unmoderated);
    }
    assert_eq!(ids, [0, 1, 2]);

    let empty = store.add_statement(&c.id, statement("   ")).await;
    assert!(
        matches!(empty, Err(StoreError::InvalidStatement { .. })),
        "{empty:?}"
    );
    let long = store
        .add_statement(&c.id, statement(&"é".repeat(MAX_STATEMENT_CHARS + 1)))
        .await;
    assert!(
        matches!(long, Err(StoreError::InvalidStatement { .. })),
        "{long:?}"
    );
    assert!(
        store
            .add_statement(&c.id, statement(&"é".repeat(MAX_STATEMENT_CHARS)))
            .await
            .is_ok()
    );
    let ghost = store
        .add_statement(
            &c.id,
            NewStatement {
                text: "By nobody".into(),
                author: Some(ParticipantId(99)),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(ghost, Err(StoreError::ParticipantNotFound { .. })),
        "{ghost:?}"
    );

    let listed = store.list_statements(&c.id).await.unwrap();
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[0].text, "Statement 0");
    assert!(listed[0].is_seed && !listed[1].is_seed);
    assert_eq!(
        listed[3].id,
        StatementId(3),
        "failed adds must not use up ids"
    );

    let moderated = store
        .moderate_statement(
            &c.id,
            StatementId(1),
            ModerationAction {
                actor: "moderator-anna".into(),
                state: Moderation::Rejected,
                is_meta: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(moderated.moderation, Moderation::Rejected);
    store
        .moderate_statement(
            &c.id,
            StatementId(2),
            ModerationAction {
                actor: "moderator-bo".into(),
                state: Moderation::Accepted,
                is_meta: Some(true),
            },
        )
        .await
        .unwrap();
    let log = store.moderation_log(&c.id).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].actor.as_str(), log[0].statement, log[0].state),
        ("moderator-anna", StatementId(1), Moderation::Rejected)
    );
    assert_eq!(
        (log[1].is_meta, log[1].state),
        (Some(true), Moderation::Accepted)
    );
    assert!(log[0].id < log[1].id);
    let unknown = store
        .moderate_statement(
            &c.id,
            StatementId(42),
            ModerationAction {
                actor: "x".into(),
                state: Moderation::Accepted,
                is_meta: None,
            },
        )
        .await;
    assert!(
        matches!(unknown, Err(StoreError::StatementNotFound { .. })),
        "{unknown:?}"
    );

    let catalog = store.statement_catalog(&c.id).await.unwrap();
    assert!(catalog.get(StatementId(1)).is_moderated_out());
    assert!(catalog.get(StatementId(2)).is_meta);
    assert_eq!(catalog.len(), 4);
}

async fn participants_get_dense_ids_and_xids_are_get_or_create(db: TestDb) {
    let store = db.open().await;
    let c = conversation(&store).await;
    let a = store
        .add_participant(&c.id, NewParticipant::default())
        .await
        .unwrap();
    let b = store
        .add_participant(
            &c.id,
            NewParticipant {
                xid: Some("site-user-7".into()),
                cohort: Cohort::Panel,
            },
        )
        .await
        .unwrap();
    assert_eq!((a.id.0, b.id.0), (0, 1));
    assert_eq!(b.cohort, Cohort::Panel);
    let again = store
        .add_participant(
            &c.id,
            NewParticipant {
                xid: Some("site-user-7".into()),
                cohort: Cohort::Open,
            },
        )
        .await
        .unwrap();
    assert_eq!(again, b);
    assert_eq!(
        store
            .find_participant_by_xid(&c.id, "site-user-7")
            .await
            .unwrap(),
        Some(b.clone())
    );
    assert_eq!(
        store
            .find_participant_by_xid(&c.id, "nobody")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_participant(&c.id, a.id).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store
            .get_participant(&c.id, ParticipantId(9))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.list_participants(&c.id).await.unwrap(), vec![a, b]);
    let other = conversation(&store).await;
    assert_eq!(
        store
            .add_participant(&other.id, NewParticipant::default())
            .await
            .unwrap()
            .id,
        ParticipantId(0),
        "ids are per conversation"
    );
}

async fn votes_keep_history_and_the_current_vote(db: TestDb) {
    let store = db.open().await;
    let (c, ps, ss) = populated(&store, 3, 3).await;
    let receipts = store
        .cast_votes(
            &c,
            vec![
                vote(ps[0], ss[0], Vote::Agree),
                vote(ps[0], ss[1], Vote::Pass),
                vote(ps[1], ss[0], Vote::Disagree),
            ],
        )
        .await
        .unwrap();
    let seqs: Vec<u64> = receipts.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert!(receipts.iter().all(|r| !r.duplicate));
    // A change of mind: history grows, the current vote changes.
    let changed = store
        .cast_votes(&c, vec![vote(ps[0], ss[0], Vote::Disagree)])
        .await
        .unwrap();
    assert_eq!(changed[0].seq, 4);
    assert_eq!(store.vote_count(&c).await.unwrap(), 4);
    assert_eq!(store.last_seq(&c).await.unwrap(), 4);

    let loaded = store.load_matrix(&c, None).await.unwrap();
    assert_eq!((loaded.n_votes, loaded.last_seq), (3, 4));
    assert_eq!(loaded.matrix.get(ps[0], ss[0]), Some(Vote::Disagree));
    assert_eq!(loaded.matrix.get(ps[0], ss[1]), Some(Vote::Pass));
    assert_eq!(loaded.matrix.get(ps[1], ss[0]), Some(Vote::Disagree));

    let history = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink_history = history.clone();
    let n = store
        .stream_history(
            &c,
            Box::new(move |v| {
                sink_history.lock().unwrap().push(v);
                Ok(())
            }),
        )
        .await
        .unwrap();
    let history = history.lock().unwrap().clone();
    assert_eq!(n, 4);
    assert_eq!(
        history.iter().map(|v| v.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(
        (history[0].vote, history[3].vote),
        (Vote::Agree, Vote::Disagree)
    );

    let export = store.participant_data(&c, ps[0]).await.unwrap();
    assert_eq!(export.votes.len(), 3);
}

async fn bad_votes_are_refused_and_store_nothing(db: TestDb) {
    let store = db.open().await;
    let (c, ps, ss) = populated(&store, 2, 3).await;
    store
        .moderate_statement(
            &c,
            ss[2],
            ModerationAction {
                actor: "m".into(),
                state: Moderation::Rejected,
                is_meta: None,
            },
        )
        .await
        .unwrap();
    let good = vote(ps[0], ss[0], Vote::Agree);
    type Expect = fn(&StoreError) -> bool;
    let cases: Vec<(NewVote, Expect)> = vec![
        (vote(ParticipantId(77), ss[0], Vote::Agree), |e| {
            matches!(e, StoreError::ParticipantNotFound { .. })
        }),
        (vote(ps[0], StatementId(77), Vote::Agree), |e| {
            matches!(e, StoreError::StatementNotFound { .. })
        }),
        (vote(ps[0], ss[2], Vote::Agree), |e| {
            matches!(e, StoreError::StatementModeratedOut { .. })
        }),
    ];
    for (bad, expected) in cases {
        let err = store
            .cast_votes(&c, vec![good.clone(), bad])
            .await
            .unwrap_err();
        assert!(expected(&err), "{err:?}");
    }
    assert_eq!(
        store.vote_count(&c).await.unwrap(),
        0,
        "a failed call stores none of its votes"
    );
    assert_eq!(store.load_matrix(&c, None).await.unwrap().n_votes, 0);
    let unknown = store
        .cast_votes("no-such-conversation", vec![good.clone()])
        .await;
    assert!(
        matches!(unknown, Err(StoreError::ConversationNotFound(_))),
        "{unknown:?}"
    );
    store.set_closed(&c, true).await.unwrap();
    let closed = store.cast_votes(&c, vec![good.clone()]).await;
    assert!(
        matches!(closed, Err(StoreError::ConversationClosed(_))),
        "{closed:?}"
    );
    store.set_closed(&c, false).await.unwrap();
    // The failures used no sequence numbers.
    assert_eq!(store.cast_votes(&c, vec![good]).await.unwrap()[0].seq, 1);
}

async fn client_keys_make_votes_idempotent(db: TestDb) {
    let store = db.open().await;
    let (c, ps, ss) = populated(&store, 2, 2).await;
    let keyed = |p: usize, s: usize, v: Vote, key: &str| NewVote {
        participant: ps[p],
        statement: ss[s],
        vote: v,
        client_key: Some(key.into()),
    };
    let first = store
        .cast_votes(&c, vec![keyed(0, 0, Vote::Agree, "k1")])
        .await
        .unwrap();
    let retry = store
        .cast_votes(
            &c,
            vec![
                keyed(0, 0, Vote::Agree, "k1"),
                keyed(0, 1, Vote::Pass, "k2"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        first[0],
        VoteReceipt {
            seq: 1,
            duplicate: false
        }
    );
    assert_eq!(
        retry[0],
        VoteReceipt {
            seq: 1,
            duplicate: true
        }
    );
    assert_eq!(
        retry[1],
        VoteReceipt {
            seq: 2,
            duplicate: false
        }
    );
    // The same key from another participant is another vote.
    let other = store
        .cast_votes(&c, vec![keyed(1, 0, Vote::Agree, "k1")])
        .await
        .unwrap();
    assert_eq!(
        other[0],
        VoteReceipt {
            seq: 3,
            duplicate: false
        }
    );
    assert_eq!(store.vote_count(&c).await.unwrap(), 3);
}

async fn incremental_loads_merge_to_the_full_matrix(db: TestDb) {
    let store = db.open().await;
    let (c, ps, ss) = populated(&store, 6, 5).await;
    let mut batch = Vec::new();
    for (i, &p) in ps.iter().enumerate() {
        for (j, &s) in ss.iter().enumerate() {
            if (i + j) % 3 != 0 {
                batch.push(vote(
                    p,
                    s,
                    if (i * j) % 2 == 0 {
                        Vote::Agree
                    } else {
                        Vote::Disagree
                    },
                ));
            }
        }
    }
    store.cast_votes(&c, batch).await.unwrap();
    let first = store.load_matrix(&c, None).await.unwrap();
    store
        .cast_votes(
            &c,
            vec![
                vote(ps[0], ss[1], Vote::Pass),
                vote(ps[5], ss[4], Vote::Agree),
                vote(ps[2], ss[0], Vote::Disagree),
            ],
        )
        .await
        .unwrap();
    let newer = store.load_matrix(&c, Some(first.last_seq)).await.unwrap();
    assert_eq!(newer.n_votes, 3, "only cells changed after the first load");
    assert_eq!(newer.last_seq, first.last_seq + 3);
    let full = store.load_matrix(&c, None).await.unwrap();
    assert_eq!(first.matrix.merge(&newer.matrix), full.matrix);
    let nothing = store.load_matrix(&c, Some(full.last_seq)).await.unwrap();
    assert_eq!(nothing.n_votes, 0);
}

async fn concurrent_writers_get_distinct_gapless_seqs(db: TestDb) {
    let store = db.open().await;
    let (c, ps, ss) = populated(&store, 16, 8).await;
    let mut tasks = Vec::new();
    for (i, &p) in ps.iter().enumerate() {
        let store = store.clone();
        let c = c.clone();
        let ss = ss.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for (j, &s) in ss.iter().enumerate() {
                let v = if (i + j) % 2 == 0 {
                    Vote::Agree
                } else {
                    Vote::Disagree
                };
                seqs.push(store.cast_votes(&c, vec![vote(p, s, v)]).await.unwrap()[0].seq);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=(16 * 8) as u64).collect::<Vec<_>>());
    let loaded = store.load_matrix(&c, None).await.unwrap();
    assert_eq!((loaded.n_votes, loaded.last_seq), (128, 128));
}

async fn snapshots_answer_what_was_known_when(db: TestDb) {
    let store = db.open().await;
    let c = conversation(&store).await;
    assert!(store.snapshot_at(&c.id, None).await.unwrap().is_none());
    for (t, n) in [(100, 10u64), (300, 30), (200, 20)] {
        let meta = store
            .save_snapshot(
                &c.id,
                NewSnapshot {
                    math_version: "0.1.0".into(),
                    format: "report-v1".into(),
                    vote_count: n,
                    last_seq: n,
                    computed_ms: t,
                    report_json: format!("{{\"votes\":{n}}}"),
                },
            )
            .await
            .unwrap();
        assert_eq!(meta.computed_ms, t);
    }
    let list = store.list_snapshots(&c.id).await.unwrap();
    assert_eq!(
        list.iter().map(|m| m.computed_ms).collect::<Vec<_>>(),
        [100, 200, 300]
    );
    let at = store.snapshot_at(&c.id, Some(250)).await.unwrap().unwrap();
    assert_eq!(
        (at.meta.vote_count, at.report_json.as_str()),
        (20, "{\"votes\":20}")
    );
    assert_eq!(
        store
            .snapshot_at(&c.id, None)
            .await
            .unwrap()
            .unwrap()
            .meta
            .vote_count,
        30
    );
    assert_eq!(
        store
            .snapshot_at(&c.id, Some(200))
            .await
            .unwrap()
            .unwrap()
            .meta
            .vote_count,
        20
    );
    assert!(store.snapshot_at(&c.id, Some(99)).await.unwrap().is_none());
}

async fn keys_and_secrets(db: TestDb) {
    let store = db.open().await;
    let hash = validate::generate_conversation_id().repeat(6)[..64].to_string();
    let hash = hash
        .bytes()
        .map(|b| {
            if b.is_ascii_hexdigit() {
                b as char
            } else {
                'a'
            }
        })
        .collect::<String>();
    assert!(store.find_key(&hash).await.unwrap().is_none());
    let record = KeyRecord {
        hash: hash.clone(),
        role: Role::Moderator {
            conversation: "harbour".into(),
        },
        label: "moderation desk".into(),
        created_ms: 5,
    };
    store.put_key(record.clone()).await.unwrap();
    assert_eq!(store.find_key(&hash).await.unwrap(), Some(record));
    assert!(store.revoke_key(&hash).await.unwrap());
    assert!(!store.revoke_key(&hash).await.unwrap());
    assert!(store.find_key(&hash).await.unwrap().is_none());
    let bad = store.find_key("not-hex").await;
    assert!(matches!(bad, Err(StoreError::InvalidKeyHash(_))), "{bad:?}");

    let name = format!("token-signing-{}", validate::generate_conversation_id());
    let first = store.secret(&name).await.unwrap();
    assert_eq!(first.len(), 32);
    let second = store
        .get_or_create_secret(&name, Box::new(|| vec![1, 2, 3]))
        .await
        .unwrap();
    assert_eq!(first, second, "a secret is made once");
    assert_ne!(store.secret(&format!("{name}-other")).await.unwrap(), first);
}

async fn erasure_follows_the_policy(db: TestDb) {
    let store = db.open().await;
    let c = conversation(&store).await;
    let mk = |xid: &str| NewParticipant {
        xid: Some(xid.into()),
        cohort: Cohort::Open,
    };
    let anna = store.add_participant(&c.id, mk("anna")).await.unwrap().id;
    let bo = store.add_participant(&c.id, mk("bo")).await.unwrap().id;
    let s = store
        .add_statement(
            &c.id,
            NewStatement {
                text: "Anna's idea".into(),
                author: Some(anna),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let t = store
        .add_statement(&c.id, statement("Bo's idea"))
        .await
        .unwrap()
        .id;
    store
        .cast_votes(
            &c.id,
            vec![
                vote(anna, s, Vote::Agree),
                vote(anna, t, Vote::Pass),
                vote(bo, s, Vote::Disagree),
                vote(anna, t, Vote::Agree),
            ],
        )
        .await
        .unwrap();

    let data = store.participant_data(&c.id, anna).await.unwrap();
    assert_eq!(data.participant.xid.as_deref(), Some("anna"));
    assert_eq!(data.votes.len(), 3);
    assert_eq!(data.statements.len(), 1);

    let report = store
        .erase_participant(&c.id, anna, Erasure::Anonymise)
        .await
        .unwrap();
    assert_eq!(
        report,
        ErasureReport {
            policy: Erasure::Anonymise,
            votes_removed: 0,
            statements_unlinked: 1,
            xid_removed: true
        }
    );
    let p = store.get_participant(&c.id, anna).await.unwrap().unwrap();
    assert!(p.erased && p.xid.is_none());
    assert!(
        store
            .find_participant_by_xid(&c.id, "anna")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.list_statements(&c.id).await.unwrap()[0].author, None);
    assert_eq!(
        store.list_statements(&c.id).await.unwrap()[0].text,
        "Anna's idea"
    );
    assert_eq!(
        store.load_matrix(&c.id, None).await.unwrap().n_votes,
        3,
        "anonymised votes stay"
    );
    let again = store
        .cast_votes(&c.id, vec![vote(anna, s, Vote::Pass)])
        .await;
    assert!(
        matches!(again, Err(StoreError::ParticipantErased { .. })),
        "{again:?}"
    );

    let report = store
        .erase_participant(&c.id, bo, Erasure::Remove)
        .await
        .unwrap();
    assert_eq!((report.votes_removed, report.xid_removed), (1, true));
    assert!(store.get_participant(&c.id, bo).await.unwrap().is_none());
    let loaded = store.load_matrix(&c.id, None).await.unwrap();
    assert_eq!(loaded.n_votes, 2);
    assert_eq!(loaded.matrix.get(bo, s), None);
    assert_eq!(store.vote_count(&c.id).await.unwrap(), 3);
    let gone = store.participant_data(&c.id, bo).await;
    assert!(
        matches!(gone, Err(StoreError::ParticipantNotFound { .. })),
        "{gone:?}"
    );
}

async fn import_is_complete_or_nothing(db: TestDb) {
    let store = db.open().await;
    let dir = common::opendata("brexit-consensus");
    let id = format!("brexit-{}", validate::generate_conversation_id());
    let request = ImportRequest::from_dir(
        &dir,
        NewConversation {
            id: Some(id.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let files = polder_formats::read_conversation(&dir).unwrap();
    let reported = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = reported.clone();
    let c = store
        .import(
            request.clone(),
            Arc::new(move |n| seen.store(n, std::sync::atomic::Ordering::SeqCst)),
        )
        .await
        .unwrap();
    assert_eq!(c.id, id);
    assert_eq!(c.topic, "Can there be consensus on Brexit?");
    assert_eq!(c.vote_count, files.votes.len() as u64);
    assert_eq!(
        reported.load(std::sync::atomic::Ordering::SeqCst),
        files.votes.len() as u64
    );
    let loaded = store.load_matrix(&id, None).await.unwrap();
    assert_eq!(
        loaded.matrix,
        VoteMatrix::from_events(&files.votes).unwrap()
    );
    assert_eq!(
        store.list_statements(&id).await.unwrap().len(),
        files.statements.len()
    );
    // New ids continue after the imported ones.
    let next = store
        .add_statement(&id, statement("After the import"))
        .await
        .unwrap();
    assert_eq!(
        next.id.0,
        files.statements.iter().map(|s| s.id.0).max().unwrap() + 1
    );

    let mut again = request.clone();
    again.conversation.id = Some(format!("{id}-2"));
    let duplicate = store.import(again, Arc::new(|_| {})).await;
    assert!(
        matches!(duplicate, Err(StoreError::DuplicateImport { ref existing }) if *existing == id),
        "{duplicate:?}"
    );

    // A request that fails half-way (a participant twice) leaves no trace.
    let mut broken = request;
    broken.source = None;
    broken.conversation.id = Some(format!("{id}-3"));
    let twice = broken.participants[0];
    broken.participants.push(twice);
    assert!(store.import(broken, Arc::new(|_| {})).await.is_err());
    assert!(
        store
            .get_conversation(&format!("{id}-3"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn data_survives_reopening_and_newer_schemas_are_refused(db: TestDb) {
    let (c, ps, ss) = {
        let store = db.open().await;
        let populated = populated(&store, 2, 2).await;
        store
            .cast_votes(
                &populated.0,
                vec![vote(populated.1[0], populated.2[1], Vote::Agree)],
            )
            .await
            .unwrap();
        populated
    };
    let store = db.open().await;
    assert_eq!(
        store
            .load_matrix(&c, None)
            .await
            .unwrap()
            .matrix
            .get(ps[0], ss[1]),
        Some(Vote::Agree)
    );
    drop(store);
    db.exec("INSERT INTO schema_migrations (version, name, checksum, applied_ms) VALUES (999, 'from-the-future', 'x', 0)").await;
    match db.try_open().await {
        Err(StoreError::SchemaTooNew {
            found: 999,
            supported,
        }) => assert!(supported >= 1),
        Err(other) => panic!("expected SchemaTooNew, got {other:?}"),
        Ok(_) => panic!("expected SchemaTooNew, the store opened"),
    }
}

async fn retention_forgets_old_participant_links_and_keeps_votes(db: TestDb) {
    let store = db.open().await;
    let (c, ps, ss) = populated(&store, 0, 2).await;
    assert!(ps.is_empty());
    let joined = |xid: &'static str| {
        let store = store.clone();
        let c = c.clone();
        async move {
            store
                .add_participant(
                    &c,
                    NewParticipant {
                        xid: Some(xid.into()),
                        cohort: Cohort::Open,
                    },
                )
                .await
                .unwrap()
        }
    };
    let old = joined("site-user-old").await;
    // created_ms has millisecond resolution: make sure the two differ.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let new = joined("site-user-new").await;
    assert!(new.created_ms > old.created_ms);
    store
        .cast_votes(
            &c,
            vec![
                vote(old.id, ss[0], Vote::Agree),
                vote(new.id, ss[1], Vote::Disagree),
            ],
        )
        .await
        .unwrap();
    let other = conversation(&store).await;
    let elsewhere = store
        .add_participant(
            &other.id,
            NewParticipant {
                xid: Some("site-user-old".into()),
                cohort: Cohort::Open,
            },
        )
        .await
        .unwrap();

    let forgotten = store
        .forget_participant_links(&c, new.created_ms)
        .await
        .unwrap();
    assert_eq!(
        forgotten, 1,
        "only the participant who joined before the cutoff"
    );
    assert_eq!(
        store
            .find_participant_by_xid(&c, "site-user-old")
            .await
            .unwrap(),
        None
    );
    let kept = store.get_participant(&c, old.id).await.unwrap().unwrap();
    assert_eq!(kept.xid, None);
    assert!(!kept.erased, "the participant keeps their votes and pid");
    assert_eq!(
        store
            .find_participant_by_xid(&c, "site-user-new")
            .await
            .unwrap(),
        Some(new.clone())
    );
    assert_eq!(store.vote_count(&c).await.unwrap(), 2, "votes stay");
    assert_eq!(
        store
            .find_participant_by_xid(&other.id, "site-user-old")
            .await
            .unwrap(),
        Some(elsewhere),
        "other conversations are untouched"
    );
    let rejoined = joined("site-user-old").await;
    assert_ne!(rejoined.id, old.id, "a forgotten xid cannot be linked back");
    assert_eq!(
        store
            .forget_participant_links(&c, new.created_ms)
            .await
            .unwrap(),
        0,
        "applying the same cutoff twice changes nothing"
    );
}

/// A fake invite-code hash: the store only sees hex SHA-256 digests.
fn digest(label: &str) -> String {
    use sha2::Digest as _;
    validate::hex(&sha2::Sha256::digest(label.as_bytes()))
}

async fn invite_codes_redeem_exactly_once(db: TestDb) {
    let store = db.open().await;
    let c = conversation(&store).await.id;
    let other = conversation(&store).await.id;
    let (a, b, d) = (digest("code a"), digest("code b"), digest("code d"));
    assert_eq!(
        store.invite_counts(&c).await.unwrap(),
        InviteCounts { total: 0, used: 0 }
    );
    assert_eq!(
        store
            .create_invites(&c, vec![a.clone(), b.clone(), a.clone()])
            .await
            .unwrap(),
        2,
        "a hash twice in one batch is one invite"
    );
    assert_eq!(
        store
            .create_invites(&c, vec![b.clone(), d.to_uppercase()])
            .await
            .unwrap(),
        1,
        "a known hash is not counted again; hex case does not matter"
    );
    assert_eq!(
        store.invite_counts(&c).await.unwrap(),
        InviteCounts { total: 3, used: 0 }
    );

    assert_eq!(
        store.redeem_invite(&c, &a).await.unwrap(),
        Redemption::Redeemed
    );
    assert_eq!(
        store.redeem_invite(&c, &a).await.unwrap(),
        Redemption::AlreadyUsed
    );
    assert_eq!(
        store
            .redeem_invite(&c, &digest("never made"))
            .await
            .unwrap(),
        Redemption::Unknown
    );
    assert_eq!(
        store.redeem_invite(&other, &b).await.unwrap(),
        Redemption::Unknown,
        "codes belong to one conversation"
    );
    assert_eq!(
        store.invite_counts(&c).await.unwrap(),
        InviteCounts { total: 3, used: 1 }
    );
    assert_eq!(
        store.create_invites(&c, vec![a.clone()]).await.unwrap(),
        0,
        "making a used code again does not make it unused"
    );
    assert_eq!(
        store.redeem_invite(&c, &a).await.unwrap(),
        Redemption::AlreadyUsed
    );

    // Many redeemers at once: exactly one wins.
    let racers = (0..16).map(|_| {
        let store = store.clone();
        let (c, b) = (c.clone(), b.clone());
        tokio::spawn(async move { store.redeem_invite(&c, &b).await.unwrap() })
    });
    let outcomes: Vec<Redemption> = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Redemption::Redeemed)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Redemption::Redeemed | Redemption::AlreadyUsed))
    );
    assert_eq!(
        store.invite_counts(&c).await.unwrap(),
        InviteCounts { total: 3, used: 2 }
    );

    let bad = store
        .create_invites(&c, vec![d.clone(), "not a digest".into()])
        .await;
    assert!(
        matches!(bad, Err(StoreError::InvalidValue { .. })),
        "{bad:?}"
    );
    assert!(matches!(
        store.redeem_invite(&c, "zz").await,
        Err(StoreError::InvalidValue { .. })
    ));
    assert!(matches!(
        store
            .create_invites("no-such-conversation", vec![d.clone()])
            .await,
        Err(StoreError::ConversationNotFound(_))
    ));
    assert!(matches!(
        store.redeem_invite("no-such-conversation", &d).await,
        Err(StoreError::ConversationNotFound(_))
    ));
    assert!(matches!(
        store.invite_counts("no-such-conversation").await,
        Err(StoreError::ConversationNotFound(_))
    ));
    assert_eq!(
        store.invite_counts(&c).await.unwrap(),
        InviteCounts { total: 3, used: 2 },
        "refused calls changed nothing"
    );
}

async fn eligibility_tokens_are_spent_exactly_once(db: TestDb) {
    let store = db.open().await;
    let c = conversation(&store).await.id;
    let other = conversation(&store).await.id;
    let n = digest("token message");
    assert!(store.spend_token(&c, &n).await.unwrap());
    assert!(!store.spend_token(&c, &n).await.unwrap());
    assert!(
        !store.spend_token(&c, &n.to_uppercase()).await.unwrap(),
        "hex case does not make a new nullifier"
    );
    assert!(
        store.spend_token(&other, &n).await.unwrap(),
        "nullifiers are per conversation"
    );
    let m = digest("another token");
    let racers = (0..16).map(|_| {
        let store = store.clone();
        let (c, m) = (c.clone(), m.clone());
        tokio::spawn(async move { store.spend_token(&c, &m).await.unwrap() })
    });
    let wins = futures_util::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|won| *won)
        .count();
    assert_eq!(wins, 1);
    assert!(matches!(
        store.spend_token(&c, "short").await,
        Err(StoreError::InvalidValue { .. })
    ));
    assert!(matches!(
        store.spend_token("no-such-conversation", &m).await,
        Err(StoreError::ConversationNotFound(_))
    ));
}

async fn secrets_can_be_looked_up_without_being_made(db: TestDb) {
    let store = db.open().await;
    let name = format!("lookup-{}", validate::generate_conversation_id());
    assert_eq!(store.find_secret(&name).await.unwrap(), None);
    let made = store
        .get_or_create_secret(&name, Box::new(|| b"made outside".to_vec()))
        .await
        .unwrap();
    assert_eq!(made, b"made outside");
    assert_eq!(store.find_secret(&name).await.unwrap(), Some(made));
    let kept = store
        .get_or_create_secret(&name, Box::new(|| b"a later offer".to_vec()))
        .await
        .unwrap();
    assert_eq!(kept, b"made outside", "the first stored value wins");
}

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(db) = super::TestDb::postgres().await {
                        super::$test(db).await;
                    }
                }
            )*
        }
    };
}

contract!(
    conversations_are_created_read_updated_and_closed,
    statements_get_dense_ids_and_are_validated,
    participants_get_dense_ids_and_xids_are_get_or_create,
    votes_keep_history_and_the_current_vote,
    bad_votes_are_refused_and_store_nothing,
    client_keys_make_votes_idempotent,
    incremental_loads_merge_to_the_full_matrix,
    concurrent_writers_get_distinct_gapless_seqs,
    snapshots_answer_what_was_known_when,
    keys_and_secrets,
    erasure_follows_the_policy,
    retention_forgets_old_participant_links_and_keeps_votes,
    import_is_complete_or_nothing,
    data_survives_reopening_and_newer_schemas_are_refused,
    invite_codes_redeem_exactly_once,
    eligibility_tokens_are_spent_exactly_once,
    secrets_can_be_looked_up_without_being_made,
);

#[tokio::test]
async fn memory_databases_work_and_are_private() {
    let a = polder_store::open("sqlite::memory:").await.unwrap();
    let b = polder_store::open("sqlite::memory:").await.unwrap();
    let c = conversation(&a).await;
    assert!(a.get_conversation(&c.id).await.unwrap().is_some());
    assert!(b.get_conversation(&c.id).await.unwrap().is_none());
}
