//! The update pipeline: previous state + current votes → analysis + next state.

use crate::analysis::{Analysis, BaseCluster, Group};
use crate::clustering::{self, StoredCluster};
use crate::config::MathConfig;
use crate::consensus;
use crate::error::MathError;
use crate::matrix::VoteMatrix;
use crate::participation;
use crate::pca::{self, ColumnModel};
use crate::priority;
use crate::repness;
use crate::state::{MathState, WarmComponents};
use crate::statement::{StatementCatalog, StatementInfo};
use crate::tally::{Counts, Tally};
use crate::vote::ParticipantId;

/// A stage of the pipeline, reported as it starts (for progress displays
/// and per-stage timings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Vote counts per statement and the column centre.
    Counts,
    /// Who is clustered.
    Participation,
    /// Principal components by power iteration.
    Pca,
    /// Participant and statement positions.
    Projection,
    /// k-means into base clusters.
    BaseClusters,
    /// Group clusterings for every k, silhouettes, smoother.
    Groups,
    /// Vote counts per base cluster and group.
    Tally,
    /// Representative statements.
    Repness,
    /// Consensus and group-aware consensus.
    Consensus,
    /// Statement priorities.
    Priorities,
    /// Finished.
    Done,
}

impl Stage {
    /// Short lower-case name, for logs and tables.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Counts => "counts",
            Stage::Participation => "participation",
            Stage::Pca => "pca",
            Stage::Projection => "projection",
            Stage::BaseClusters => "base_clusters",
            Stage::Groups => "groups",
            Stage::Tally => "tally",
            Stage::Repness => "repness",
            Stage::Consensus => "consensus",
            Stage::Priorities => "priorities",
            Stage::Done => "done",
        }
    }
}

/// The result of [`update`].
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// What this update found.
    pub analysis: Analysis,
    /// What the next update starts from.
    pub state: MathState,
}

/// Runs the whole pipeline on the current votes.
///
/// Every stage warm-starts from `previous`: participant inclusion, PCA,
/// base clusters, group clusterings and the group-count smoother. A full
/// recompute is this same call with `MathState::default()`.
pub fn update(
    previous: &MathState,
    matrix: &VoteMatrix,
    catalog: &StatementCatalog,
    config: &MathConfig,
) -> Result<Update, MathError> {
    update_observed(previous, matrix, catalog, config, &mut |_| {})
}

/// [`update`], calling `on_stage` as each stage starts.
pub fn update_observed(
    previous: &MathState,
    matrix: &VoteMatrix,
    catalog: &StatementCatalog,
    config: &MathConfig,
    on_stage: &mut dyn FnMut(Stage),
) -> Result<Update, MathError> {
    config.validate()?;
    on_stage(Stage::Counts);
    let statement_info: Vec<StatementInfo> = matrix
        .statements()
        .iter()
        .map(|&s| catalog.get(s))
        .collect();
    let live: Vec<bool> = statement_info
        .iter()
        .map(|s| !s.is_moderated_out())
        .collect();
    let moderated_out: Vec<bool> = live.iter().map(|l| !l).collect();

    // Counts over all participants: the centre of the geometry and the consensus.
    let totals = matrix.column_counts().to_vec();
    let center: Vec<f64> = totals
        .iter()
        .zip(&live)
        .map(|(t, &l)| {
            if l && t.seen > 0 {
                (f64::from(t.agree) - f64::from(t.disagree)) / f64::from(t.seen)
            } else {
                0.0
            }
        })
        .collect();
    let columns = ColumnModel { center, live };

    on_stage(Stage::Participation);
    let in_conv = participation::in_conversation(
        matrix,
        &previous.in_conv,
        config.min_votes,
        config.greedy_n,
    );

    let start = previous
        .components
        .as_ref()
        .map(|w| w.aligned_to(matrix.statements()));
    on_stage(Stage::Pca);
    let pc = pca::principal_components(matrix, &columns, start.as_ref(), config.seed, &config.pca);
    on_stage(Stage::Projection);
    let projections = pca::project_participants(matrix, &columns, &pc.vectors);
    let (statement_projections, extremity) = pca::project_statements(&columns, &pc.vectors);

    // Base clusters over the clustered participants, in row order.
    let clustered_rows: Vec<u32> = (0..matrix.n_participants() as u32)
        .filter(|&r| in_conv[r as usize])
        .collect();
    let clustered_ids: Vec<ParticipantId> = clustered_rows
        .iter()
        .map(|&r| matrix.participants()[r as usize])
        .collect();
    let points: Vec<[f64; 2]> = clustered_rows
        .iter()
        .map(|&r| projections[r as usize])
        .collect();
    on_stage(Stage::BaseClusters);
    let previous_base = clustering::to_point_clusters(&previous.base_clusters, &clustered_ids);
    let base = clustering::warm_kmeans(
        &points,
        None,
        previous_base,
        config.base_k,
        config.base_iters,
    );

    // Groups over the base-cluster centres, weighted by size.
    on_stage(Stage::Groups);
    let base_ids: Vec<u32> = base.iter().map(|c| c.id).collect();
    let base_centers: Vec<[f64; 2]> = base.iter().map(|c| c.center).collect();
    let base_weights: Vec<f64> = base.iter().map(|c| c.members.len() as f64).collect();
    let selection = clustering::select_groups(
        &base_centers,
        &base_weights,
        &base_ids,
        &previous.group_clusterings,
        previous.k_smoother,
        config,
    );
    let chosen = selection
        .chosen_k
        .and_then(|k| selection.clusterings.get(&k))
        .cloned()
        .unwrap_or_default();

    // Row → base cluster → group.
    let mut base_of_row = vec![None; matrix.n_participants()];
    for (b, c) in base.iter().enumerate() {
        for &m in &c.members {
            base_of_row[clustered_rows[m as usize] as usize] = Some(b);
        }
    }
    let mut group_of_base = vec![None; base.len()];
    for (g, c) in chosen.iter().enumerate() {
        for &b in &c.members {
            group_of_base[b as usize] = Some(g as u32);
        }
    }
    let group_of: Vec<Option<u32>> = base_of_row
        .iter()
        .map(|b| b.and_then(|b| group_of_base[b]))
        .collect();

    on_stage(Stage::Tally);
    let base_votes = Tally::count(matrix, base.len(), |row| base_of_row[row]);
    let group_members: Vec<Vec<usize>> = chosen
        .iter()
        .map(|c| c.members.iter().map(|&b| b as usize).collect())
        .collect();
    let group_votes = base_votes.merge(&group_members);

    let groups: Vec<Group> = chosen
        .iter()
        .map(|c| Group {
            id: c.id,
            center: c.center,
            base_clusters: c.members.iter().map(|&b| base_ids[b as usize]).collect(),
            size: c
                .members
                .iter()
                .map(|&b| base[b as usize].members.len())
                .sum(),
        })
        .collect();

    let group_slices: Vec<&[Counts]> = (0..groups.len()).map(|g| group_votes.bucket(g)).collect();
    on_stage(Stage::Repness);
    let rep = repness::representative_statements(
        matrix.statements(),
        &moderated_out,
        &group_slices,
        config.rep_statements_per_group,
    );
    on_stage(Stage::Consensus);
    let consensus = consensus::consensus_statements(
        matrix.statements(),
        &moderated_out,
        &totals,
        config.consensus_per_side,
    );
    on_stage(Stage::Priorities);
    let n_cols = matrix.n_statements();
    let mut group_aware_consensus = Vec::with_capacity(n_cols);
    let mut priorities = Vec::with_capacity(n_cols);
    for c in 0..n_cols {
        let per_group: Vec<Counts> = group_slices.iter().map(|g| g[c]).collect();
        group_aware_consensus.push([
            consensus::group_aware(&per_group, |x| x.agree),
            consensus::group_aware(&per_group, |x| x.disagree),
        ]);
        let grouped = per_group.iter().fold(Counts::default(), |a, &b| a.plus(b));
        priorities.push(priority::priority(
            grouped,
            extremity[c],
            statement_info[c].is_meta,
        ));
    }

    let state = MathState {
        tick: previous.tick + 1,
        in_conv: clustered_ids.clone(),
        components: Some(WarmComponents {
            statements: matrix.statements().to_vec(),
            vectors: pc.vectors.clone(),
        }),
        base_clusters: clustering::to_stored(&base, &clustered_ids),
        group_clusterings: selection
            .clusterings
            .iter()
            .map(|(&k, cs)| (k, clustering::to_stored(cs, &base_ids)))
            .collect::<std::collections::BTreeMap<u32, Vec<StoredCluster<u32>>>>(),
        k_smoother: selection.smoother,
    };

    let analysis = Analysis {
        tick: state.tick,
        participants: matrix.participants().to_vec(),
        vote_counts: (0..matrix.n_participants())
            .map(|r| matrix.row_len(r) as u32)
            .collect(),
        in_conv,
        projections,
        group_of,
        statements: matrix.statements().to_vec(),
        statement_info,
        center: columns.center,
        components: pc.vectors,
        explained_variance: pc.variance,
        pca_iterations: (pc.iterations, pc.converged),
        statement_projections,
        extremity,
        base_clusters: base
            .iter()
            .map(|c| BaseCluster {
                id: c.id,
                center: c.center,
                members: c
                    .members
                    .iter()
                    .map(|&m| clustered_rows[m as usize])
                    .collect(),
            })
            .collect(),
        group_clusterings: selection.clusterings,
        silhouettes: selection.silhouettes,
        k_smoother: selection.smoother,
        groups,
        base_votes,
        group_votes,
        totals,
        repness: rep,
        consensus,
        group_aware_consensus,
        priorities,
    };
    on_stage(Stage::Done);
    Ok(Update { analysis, state })
}
