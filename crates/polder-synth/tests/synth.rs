//! The generator's promises: determinism, the planted answer, readable exports.
#![allow(clippy::unwrap_used)]

use polder_core::stats::adjusted_rand_index;
use polder_core::{MathConfig, MathState, StatementCatalog, VoteMatrix, update};
use polder_synth::{ExportOptions, Preset, Synth, SynthConfig};

fn small(seed: u64) -> Synth {
    Synth::new(Preset::Small.config(), seed).unwrap()
}

#[test]
fn same_seed_same_votes_whatever_the_thread_count() {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| small(7).votes());
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| small(7).votes());
    assert_eq!(one, three);
    assert_ne!(one, small(8).votes());
}

#[test]
fn streaming_matrix_and_counts_agree() {
    let synth = small(3);
    let votes = synth.votes();
    assert_eq!(votes.len() as u64, synth.n_votes());
    assert_eq!(
        synth.vote_matrix().unwrap(),
        VoteMatrix::from_events(&votes).unwrap()
    );
    let planted = synth.planted_groups();
    let mut seen = vec![false; synth.n_groups()];
    synth.for_each_participant(|p, group, _| {
        assert_eq!(planted[p.0 as usize], group);
        seen[group as usize] = true;
    });
    assert!(seen.iter().all(|&s| s), "every planted group has members");
}

#[test]
fn participation_is_heavy_tailed_and_late_statements_get_fewer_votes() {
    let config = SynthConfig {
        participants: 3000,
        ..Preset::Scale1m.config()
    };
    let synth = Synth::new(config, 1).unwrap();
    let matrix = synth.vote_matrix().unwrap();
    let mut per_participant: Vec<usize> = (0..matrix.n_participants())
        .map(|r| matrix.row_len(r))
        .collect();
    per_participant.sort_unstable();
    let median = per_participant[per_participant.len() / 2];
    let mean = matrix.n_votes() as f64 / per_participant.len() as f64;
    let max = *per_participant.last().unwrap();
    assert!(mean > 1.2 * median as f64, "mean {mean}, median {median}");
    assert!(max > 4 * median, "max {max}, median {median}");

    let mut per_statement = vec![0usize; matrix.n_statements()];
    for (_, s, _) in matrix.iter() {
        per_statement[s.0 as usize] += 1;
    }
    let quarter = per_statement.len() / 4;
    let early: usize = per_statement[..quarter].iter().sum();
    let late: usize = per_statement[per_statement.len() - quarter..].iter().sum();
    assert!(early > 2 * late, "early {early}, late {late}");
}

#[test]
fn the_engine_recovers_the_planted_groups() {
    // An easy conversation: everyone votes on most statements, opinions are sharp.
    let easy = SynthConfig {
        median_votes: 20.0,
        separation: 5.0,
        spread: 0.15,
        ..Preset::Small.config()
    };
    for seed in [1, 2, 3] {
        let synth = Synth::new(easy.clone(), seed).unwrap();
        let matrix = synth.vote_matrix().unwrap();
        let result = update(
            &MathState::default(),
            &matrix,
            &StatementCatalog::new(),
            &MathConfig::default(),
        )
        .unwrap();
        let planted = synth.planted_groups();
        let (found, truth): (Vec<u32>, Vec<u32>) = result
            .analysis
            .group_of
            .iter()
            .zip(matrix.participants())
            .filter_map(|(g, p)| g.map(|g| (g, planted[p.0 as usize])))
            .unzip();
        assert_eq!(result.analysis.groups.len(), synth.n_groups());
        let ari = adjusted_rand_index(&found, &truth);
        assert!(ari > 0.85, "seed {seed}: ARI {ari}");
    }
}

#[test]
fn the_export_reads_back_with_polder_formats() {
    let synth = small(1);
    let dir = tempfile::tempdir().unwrap();
    let summary = polder_synth::write_polis_export(
        &synth,
        dir.path(),
        &ExportOptions {
            participants_votes: Some(true),
            description: "test".into(),
        },
    )
    .unwrap();
    assert_eq!(summary.files.len(), 4);
    let conversation = polder_formats::read_conversation(dir.path()).unwrap();
    assert_eq!(conversation.votes, synth.votes());
    assert_eq!(conversation.statements.len(), 24);
    assert_eq!(
        conversation.topic.as_deref(),
        Some(polder_synth::text::HARBOUR_TOPIC)
    );
    let groups =
        polder_formats::polis_export::read_polis_groups(&dir.path().join("participants-votes.csv"))
            .unwrap();
    let planted = synth.planted_groups();
    assert_eq!(groups.len(), planted.len());
    for (p, g) in groups {
        assert_eq!(g, Some(planted[p.0 as usize]));
    }
}

#[test]
fn invalid_configurations_are_refused() {
    let mut config = Preset::Small.config();
    config.group_weights = vec![1.0];
    assert!(Synth::new(config, 1).is_err());
    let mut config = Preset::Small.config();
    config.statements = 25;
    assert!(Synth::new(config, 1).is_err());
    assert!("huge".parse::<Preset>().is_err());
    assert_eq!("scale-10m".parse::<Preset>().unwrap(), Preset::Scale10m);
}
