//! How close polder comes to the groups Polis drew, on real conversations.
//!
//! Two kinds of fixtures (see `../shared/fixtures/README.md`):
//! - `polis-math/*`: votes plus the complete math output Polis computed
//!   (`math-pca2.json`): participant inclusion, components, groups,
//!   representative and consensus statements can all be compared;
//! - `opendata/*`: Polis CSV exports whose `participants-votes.csv` carries
//!   the group Polis assigned to each participant.
//!
//! `polder fidelity --write docs/fidelity.md` regenerates the table in the
//! docs; the tests in `tests/fidelity.rs` assert the levels reached.

use crate::analyze::{self, Mode};
use anyhow::{Context, bail};
use polder_core::replay::{Batching, Restarts};
use polder_core::stats::adjusted_rand_index;
use polder_core::{Analysis, MathConfig, MathState, ParticipantId, StatementId, VoteMatrix};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

/// What Polis found for a conversation.
#[derive(Debug, Clone, Default)]
pub struct PolisTruth {
    /// Group of every clustered participant.
    pub groups: BTreeMap<ParticipantId, u32>,
    /// Clustered participants (may include some without a group in opendata).
    pub in_conv: BTreeSet<ParticipantId>,
    /// Components over `tids` (polis-math only).
    pub components: Option<(Vec<StatementId>, [Vec<f64>; 2])>,
    /// Representative statements per group (polis-math only).
    pub repness: BTreeMap<u32, BTreeSet<StatementId>>,
    /// Consensus statements, agree and disagree (polis-math only).
    pub consensus: Option<[BTreeSet<StatementId>; 2]>,
}

/// How one run compares with Polis.
#[derive(Debug, Clone)]
pub struct Row {
    /// Fixture name.
    pub fixture: String,
    /// `once` or `history`.
    pub mode: String,
    /// Participants with a vote.
    pub participants: usize,
    /// Clustered by polder / by Polis / by both.
    pub in_conv: (usize, usize, usize),
    /// Groups found by polder / by Polis.
    pub groups: (usize, usize),
    /// Adjusted Rand index over participants both clustered.
    pub ari: f64,
    /// |cosine| of each component with Polis's (polis-math only).
    pub pca_cos: Option<[f64; 2]>,
    /// Mean Jaccard similarity of representative statement sets over matched groups.
    pub repness_jaccard: Option<f64>,
    /// Jaccard similarity of the consensus statement sets (agree ∪ disagree).
    pub consensus_jaccard: Option<f64>,
    /// Updates that were run.
    pub updates: usize,
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .map(|x| x as u32)
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the truth from a `math-pca2.json`.
pub fn read_pca2(path: &Path) -> anyhow::Result<PolisTruth> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let base = &v["base-clusters"];
    let base_ids = ids(&base["id"]);
    let base_members: Vec<Vec<u32>> = base["members"]
        .as_array()
        .map(|a| a.iter().map(ids).collect())
        .unwrap_or_default();
    let mut members_of: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (id, m) in base_ids.iter().zip(base_members) {
        members_of.insert(*id, m);
    }
    let mut groups = BTreeMap::new();
    for g in v["group-clusters"].as_array().into_iter().flatten() {
        let gid = g["id"].as_u64().unwrap_or_default() as u32;
        for b in ids(&g["members"]) {
            for &p in members_of.get(&b).map(Vec::as_slice).unwrap_or_default() {
                groups.insert(ParticipantId(p), gid);
            }
        }
    }
    let tids: Vec<StatementId> = ids(&v["tids"]).into_iter().map(StatementId).collect();
    let comp = |k: usize| -> Vec<f64> {
        v["pca"]["comps"][k]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let tid_set = |x: &Value| -> BTreeSet<StatementId> {
        x.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["tid"].as_u64())
            .map(|t| StatementId(t as u32))
            .collect()
    };
    let repness = v["repness"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, list)| (k.parse().unwrap_or_default(), tid_set(list)))
                .collect()
        })
        .unwrap_or_default();
    Ok(PolisTruth {
        groups,
        in_conv: ids(&v["in-conv"]).into_iter().map(ParticipantId).collect(),
        components: Some((tids, [comp(0), comp(1)])),
        repness,
        consensus: Some([
            tid_set(&v["consensus"]["agree"]),
            tid_set(&v["consensus"]["disagree"]),
        ]),
    })
}

/// Reads the truth from an opendata `participants-votes.csv`.
pub fn read_opendata(dir: &Path) -> anyhow::Result<PolisTruth> {
    let assigned =
        polder_formats::polis_export::read_polis_groups(&dir.join("participants-votes.csv"))?;
    let groups: BTreeMap<ParticipantId, u32> = assigned
        .iter()
        .filter_map(|(&p, g)| g.map(|g| (p, g)))
        .collect();
    Ok(PolisTruth {
        in_conv: groups.keys().copied().collect(),
        groups,
        ..Default::default()
    })
}

fn jaccard<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        1.0
    } else {
        a.intersection(b).count() as f64 / union as f64
    }
}

/// Pairs each polder group with the Polis group it shares most members with
/// (best overall assignment, by brute force over permutations of ≤ 5 groups).
fn match_groups(
    ours: &BTreeMap<ParticipantId, u32>,
    theirs: &BTreeMap<ParticipantId, u32>,
) -> Vec<(u32, u32)> {
    let mut overlap: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for (p, &g) in ours {
        if let Some(&h) = theirs.get(p) {
            *overlap.entry((g, h)).or_default() += 1;
        }
    }
    let a: Vec<u32> = ours
        .values()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let b: Vec<u32> = theirs
        .values()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut best = (0usize, Vec::new());
    fn search(
        a: &[u32],
        b: &[u32],
        used: &mut Vec<bool>,
        current: &mut Vec<(u32, u32)>,
        score: usize,
        overlap: &BTreeMap<(u32, u32), usize>,
        best: &mut (usize, Vec<(u32, u32)>),
    ) {
        let Some((&g, rest)) = a.split_first() else {
            if score > best.0 || best.1.is_empty() {
                *best = (score, current.clone());
            }
            return;
        };
        let mut any = false;
        for (j, &h) in b.iter().enumerate() {
            if !used[j] {
                any = true;
                used[j] = true;
                current.push((g, h));
                let s = score + overlap.get(&(g, h)).copied().unwrap_or(0);
                search(rest, b, used, current, s, overlap, best);
                current.pop();
                used[j] = false;
            }
        }
        if !any {
            search(rest, b, used, current, score, overlap, best);
        }
    }
    search(
        &a,
        &b,
        &mut vec![false; b.len()],
        &mut Vec::new(),
        0,
        &overlap,
        &mut best,
    );
    best.1
}

/// Compares one analysis with the truth.
pub fn compare(fixture: &str, mode: &str, a: &Analysis, truth: &PolisTruth, updates: usize) -> Row {
    let group_ids = a.group_ids();
    let ours: BTreeMap<ParticipantId, u32> = a
        .participants
        .iter()
        .zip(&group_ids)
        .filter_map(|(&p, g)| g.map(|g| (p, g)))
        .collect();
    let our_in: BTreeSet<ParticipantId> = a
        .participants
        .iter()
        .zip(&a.in_conv)
        .filter(|(_, i)| **i)
        .map(|(&p, _)| p)
        .collect();
    let both: Vec<ParticipantId> = ours
        .keys()
        .filter(|p| truth.groups.contains_key(p))
        .copied()
        .collect();
    let la: Vec<u32> = both.iter().map(|p| ours[p]).collect();
    let lb: Vec<u32> = both.iter().map(|p| truth.groups[p]).collect();
    let ari = adjusted_rand_index(&la, &lb);
    let n_truth_groups = truth.groups.values().collect::<BTreeSet<_>>().len();

    let pca_cos = truth.components.as_ref().map(|(tids, comps)| {
        std::array::from_fn(|k| {
            let (mut dot, mut na, mut nb) = (0.0, 0.0, 0.0);
            for (i, t) in tids.iter().enumerate() {
                if let (Some(c), Some(&theirs)) =
                    (a.statements.binary_search(t).ok(), comps[k].get(i))
                {
                    let ours = a.components[k][c];
                    dot += ours * theirs;
                    na += ours * ours;
                    nb += theirs * theirs;
                }
            }
            if na == 0.0 || nb == 0.0 {
                0.0
            } else {
                (dot / (na.sqrt() * nb.sqrt())).abs()
            }
        })
    });

    let repness_jaccard = (!truth.repness.is_empty()).then(|| {
        let pairs = match_groups(&ours, &truth.groups);
        let our_rep: BTreeMap<u32, BTreeSet<StatementId>> = a
            .groups
            .iter()
            .zip(&a.repness)
            .map(|(g, r)| (g.id, r.iter().map(|x| x.statement).collect()))
            .collect();
        let scores: Vec<f64> = pairs
            .iter()
            .map(|(g, h)| {
                jaccard(
                    our_rep.get(g).unwrap_or(&BTreeSet::new()),
                    truth.repness.get(h).unwrap_or(&BTreeSet::new()),
                )
            })
            .collect();
        if scores.is_empty() {
            0.0
        } else {
            scores.iter().sum::<f64>() / scores.len() as f64
        }
    });
    let consensus_jaccard = truth.consensus.as_ref().map(|[agree, disagree]| {
        let ours: BTreeSet<(bool, StatementId)> = a
            .consensus
            .agree
            .iter()
            .map(|c| (true, c.statement))
            .chain(a.consensus.disagree.iter().map(|c| (false, c.statement)))
            .collect();
        let theirs: BTreeSet<(bool, StatementId)> = agree
            .iter()
            .map(|&t| (true, t))
            .chain(disagree.iter().map(|&t| (false, t)))
            .collect();
        jaccard(&ours, &theirs)
    });
    Row {
        fixture: fixture.to_string(),
        mode: mode.to_string(),
        participants: a.participants.len(),
        in_conv: (
            our_in.len(),
            truth.in_conv.len(),
            our_in.intersection(&truth.in_conv).count(),
        ),
        groups: (a.groups.len(), n_truth_groups),
        ari,
        pca_cos,
        repness_jaccard,
        consensus_jaccard,
        updates,
    }
}

/// The ways of running polder that the fidelity table compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Setup {
    /// One update over the final votes, as `polder analyze --mode once`
    /// makes it: fresh groupings also tried from k-means++ starts.
    Once,
    /// One update over the final votes with Polis's start of the groupings
    /// only (the first distinct base clusters), as Polis would from scratch.
    OncePolisStart,
    /// The replay that models current Polis (the `analyze` default).
    Current,
    /// The replay that models Polis before 2018 (no restarts).
    Legacy,
    /// One update, starting from the set of participants Polis clustered
    /// (a diagnostic that separates inclusion from geometry), with Polis's
    /// start of the groupings only.
    OnceGivenClustered,
}

impl Setup {
    /// Every setup, in table order.
    pub const ALL: [Setup; 5] = [
        Setup::Once,
        Setup::OncePolisStart,
        Setup::Current,
        Setup::Legacy,
        Setup::OnceGivenClustered,
    ];

    /// Name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Setup::Once => "once",
            Setup::OncePolisStart => "once, Polis's start only",
            Setup::Current => "history (current Polis)",
            Setup::Legacy => "history (Polis before 2018)",
            Setup::OnceGivenClustered => "once, Polis's clustered set given",
        }
    }

    /// The math configuration: Polis before 2018 did not top up the
    /// clustered participants to 15 (its exports show exactly the
    /// participants with enough votes).
    pub fn config(self) -> MathConfig {
        match self {
            Setup::Legacy => MathConfig {
                greedy_n: 0,
                ..MathConfig::default()
            },
            Setup::Once => MathConfig {
                group_starts: crate::analyze::ONCE_GROUP_STARTS,
                ..MathConfig::default()
            },
            _ => MathConfig::default(),
        }
    }

    /// The analysis mode, for the setups that are plain modes.
    pub fn mode(self) -> Mode {
        let batching = Batching::Window {
            millis: crate::analyze::DEFAULT_WINDOW_MS,
        };
        match self {
            Setup::Once | Setup::OncePolisStart | Setup::OnceGivenClustered => Mode::Once,
            Setup::Current => Mode::History(batching, crate::analyze::CURRENT_POLIS_RESTARTS),
            Setup::Legacy => Mode::History(batching, Restarts::default()),
        }
    }
}

/// Reads the truth of a fixture directory.
pub fn read_truth(dir: &Path) -> anyhow::Result<PolisTruth> {
    if dir.join("math-pca2.json").exists() {
        read_pca2(&dir.join("math-pca2.json"))
    } else if dir.join("participants-votes.csv").exists() {
        read_opendata(dir)
    } else {
        bail!(
            "{}: neither math-pca2.json nor participants-votes.csv",
            dir.display()
        );
    }
}

/// Evaluates one fixture directory in one setup.
pub fn evaluate(dir: &Path, setup: Setup) -> anyhow::Result<Row> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let truth = read_truth(dir)?;
    let conversation = polder_formats::read_conversation(dir)?;
    let config = setup.config();
    let (analysis, updates) = if setup == Setup::OnceGivenClustered {
        let matrix = VoteMatrix::from_events(&conversation.votes)?;
        let state = MathState {
            in_conv: truth.in_conv.iter().copied().collect(),
            ..MathState::default()
        };
        let update = polder_core::update(&state, &matrix, &conversation.catalog(), &config)?;
        (update.analysis, 1)
    } else {
        let outcome = analyze::analyze(&conversation, &config, setup.mode(), false)?;
        (outcome.update.analysis, outcome.updates)
    };
    Ok(compare(&name, setup.name(), &analysis, &truth, updates))
}

/// Every fixture directory under `fixtures/polis-math` and `fixtures/opendata`.
pub fn fixture_dirs(fixtures: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut dirs = Vec::new();
    for kind in ["polis-math", "opendata"] {
        let base = fixtures.join(kind);
        let mut found: Vec<_> = std::fs::read_dir(&base)
            .with_context(|| format!("{}: cannot list fixtures", base.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        found.sort();
        dirs.extend(found);
    }
    Ok(dirs)
}

/// Evaluates every fixture in every setup.
pub fn run_all(fixtures: &Path) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for dir in fixture_dirs(fixtures)? {
        for setup in Setup::ALL {
            rows.push(evaluate(&dir, setup)?);
        }
    }
    Ok(rows)
}

fn opt(x: Option<f64>) -> String {
    x.map_or("–".to_string(), |v| format!("{v:.3}"))
}

/// The fidelity table in Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| fixture | setup | participants | clustered polder / Polis / both | groups polder / Polis | ARI | PCA \\|cos\\| 1, 2 | repness Jaccard | consensus Jaccard | updates |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} / {} / {} | {} / {} | {:.3} | {} | {} | {} | {} |",
            r.fixture,
            r.mode,
            r.participants,
            r.in_conv.0,
            r.in_conv.1,
            r.in_conv.2,
            r.groups.0,
            r.groups.1,
            r.ari,
            r.pca_cos
                .map_or("–".to_string(), |c| format!("{:.4}, {:.4}", c[0], c[1])),
            opt(r.repness_jaccard),
            opt(r.consensus_jaccard),
            r.updates
        );
    }
    out
}

const BEGIN: &str = "<!-- fidelity-table:begin -->";
const END: &str = "<!-- fidelity-table:end -->";

/// Replaces the table between the markers in `path`.
pub fn write_into(path: &Path, table: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        bail!(
            "{}: the markers {BEGIN} and {END} are missing",
            path.display()
        );
    };
    let updated = format!("{}{BEGIN}\n{table}{}", &text[..b], &text[e..]);
    std::fs::write(path, updated).with_context(|| format!("{}", path.display()))?;
    Ok(())
}
