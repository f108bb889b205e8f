//! Degenerate conversations: the engine must answer, not fail or panic.
#![allow(clippy::unwrap_used)]

use polder_core::{
    MathConfig, MathState, Moderation, ParticipantId, Pca2, Report, ReportContext,
    StatementCatalog, StatementId, StatementInfo, Vote, VoteEvent, VoteMatrix, update,
};

fn ev(p: u32, s: u32, vote: Vote) -> VoteEvent {
    VoteEvent {
        participant: ParticipantId(p),
        statement: StatementId(s),
        vote,
        timestamp: 0,
    }
}

fn run(events: &[VoteEvent], catalog: &StatementCatalog) -> polder_core::Analysis {
    let matrix = VoteMatrix::from_events(events).unwrap();
    let a = update(
        &MathState::default(),
        &matrix,
        catalog,
        &MathConfig::default(),
    )
    .unwrap()
    .analysis;
    // Both report shapes serialise and read back.
    let json = serde_json::to_string(&Report::new(&a, &ReportContext::default())).unwrap();
    let _: Report = serde_json::from_str(&json).unwrap();
    serde_json::to_string(&Pca2::new(&a, &ReportContext::default())).unwrap();
    for x in a
        .projections
        .iter()
        .flatten()
        .chain(a.components.iter().flatten())
    {
        assert!(x.is_finite());
    }
    a
}

#[test]
fn no_votes_at_all() {
    let a = run(&[], &StatementCatalog::new());
    assert!(a.groups.is_empty());
    assert!(a.participants.is_empty());
}

#[test]
fn one_participant() {
    let a = run(
        &[ev(1, 0, Vote::Agree), ev(1, 1, Vote::Disagree)],
        &StatementCatalog::new(),
    );
    assert_eq!(a.n_in_conv(), 1);
    // Nothing varies, so there are no components and everyone sits at the origin.
    assert!(a.components.iter().flatten().all(|&x| x == 0.0));
    assert_eq!(a.projections, vec![[0.0, 0.0]]);
    assert_eq!(a.groups.len(), 1);
}

#[test]
fn one_statement() {
    let events: Vec<VoteEvent> = (0..10)
        .map(|p| {
            ev(
                p,
                7,
                if p % 2 == 0 {
                    Vote::Agree
                } else {
                    Vote::Disagree
                },
            )
        })
        .collect();
    let a = run(&events, &StatementCatalog::new());
    // One column: the first component is that column, the second is empty.
    assert_eq!(a.components[0][0].abs(), 1.0);
    assert_eq!(a.components[1], vec![0.0]);
    assert_eq!(a.groups.len(), 2);
}

#[test]
fn everyone_votes_the_same() {
    let events: Vec<VoteEvent> = (0..30)
        .flat_map(|p| (0..5).map(move |s| ev(p, s, Vote::Agree)))
        .collect();
    let a = run(&events, &StatementCatalog::new());
    assert_eq!(a.groups.len(), 1, "identical participants form one group");
    assert_eq!(a.consensus.agree.len(), 5);
}

#[test]
fn every_statement_moderated_out() {
    let events: Vec<VoteEvent> = (0..20)
        .flat_map(|p| {
            (0..4).map(move |s| {
                ev(
                    p,
                    s,
                    if (p + s) % 3 == 0 {
                        Vote::Agree
                    } else {
                        Vote::Disagree
                    },
                )
            })
        })
        .collect();
    let catalog: StatementCatalog = (0..4)
        .map(|s| StatementInfo {
            id: StatementId(s),
            moderation: Moderation::Rejected,
            is_meta: false,
        })
        .collect();
    let a = run(&events, &catalog);
    assert!(a.consensus.agree.is_empty() && a.consensus.disagree.is_empty());
    assert!(a.repness.iter().all(Vec::is_empty));
}
