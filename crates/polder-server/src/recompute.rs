//! Background recompute: one worker per conversation, woken by new votes,
//! debounced, incremental, with the math on the rayon pool so that the HTTP
//! workers only ever wait for IO.

use crate::live::{Live, LiveEvent, Published};
use crate::state::AppState;
use polder_core::{
    MathState, Report, ReportContext, StatementCatalog, VoteMatrix, report::MATH_VERSION,
};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a worker carries from one recompute to the next.
#[derive(Debug, Default)]
struct WorkerMath {
    state: MathState,
    matrix: Option<Arc<VoteMatrix>>,
    catalog: Option<Arc<StatementCatalog>>,
    last_seq: u64,
    /// Votes removed by erasure as of the last load (see [`removed_votes`]).
    removed: u64,
    tick: u64,
    last_snapshot: Option<Instant>,
}

/// Payload of the `progress` event.
#[derive(Debug, Serialize)]
struct Progress<'a> {
    stage: &'a str,
    votes: u64,
}

/// Payload of the `report` event: the header fields, then the report itself.
#[derive(Debug, Serialize)]
struct ReportEvent<'a> {
    etag: &'a str,
    vote_count: u64,
    last_seq: u64,
    computed_ms: i64,
    report: &'a serde_json::value::RawValue,
}

/// How many votes erasure has removed from the conversation, if it can be
/// told: sequence numbers are dense and votes are only ever appended, except
/// that erasure under the Remove policy deletes a participant's votes, so
/// the gap between the last sequence number and the number of votes is the
/// number removed. `None` when a vote arrived between the reads.
async fn removed_votes(
    store: &dyn polder_store::Store,
    conversation: &str,
    last_seq: u64,
) -> Result<Option<u64>, String> {
    let count = store
        .vote_count(conversation)
        .await
        .map_err(|e| e.to_string())?;
    let again = store
        .last_seq(conversation)
        .await
        .map_err(|e| e.to_string())?;
    Ok((again == last_seq).then(|| last_seq.saturating_sub(count)))
}

/// Runs until the server stops: recompute when votes arrive, otherwise
/// check now and then for votes other server nodes wrote.
pub async fn run(state: Arc<AppState>, conversation: String, live: Arc<Live>) {
    let mut math = WorkerMath::default();
    let debounce = Duration::from_millis(state.config.recompute_debounce_ms);
    let poll = Duration::from_millis(state.config.poll_interval_ms.max(100));
    loop {
        if let Err(error) = recompute(&state, &conversation, &live, &mut math).await {
            tracing::warn!(conversation, %error, "recompute failed; retrying on the next vote");
            state.metrics.recompute_failures.inc();
        }
        tokio::select! {
            () = live.dirty.notified() => {}
            () = tokio::time::sleep(poll) => {}
            () = state.shutdown.cancelled() => return,
        }
        // Let a burst of votes settle into one recompute.
        tokio::time::sleep(debounce).await;
    }
}

/// One recompute, skipped when nothing changed since the last one.
async fn recompute(
    state: &AppState,
    conversation: &str,
    live: &Live,
    math: &mut WorkerMath,
) -> Result<(), String> {
    let store = &state.store;
    if live.take_reset() {
        *math = WorkerMath {
            tick: math.tick,
            last_snapshot: math.last_snapshot,
            ..WorkerMath::default()
        };
    }
    let (_, generation) = live.cached_statements();
    let statements = Arc::new(
        store
            .list_statements(conversation)
            .await
            .map_err(|e| e.to_string())?,
    );
    live.cache_statements(Arc::clone(&statements), generation);
    let catalog = Arc::new(polder_store::catalog_of(&statements));
    let last_seq = store
        .last_seq(conversation)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(removed) = removed_votes(store.as_ref(), conversation, last_seq).await? {
        if math.matrix.is_some() && removed != math.removed {
            // Another node (or this one) erased a participant's votes: they
            // are not "newer than a sequence number", so start again from
            // the whole matrix.
            *math = WorkerMath {
                tick: math.tick,
                last_snapshot: math.last_snapshot,
                ..WorkerMath::default()
            };
        }
        math.removed = removed;
    }
    let unchanged_catalog = math.catalog.as_deref() == Some(&*catalog);
    if math.matrix.is_some() && last_seq == math.last_seq && unchanged_catalog {
        return Ok(());
    }
    let started = Instant::now();
    let since = math.matrix.as_ref().map(|_| math.last_seq);
    let loaded = store
        .load_matrix(conversation, since)
        .await
        .map_err(|e| e.to_string())?;
    // Votes written between the two reads are in `loaded`; its own
    // sequence number is the one to resume from.
    let last_seq = loaded.last_seq.max(last_seq);
    let previous = math.matrix.clone();
    let prior_state = std::mem::take(&mut math.state);
    let config = state.math_config();
    let events = live.events.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let catalog_for_math = Arc::clone(&catalog);
    rayon::spawn(move || {
        let matrix = match previous {
            Some(previous) if loaded.matrix.n_votes() > 0 => previous.merge(&loaded.matrix),
            Some(previous) => (*previous).clone(),
            None => loaded.matrix,
        };
        let votes = matrix.n_votes() as u64;
        let result = polder_core::update_observed(
            &prior_state,
            &matrix,
            &catalog_for_math,
            &config,
            &mut |stage| {
                let _ = events.send(LiveEvent::new(
                    "progress",
                    &Progress {
                        stage: stage.name(),
                        votes,
                    },
                ));
            },
        );
        let _ = tx.send((matrix, result, prior_state));
    });
    let (matrix, result, prior_state) = rx.await.map_err(|_| "the math task ended".to_owned())?;
    let update = match result {
        Ok(update) => update,
        Err(error) => {
            math.state = prior_state;
            return Err(error.to_string());
        }
    };
    math.tick += 1;
    let context = ReportContext {
        last_vote_timestamp: None,
        last_mod_timestamp: None,
        seed: state.config.seed,
        include_participants: false,
    };
    let report = Report::new(&update.analysis, &context);
    let report_json: Arc<str> = serde_json::to_string(&report)
        .map_err(|e| e.to_string())?
        .into();
    let vote_count = matrix.n_votes() as u64;
    let etag = format!("\"{last_seq}-{}\"", math.tick);
    let computed_ms = crate::time::now_ms();
    let published = Arc::new(Published {
        analysis: Arc::new(update.analysis),
        matrix: Arc::new(matrix),
        catalog: Arc::clone(&catalog),
        report: Arc::new(report),
        report_json: Arc::clone(&report_json),
        etag: etag.clone(),
        vote_count,
        last_seq,
        computed_ms,
    });
    math.state = update.state;
    math.matrix = Some(Arc::clone(&published.matrix));
    math.catalog = Some(catalog);
    math.last_seq = last_seq;
    live.publish(Arc::clone(&published));
    state.metrics.recomputes.inc();
    state
        .metrics
        .recompute_micros
        .add(started.elapsed().as_micros() as u64);

    if let Ok(raw) = serde_json::value::RawValue::from_string(report_json.to_string()) {
        live.emit(LiveEvent::new(
            "report",
            &ReportEvent {
                etag: &etag,
                vote_count,
                last_seq,
                computed_ms,
                report: &raw,
            },
        ));
    }

    let due = math
        .last_snapshot
        .is_none_or(|t| t.elapsed() >= Duration::from_millis(state.config.snapshot_interval_ms));
    if due && vote_count > 0 {
        store
            .save_snapshot(
                conversation,
                polder_store::NewSnapshot {
                    math_version: MATH_VERSION.to_owned(),
                    format: polder_core::report::REPORT_FORMAT.to_owned(),
                    vote_count,
                    last_seq,
                    computed_ms,
                    report_json: report_json.to_string(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        math.last_snapshot = Some(Instant::now());
    }
    Ok(())
}
