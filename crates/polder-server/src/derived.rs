//! Reports computed on demand from the stored votes: per cohort (panel,
//! open public, everyone) and with or without suspect accounts.
//!
//! Each is a cold, from-scratch analysis of one subset of the same loaded
//! matrix, so that the subsets are comparable with each other (the live
//! report is warm-started and would differ slightly). Results are cached per
//! conversation until a vote, a join, an erasure or a moderation changes
//! the inputs.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use polder_core::integrity::{IntegrityConfig, SuspectCluster, identical_vote_clusters};
use polder_core::{
    Analysis, MathState, ParticipantId, Report, ReportContext, StatementCatalog, VoteMatrix,
};
use polder_store::{Cohort, Participant};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

/// One subset's analysis and its report.
#[derive(Debug)]
pub struct Subset {
    /// The math.
    pub analysis: Analysis,
    /// The report of it.
    pub report: Report,
}

/// The cohorts of one conversation, analysed side by side.
#[derive(Debug)]
pub struct Cohorts {
    /// Everyone.
    pub all: Subset,
    /// Participants who came in with an invitation or eligibility token.
    pub panel: Option<Subset>,
    /// Participants who joined through the open link.
    pub open: Option<Subset>,
}

/// Everyone, and everyone but the suspect accounts.
#[derive(Debug)]
pub struct Screened {
    /// What the detector found.
    pub clusters: Vec<SuspectCluster>,
    /// Everyone.
    pub with_suspects: Subset,
    /// Without the accounts in `clusters`.
    pub without_suspects: Subset,
}

/// Cached derived reports, by conversation and kind.
#[derive(Debug, Default)]
pub struct DerivedCache {
    cohorts: Mutex<HashMap<String, (u64, Arc<Cohorts>)>>,
    screened: Mutex<HashMap<String, (u64, Arc<Screened>)>>,
}

/// What a derived report depends on, loaded once.
struct Inputs {
    catalog: StatementCatalog,
    participants: Vec<Participant>,
    key: u64,
}

async fn inputs(state: &AppState, conversation: &str) -> ApiResult<Inputs> {
    let store = &state.store;
    let participants = store.list_participants(conversation).await?;
    let statements = store.list_statements(conversation).await?;
    let catalog = polder_store::catalog_of(&statements);
    // The counters say whether the votes changed without loading them: the
    // matrix is read only on a cache miss.
    let mut hasher = DefaultHasher::new();
    store.last_seq(conversation).await?.hash(&mut hasher);
    store.vote_count(conversation).await?.hash(&mut hasher);
    for p in &participants {
        (p.id.0, p.cohort == Cohort::Panel, p.erased).hash(&mut hasher);
    }
    for s in catalog.iter() {
        (s.id.0, format!("{:?}", s.moderation), s.is_meta).hash(&mut hasher);
    }
    Ok(Inputs {
        catalog,
        participants,
        key: hasher.finish(),
    })
}

fn analyse(
    matrix: &VoteMatrix,
    catalog: &StatementCatalog,
    state: &AppState,
) -> Result<Subset, polder_core::MathError> {
    let update = polder_core::update(&MathState::default(), matrix, catalog, &state.math_config())?;
    let context = ReportContext {
        last_vote_timestamp: None,
        last_mod_timestamp: None,
        seed: state.config.seed,
        include_participants: false,
    };
    let report = Report::new(&update.analysis, &context);
    Ok(Subset {
        analysis: update.analysis,
        report,
    })
}

/// Runs `work` on the rayon pool and waits for it without blocking a worker.
async fn on_pool<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(work());
    });
    rx.await
        .map_err(|_| ApiError::internal("a derived-report task ended"))
}

/// The panel, the open public and everyone, analysed from the same votes.
pub async fn cohorts(state: &Arc<AppState>, conversation: &str) -> ApiResult<Arc<Cohorts>> {
    let inputs = inputs(state, conversation).await?;
    if let Some((key, hit)) = lock(&state.derived.cohorts).get(conversation)
        && *key == inputs.key
    {
        return Ok(Arc::clone(hit));
    }
    let key = inputs.key;
    let matrix = state.store.load_matrix(conversation, None).await?.matrix;
    let owned = Arc::clone(state);
    let result = on_pool(move || {
        let panel: HashSet<ParticipantId> = inputs
            .participants
            .iter()
            .filter(|p| p.cohort == Cohort::Panel)
            .map(|p| p.id)
            .collect();
        let all = analyse(&matrix, &inputs.catalog, &owned)?;
        let part = |in_panel: bool| -> Result<Option<Subset>, polder_core::MathError> {
            let subset = matrix.retain_participants(|p| panel.contains(&p) == in_panel);
            if subset.n_participants() == 0 {
                return Ok(None);
            }
            analyse(&subset, &inputs.catalog, &owned).map(Some)
        };
        Ok::<_, polder_core::MathError>(Cohorts {
            panel: part(true)?,
            open: part(false)?,
            all,
        })
    })
    .await?
    .map_err(ApiError::internal)?;
    let result = Arc::new(result);
    lock(&state.derived.cohorts).insert(conversation.to_owned(), (key, Arc::clone(&result)));
    Ok(result)
}

/// Everyone, the suspect accounts, and everyone without them.
pub async fn screened(
    state: &Arc<AppState>,
    conversation: &str,
    config: IntegrityConfig,
) -> ApiResult<Arc<Screened>> {
    let inputs = inputs(state, conversation).await?;
    let mut hasher = DefaultHasher::new();
    inputs.key.hash(&mut hasher);
    format!("{config:?}").hash(&mut hasher);
    let key = hasher.finish();
    if let Some((cached, hit)) = lock(&state.derived.screened).get(conversation)
        && *cached == key
    {
        return Ok(Arc::clone(hit));
    }
    let matrix = state.store.load_matrix(conversation, None).await?.matrix;
    let owned = Arc::clone(state);
    let result = on_pool(move || {
        let joined: HashMap<ParticipantId, i64> = inputs
            .participants
            .iter()
            .map(|p| (p.id, p.created_ms))
            .collect();
        let clusters = identical_vote_clusters(&matrix, &|p| joined.get(&p).copied(), &config);
        let suspects: HashSet<ParticipantId> = clusters
            .iter()
            .flat_map(|c| c.participants.iter().copied())
            .collect();
        let with_suspects = analyse(&matrix, &inputs.catalog, &owned)?;
        let rest = matrix.retain_participants(|p| !suspects.contains(&p));
        let without_suspects = analyse(&rest, &inputs.catalog, &owned)?;
        Ok::<_, polder_core::MathError>(Screened {
            clusters,
            with_suspects,
            without_suspects,
        })
    })
    .await?
    .map_err(ApiError::internal)?;
    let result = Arc::new(result);
    lock(&state.derived.screened).insert(conversation.to_owned(), (key, Arc::clone(&result)));
    Ok(result)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
