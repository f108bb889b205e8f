//! `polder import` / `polder export` / `polder analyze --conversation` as a
//! user runs them, against a fresh SQLite file (and PostgreSQL when
//! `DATABASE_URL` is set, as under `../shared/scripts/with-postgres`).
#![allow(clippy::unwrap_used)]

use polder_formats::polis_export;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn polder(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polder"))
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env_remove("POLDER_DATABASE_URL")
        .output()
        .unwrap()
}

fn opendata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/opendata")
        .join(name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn last_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

const OPENDATA: [&str; 5] = [
    "15-per-hour-seattle",
    "brexit-consensus",
    "canadian-electoral-reform",
    "football-concussions",
    "vtaiwan.uberx",
];

/// Imports every opendata conversation, exports it again and checks that
/// the statements and the whole vote history come back with the same ids.
fn round_trip_all(db: &str, id_prefix: &str) {
    let out_root = tempfile::tempdir().unwrap();
    for name in OPENDATA {
        let source = opendata(name);
        let id = format!("{id_prefix}{}", name.replace('.', "-"));
        let imported = polder(db, &["import", source.to_str().unwrap(), "--id", &id]);
        assert!(imported.status.success(), "{name}: {}", stderr(&imported));
        assert_eq!(last_line(&imported), id, "import prints the id last");

        let out = out_root.path().join(name);
        let exported = polder(db, &["export", &id, out.to_str().unwrap()]);
        assert!(exported.status.success(), "{name}: {}", stderr(&exported));
        for file in [
            "votes.csv",
            "comments.csv",
            "participants-votes.csv",
            "summary.csv",
        ] {
            assert!(out.join(file).exists(), "{name}: {file} missing");
        }

        let original = polis_export::read(&source).unwrap();
        let back = polis_export::read(&out).unwrap();
        assert_eq!(back.topic, original.topic, "{name}: topic");
        assert_eq!(back.statements.len(), original.statements.len());
        for (a, b) in original.statements.iter().zip(&back.statements) {
            assert_eq!(
                (a.id, &a.text, a.author, a.created, a.moderation),
                (b.id, &b.text, b.author, b.created, b.moderation),
                "{name}: statement {}",
                a.id
            );
        }
        let key = |v: &polder_core::VoteEvent| (v.timestamp, v.participant, v.statement, v.vote);
        let mut want: Vec<_> = original.votes.iter().map(key).collect();
        let mut got: Vec<_> = back.votes.iter().map(key).collect();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got.len(), want.len(), "{name}: number of votes");
        assert!(got == want, "{name}: the vote history differs");

        // participants-votes.csv holds the latest vote of every participant.
        let groups = polis_export::read_polis_groups(&out.join("participants-votes.csv")).unwrap();
        let voters: std::collections::BTreeSet<_> =
            original.votes.iter().map(|v| v.participant).collect();
        assert!(
            voters.iter().all(|p| groups.contains_key(p)),
            "{name}: a voter is missing"
        );
    }
}

#[test]
fn import_then_export_reproduces_every_opendata_conversation_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("polder.db").display());
    round_trip_all(&db, "");
}

#[test]
fn import_then_export_reproduces_every_opendata_conversation_postgres() {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            // A fresh schema keeps this run apart from other tests in the database.
            let schema = format!("cli_{}", std::process::id());
            let created = Command::new("psql")
                .args([
                    "-XAtq",
                    &url,
                    "-c",
                    &format!("CREATE SCHEMA IF NOT EXISTS {schema}"),
                ])
                .output()
                .unwrap();
            assert!(created.status.success(), "{}", stderr(&created));
            let sep = if url.contains('?') { '&' } else { '?' };
            round_trip_all(
                &format!("{url}{sep}options=-csearch_path%3D{schema}"),
                "pg-",
            );
        }
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "DATABASE_URL is not set, but CI=true: run under ../shared/scripts/with-postgres"
            )
        }
        _ => eprintln!("notice: DATABASE_URL is not set; skipping the PostgreSQL round trip"),
    }
}

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

const COMMENTS: &str = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n\
                        1000,x,0,0,0,0,1,Ferries\n1001,x,1,1,0,0,0,Bridges\n";

/// Runs an import of a small conversation whose votes.csv is `votes`.
fn import_votes(db: &str, votes: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "comments.csv", COMMENTS);
    write(dir.path(), "votes.csv", votes);
    polder(db, &["import", dir.path().to_str().unwrap()])
}

#[test]
fn bad_input_is_named_and_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("polder.db").display());
    let header = "timestamp,datetime,comment-id,voter-id,vote\n";

    let bad_value = import_votes(&db, &format!("{header}2000,x,0,5,1\n2001,x,1,5,3\n"));
    assert!(!bad_value.status.success());
    let e = stderr(&bad_value);
    assert!(
        e.contains("votes.csv: line 3: field `vote`") && e.contains("`3` is not a vote"),
        "{e}"
    );

    let unknown = import_votes(&db, &format!("{header}2000,x,7,5,1\n"));
    assert!(
        stderr(&unknown).contains("statement 7 is not in comments.csv"),
        "{}",
        stderr(&unknown)
    );

    let truncated = import_votes(&db, &format!("{header}2000,x,0,5,1\n2001,x,1\n"));
    assert!(!truncated.status.success());
    assert!(
        stderr(&truncated).contains("votes.csv: line 3"),
        "{}",
        stderr(&truncated)
    );

    let long = tempfile::tempdir().unwrap();
    write(
        long.path(),
        "comments.csv",
        &format!(
            "comment-id,comment-body\n0,{}\n",
            "x".repeat(polder_store::MAX_STATEMENT_CHARS + 1)
        ),
    );
    write(long.path(), "votes.csv", header);
    let too_long = polder(&db, &["import", long.path().to_str().unwrap()]);
    assert!(!too_long.status.success());
    assert!(
        stderr(&too_long).contains("statement 0: the text has 2001 characters"),
        "{}",
        stderr(&too_long)
    );

    let empty = tempfile::tempdir().unwrap();
    write(
        empty.path(),
        "comments.csv",
        "comment-id,comment-body,moderated\n0,,1\n",
    );
    write(empty.path(), "votes.csv", header);
    let empty_text = polder(&db, &["import", empty.path().to_str().unwrap()]);
    assert!(
        stderr(&empty_text).contains("statement 0: the text is empty"),
        "{}",
        stderr(&empty_text)
    );

    // None of the failures left anything behind.
    let nothing = polder(
        &db,
        &["export", "anything", dir.path().join("x").to_str().unwrap()],
    );
    assert!(stderr(&nothing).contains("conversation `anything` does not exist"));
    let db_file = dir.path().join("polder.db");
    assert_eq!(
        conversations_in(&db_file),
        0,
        "failed imports must leave no conversation behind"
    );

    // A good import works, and the same files a second time are refused.
    let good = tempfile::tempdir().unwrap();
    write(good.path(), "comments.csv", COMMENTS);
    write(
        good.path(),
        "votes.csv",
        &format!("{header}2000,x,0,5,1\n2001,x,1,5,-1\n"),
    );
    let first = polder(
        &db,
        &["import", good.path().to_str().unwrap(), "--id", "harbour"],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(last_line(&first), "harbour");
    let again = polder(&db, &["import", good.path().to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already imported as conversation `harbour`"),
        "{}",
        stderr(&again)
    );
    let taken = import_votes(&db, &format!("{header}2000,x,0,5,1\n"));
    assert!(
        taken.status.success(),
        "other files import fine: {}",
        stderr(&taken)
    );
    assert_eq!(conversations_in(&db_file), 2);

    let bad_id = polder(
        &db,
        &["import", good.path().to_str().unwrap(), "--id", "Harbour!"],
    );
    assert!(
        stderr(&bad_id).contains("conversation id `Harbour!` is invalid"),
        "{}",
        stderr(&bad_id)
    );
    let bad_url = polder("mysql://x/y", &["export", "harbour", "out"]);
    assert!(
        stderr(&bad_url).contains("unknown scheme"),
        "{}",
        stderr(&bad_url)
    );
}

/// The number of conversations in an SQLite file, read through the store.
fn conversations_in(path: &Path) -> usize {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = polder_store::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.list_conversations().await.unwrap().len()
    })
}

#[test]
fn analyze_reads_a_stored_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("polder.db").display());
    let source = opendata("brexit-consensus");
    let imported = polder(&db, &["import", source.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let id = last_line(&imported);
    assert_eq!(
        id, "brexit-consensus",
        "the id is made from the directory name"
    );
    let from_db = polder(&db, &["analyze", "--conversation", &id, "--mode", "once"]);
    assert!(from_db.status.success(), "{}", stderr(&from_db));
    let from_files = polder(
        &db,
        &["analyze", source.to_str().unwrap(), "--mode", "once"],
    );
    let a: serde_json::Value = serde_json::from_slice(&from_db.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&from_files.stdout).unwrap();
    assert_eq!(
        a["groups"], b["groups"],
        "the same votes give the same groups"
    );
    assert_eq!(a["meta"]["n_participants"], b["meta"]["n_participants"]);
    let missing = polder(&db, &["analyze", "--conversation", "nope"]);
    assert!(stderr(&missing).contains("conversation `nope` does not exist"));
}

#[test]
fn a_key_revoked_on_the_command_line_is_refused_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("polder.db").display());
    let created = polder(&db, &["keys", "create", "--admin", "--label", "ops"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let key = last_line(&created);
    assert!(!key.is_empty());

    let store_has_it = |db: &str, key: &str| {
        let hash = polder_server::auth::hash_api_key(key);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = polder_store::open(db).await.unwrap();
            store.find_key(&hash).await.unwrap().is_some()
        })
    };
    assert!(store_has_it(&db, &key));

    let mut child = Command::new(env!("CARGO_BIN_EXE_polder"))
        .args(["--database-url", &db, "keys", "revoke", "-"])
        .env_remove("POLDER_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{key}").unwrap();
    }
    let revoked = child.wait_with_output().unwrap();
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(
        !store_has_it(&db, &key),
        "a revoked key still authenticates"
    );

    let again = polder(&db, &["keys", "revoke", &key]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("no active key"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn invites_are_made_written_once_and_redeem_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("polder.db");
    let db = format!("sqlite://{}", path.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let id = rt.block_on(async {
        let store = polder_store::open(&db).await.unwrap();
        store
            .create_conversation(polder_store::NewConversation {
                topic: "Where should the ferry go?".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .id
    });
    let csv = dir.path().join("codes.csv");
    let made = polder(
        &db,
        &[
            "invites",
            "--conversation",
            &id,
            "--count",
            "3",
            "--format",
            "csv",
            "--output",
            csv.to_str().unwrap(),
            "--join-url",
            "https://example.org/ferry",
        ],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "conversation,code,join_url");
    assert_eq!(lines.len(), 4, "{text}");
    let codes: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap().to_owned())
        .collect();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&csv).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "codes are readable by the owner only");
    }
    let again = polder(
        &db,
        &[
            "invites",
            "--conversation",
            &id,
            "--count",
            "1",
            "--output",
            csv.to_str().unwrap(),
        ],
    );
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );
    assert!(
        stderr(&again).contains("must not exist"),
        "{}",
        stderr(&again)
    );

    let html = polder(
        &db,
        &[
            "invites",
            "--conversation",
            &id,
            "--count",
            "2",
            "--format",
            "html",
        ],
    );
    assert!(html.status.success(), "{}", stderr(&html));
    let page = String::from_utf8(html.stdout).unwrap();
    assert_eq!(page.matches("<article ").count(), 2);
    assert!(page.contains("Where should the ferry go?"));

    let missing = polder(&db, &["invites", "--conversation", "nope", "--count", "1"]);
    assert!(
        stderr(&missing).contains("does not exist"),
        "{}",
        stderr(&missing)
    );
    let zero = polder(&db, &["invites", "--conversation", &id, "--count", "0"]);
    assert!(!zero.status.success());

    rt.block_on(async {
        let store = polder_store::open(&db).await.unwrap();
        let hash = polder_server::invites::hash_typed(&codes[0]).unwrap();
        assert_eq!(
            store.redeem_invite(&id, &hash).await.unwrap(),
            polder_store::Redemption::Redeemed
        );
        assert_eq!(
            store.redeem_invite(&id, &hash).await.unwrap(),
            polder_store::Redemption::AlreadyUsed
        );
    });
    let status = polder(&db, &["invites", "--conversation", &id, "--status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        format!("{id}: 5 invite codes, 1 used, 4 unused"),
        "the failed run stored nothing"
    );
}
