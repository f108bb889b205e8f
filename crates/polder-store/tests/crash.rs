//! An acknowledged vote survives the writer being killed.
//!
//! The test starts a child process (this test binary again, running the
//! ignored helper `crash_child`) that casts votes from several tasks and
//! prints each receipt once `cast_votes` has returned. After a few hundred
//! receipts the parent kills it with SIGKILL — no destructors, no flush, a
//! write possibly half done — reopens the database and checks that every
//! acknowledged vote is in the history with its sequence number.
//!
//! (SIGKILL leaves the operating system's page cache intact, so this checks
//! that polder acknowledges only committed votes; that a commit reaches the
//! disk is SQLite's `synchronous=FULL` / PostgreSQL's `synchronous_commit`.)
#![allow(clippy::unwrap_used)]

mod common;

use common::TestDb;
use polder_core::{ParticipantId, StatementId, Vote};
use polder_store::{NewConversation, NewParticipant, NewStatement, NewVote};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const URL_ENV: &str = "POLDER_CRASH_URL";
const CONVERSATION_ENV: &str = "POLDER_CRASH_CONVERSATION";
const WRITERS: u32 = 8;
const STATEMENTS: u32 = 20;
const ACKS_BEFORE_KILL: usize = 400;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn vote_of(i: u32) -> Vote {
    [Vote::Agree, Vote::Disagree, Vote::Pass][(i % 3) as usize]
}

/// The child: votes until killed, printing `ack seq pid tid vote` per receipt.
#[test]
#[ignore = "helper: the crash tests run it as a child process"]
fn crash_child() {
    let (Ok(url), Ok(conversation)) = (std::env::var(URL_ENV), std::env::var(CONVERSATION_ENV))
    else {
        panic!(
            "crash_child is started by the crash tests, with {URL_ENV} and {CONVERSATION_ENV} set"
        );
    };
    runtime().block_on(async move {
        let store = polder_store::open(&url).await.unwrap();
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let store = store.clone();
            let conversation = conversation.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0u32.. {
                    let (tid, vote) = (i % STATEMENTS, vote_of(i / STATEMENTS + w));
                    let receipt = store
                        .cast_votes(
                            &conversation,
                            vec![NewVote {
                                participant: ParticipantId(w),
                                statement: StatementId(tid),
                                vote,
                                client_key: None,
                            }],
                        )
                        .await
                        .unwrap();
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {} {w} {tid} {}", receipt[0].seq, vote.value()).unwrap();
                    out.flush().unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

fn crash_and_check(db: TestDb) {
    let rt = runtime();
    let conversation = rt.block_on(async {
        let store = db.open().await;
        let c = store
            .create_conversation(NewConversation::default())
            .await
            .unwrap();
        for _ in 0..WRITERS {
            store
                .add_participant(&c.id, NewParticipant::default())
                .await
                .unwrap();
        }
        for i in 0..STATEMENTS {
            store
                .add_statement(
                    &c.id,
                    NewStatement {
                        text: format!("Statement {i}"),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        c.id
    });

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(URL_ENV, &db.url)
        .env(CONVERSATION_ENV, &conversation)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked: Vec<(u64, u32, u32, i8)> = Vec::new();
    let started = Instant::now();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let Some(rest) = line.strip_prefix("ack ") else {
            continue;
        };
        let f: Vec<i64> = rest.split(' ').map(|x| x.parse().unwrap()).collect();
        acked.push((f[0] as u64, f[1] as u32, f[2] as u32, f[3] as i8));
        if acked.len() >= ACKS_BEFORE_KILL {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the child votes too slowly"
        );
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the child must have been killed, not have finished"
    );
    assert_eq!(
        acked.len(),
        ACKS_BEFORE_KILL,
        "the child stopped before {ACKS_BEFORE_KILL} receipts"
    );

    rt.block_on(async {
        let store = db.open().await;
        let history = std::sync::Arc::new(std::sync::Mutex::new(HashMap::new()));
        let sink = history.clone();
        store
            .stream_history(
                &conversation,
                Box::new(move |v| {
                    sink.lock()
                        .unwrap()
                        .insert(v.seq, (v.participant.0, v.statement.0, v.vote.value()));
                    Ok(())
                }),
            )
            .await
            .unwrap();
        let history = std::mem::take(&mut *history.lock().unwrap());
        for (seq, pid, tid, vote) in &acked {
            assert_eq!(
                history.get(seq),
                Some(&(*pid, *tid, *vote)),
                "acknowledged vote seq {seq} is missing or different after the crash"
            );
        }
        let last = store.last_seq(&conversation).await.unwrap();
        assert!(last >= acked.iter().map(|a| a.0).max().unwrap());
        assert_eq!(history.len() as u64, last, "sequence numbers have no gaps");
        // The store still takes votes after the crash.
        let more = store
            .cast_votes(
                &conversation,
                vec![NewVote {
                    participant: ParticipantId(0),
                    statement: StatementId(0),
                    vote: Vote::Agree,
                    client_key: None,
                }],
            )
            .await
            .unwrap();
        assert_eq!(more[0].seq, last + 1);
    });
}

#[test]
fn sqlite_keeps_every_acknowledged_vote_through_sigkill() {
    let db = runtime().block_on(TestDb::sqlite());
    crash_and_check(db);
}

#[test]
fn postgres_keeps_every_acknowledged_vote_through_sigkill() {
    if let Some(db) = runtime().block_on(TestDb::postgres()) {
        crash_and_check(db);
    }
}
