//! The `polder` command as a user runs it.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn polder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polder"))
        .args(args)
        .output()
        .unwrap()
}

fn fixture(kind: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures")
        .join(kind)
        .join(name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn analyze_prints_a_native_report_by_default() {
    let dir = fixture("polis-math", "below-100-ptpts");
    let out = polder(&["analyze", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["meta"]["format"], "polder-report/1");
    assert_eq!(report["meta"]["n_participants"], 35);
    assert_eq!(report["groups"].as_array().unwrap().len(), 3);
    assert_eq!(report["participants"].as_array().unwrap().len(), 35);
}

#[test]
fn analyze_pca2_has_the_polis_keys() {
    let dir = fixture("opendata", "brexit-consensus");
    let out = polder(&[
        "analyze",
        dir.to_str().unwrap(),
        "--format",
        "pca2",
        "--mode",
        "once",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "in-conv",
        "pca",
        "base-clusters",
        "group-clusters",
        "repness",
        "consensus",
        "group-aware-consensus",
        "comment-priorities",
        "group-votes",
        "user-vote-counts",
        "mod-out",
        "meta-tids",
        "tids",
        "n",
        "n-cmts",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(v["n"], 204);
    assert_eq!(v["pca"]["comps"].as_array().unwrap().len(), 2);
}

#[test]
fn analyze_text_summarises_groups_and_consensus_and_writes_to_a_file() {
    let dir = fixture("opendata", "vtaiwan.uberx");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("summary.txt");
    let out = polder(&[
        "analyze",
        dir.to_str().unwrap(),
        "--format",
        "text",
        "--mode",
        "once",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("Opinion groups: 2"), "{text}");
    assert!(text.contains("Group A") && text.contains("Group B"));
    assert!(text.contains("Consensus — most agree:"));
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let dir = fixture("polis-math", "150ptpt-3gp-no-strict-no-meta");
    let a = polder(&["analyze", dir.to_str().unwrap(), "--seed", "3"]);
    let b = polder(&["analyze", dir.to_str().unwrap(), "--seed", "3"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
}

/// Writes a Polis export with the given votes.csv and a fixed comments.csv.
fn export_with_votes(votes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("comments.csv"),
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n1,x,0,0,0,0,1,Fine\n2,x,1,0,0,0,1,Also fine\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("votes.csv"), votes).unwrap();
    dir
}

fn assert_clean_failure(dir: &Path, expected: &[&str]) {
    let out = polder(&["analyze", dir.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for e in expected {
        assert!(err.contains(e), "expected `{e}` in: {err}");
    }
}

#[test]
fn malformed_input_is_a_clear_error_not_a_panic() {
    let header = "timestamp,datetime,comment-id,voter-id,vote\n";
    let cases: Vec<(Vec<u8>, Vec<&str>)> = vec![
        (
            format!("{header}1,x,0,5,1\n2,x,1,5,7\n").into_bytes(),
            vec!["votes.csv: line 3: field `vote`", "`7` is not a vote"],
        ),
        (
            b"timestamp,datetime,comment-id,vote\n1,x,0,1\n".to_vec(),
            vec!["votes.csv: line 1: missing column `voter-id`"],
        ),
        (
            b"timestamp,vote,comment-id,voter-id,vote\n1,1,0,5,1\n".to_vec(),
            vec!["votes.csv: line 1: column `vote` appears more than once"],
        ),
        (
            format!("{header}1,x,9,5,1\n").into_bytes(),
            vec![
                "votes.csv: line 2: field `comment-id`",
                "statement 9 is not in comments.csv",
            ],
        ),
        (Vec::new(), vec!["votes.csv: file is empty"]),
        (
            [header.as_bytes(), b"1,x,0,5,1\n2,\xff,1,5,1\n"].concat(),
            vec!["votes.csv: line 3", "UTF-8"],
        ),
        (
            format!("{header}1,x,0,5,1\n2,x,1\n").into_bytes(),
            vec!["votes.csv: line 3", "truncated"],
        ),
        (
            format!("{header}1,x,0,five,1\n").into_bytes(),
            vec![
                "votes.csv: line 2: field `voter-id`",
                "`five` is not a valid integer",
            ],
        ),
    ];
    for (votes, expected) in cases {
        let dir = export_with_votes(&votes);
        assert_clean_failure(dir.path(), &expected);
    }
}

#[test]
fn a_directory_that_is_not_a_conversation_is_named() {
    let dir = tempfile::tempdir().unwrap();
    assert_clean_failure(dir.path(), &["not a conversation directory"]);
    let missing = dir.path().join("nope");
    assert_clean_failure(&missing, &["nope", "no such directory"]);
}

#[test]
fn bad_arguments_exit_with_usage_errors() {
    let out = polder(&["analyze", ".", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid value 'xml'"));
    let out = polder(&["analyze", ".", "--window", "5y"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn synth_writes_an_export_that_analyze_reads() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("harbour");
    let out = polder(&[
        "synth",
        "--preset",
        "small",
        "--seed",
        "1",
        target.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("400 participants, 24 statements"));
    let out = polder(&[
        "analyze",
        target.to_str().unwrap(),
        "--mode",
        "once",
        "--format",
        "text",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Opinion groups: 3"), "{text}");

    // A second run must not overwrite silently.
    let out = polder(&["synth", target.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = polder(&["synth", "--force", target.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn the_bundled_example_is_what_synth_generates() {
    let dir = tempfile::tempdir().unwrap();
    let out = polder(&[
        "synth",
        "--preset",
        "small",
        "--seed",
        "1",
        "--force",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/polderdam-harbour");
    for file in [
        "votes.csv",
        "comments.csv",
        "participants-votes.csv",
        "summary.csv",
    ] {
        let fresh = std::fs::read(dir.path().join(file)).unwrap();
        let kept = std::fs::read(bundled.join(file)).unwrap();
        assert!(
            fresh == kept,
            "examples/polderdam-harbour/{file} is stale: regenerate it (see its README)"
        );
    }
}
