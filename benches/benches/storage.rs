//! Storage benchmarks: durable vote ingest, bulk import, matrix load.
//!
//! - `durable_votes/*`: 64 concurrent writers, each casting votes one call
//!   at a time (`single`) or 100 votes a call (`batched_x100`); a vote counts
//!   once `cast_votes` returned, i.e. once it is committed durably. The
//!   throughput criterion reports is durable votes per second.
//! - `import/*`: one bulk import (`polder import`'s path) of a synthetic
//!   conversation of `POLDER_BENCH_VOTES` votes (default 1,000,000).
//! - `load_matrix/*`: streaming that conversation's current votes into a
//!   `VoteMatrix`.
//!
//! SQLite runs on a file in the system temporary directory (`synchronous=FULL`).
//! PostgreSQL runs when `DATABASE_URL` is set, e.g. under
//! `../shared/scripts/with-postgres`. Note that script starts PostgreSQL
//! with `fsync=off` and `synchronous_commit=off`: its figures are an upper
//! bound, not durable ones (see benches/README.md for a run with fsync on).
//!
//! ```sh
//! cargo bench -p polder-benches --bench storage
//! ../shared/scripts/with-postgres cargo bench -p polder-benches --bench storage
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use polder_core::{Moderation, ParticipantId, StatementId, Vote, VoteEvent};
use polder_store::{ImportRequest, NewConversation, NewParticipant, NewStatement, NewVote, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const WRITERS: u64 = 64;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start a runtime: {e}"))
}

/// The databases to measure: a fresh SQLite file, and PostgreSQL if available.
fn backends(dir: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut list = vec![(
        "sqlite",
        format!("sqlite://{}", dir.join("bench.db").display()),
    )];
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.is_empty()
    {
        list.push(("postgres", url));
    }
    list
}

fn check<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("benchmark setup failed: {e}"))
}

/// A conversation with `participants` participants and `statements` statements.
async fn voting_conversation(store: &Arc<dyn Store>, participants: u32, statements: u32) -> String {
    let c = check(store.create_conversation(NewConversation::default()).await);
    for _ in 0..participants {
        check(
            store
                .add_participant(&c.id, NewParticipant::default())
                .await,
        );
    }
    for i in 0..statements {
        check(
            store
                .add_statement(
                    &c.id,
                    NewStatement {
                        text: format!("Statement {i}"),
                        moderation: Moderation::Accepted,
                        ..Default::default()
                    },
                )
                .await,
        );
    }
    c.id
}

/// Casts `total` votes from `WRITERS` concurrent tasks, `per_call` votes a call.
async fn cast_concurrently(
    store: &Arc<dyn Store>,
    conversation: &str,
    total: u64,
    per_call: u64,
    counter: &Arc<AtomicU32>,
) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let calls = (total / per_call).div_ceil(WRITERS);
        let store = Arc::clone(store);
        let conversation = conversation.to_string();
        let counter = Arc::clone(counter);
        tasks.push(tokio::spawn(async move {
            for _ in 0..calls {
                let votes = (0..per_call)
                    .map(|_| {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        NewVote {
                            participant: ParticipantId(w as u32),
                            statement: StatementId(n % 100),
                            vote: [Vote::Agree, Vote::Pass, Vote::Disagree][(n % 3) as usize],
                            client_key: None,
                        }
                    })
                    .collect();
                check(store.cast_votes(&conversation, votes).await);
            }
        }));
    }
    for t in tasks {
        check(t.await);
    }
    started.elapsed()
}

fn durable_votes(c: &mut Criterion) {
    let rt = runtime();
    let dir = check(tempfile::tempdir());
    let mut group = c.benchmark_group("storage/durable_votes");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for (name, url) in backends(dir.path()) {
        let store = rt.block_on(async { check(polder_store::open(&url).await) });
        let conversation = rt.block_on(voting_conversation(&store, WRITERS as u32, 100));
        let counter = Arc::new(AtomicU32::new(0));
        for per_call in [1u64, 100] {
            let label = if per_call == 1 {
                "single"
            } else {
                "batched_x100"
            };
            group.throughput(Throughput::Elements(WRITERS * per_call));
            group.bench_function(BenchmarkId::new(label, name), |b| {
                b.iter_custom(|iters| {
                    rt.block_on(cast_concurrently(
                        &store,
                        &conversation,
                        iters * WRITERS * per_call,
                        per_call,
                        &counter,
                    ))
                })
            });
        }
    }
    group.finish();
}

/// Number of votes of the synthetic import.
fn import_size() -> usize {
    std::env::var("POLDER_BENCH_VOTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// A synthetic conversation, deterministic: every participant casts 100 votes
/// on statements drawn at random from 400; a statement drawn twice is a
/// changed vote (about 12 % of the history).
fn synthetic(votes: usize) -> polder_formats::Conversation {
    const STATEMENTS: u32 = 400;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let statements = (0..STATEMENTS)
        .map(|i| polder_formats::Statement {
            id: StatementId(i),
            text: format!("Synthetic statement {i}"),
            author: None,
            created: Some(0),
            moderation: Moderation::Accepted,
            is_meta: false,
            is_seed: false,
            language: None,
        })
        .collect();
    let per_participant = 100usize;
    let events = (0..votes)
        .map(|i| {
            let r = next();
            VoteEvent {
                participant: ParticipantId((i / per_participant) as u32),
                statement: StatementId((r % u64::from(STATEMENTS)) as u32),
                vote: [Vote::Agree, Vote::Pass, Vote::Disagree][(r >> 32) as usize % 3],
                timestamp: i as i64,
            }
        })
        .collect();
    polder_formats::Conversation {
        statements,
        votes: events,
        ..Default::default()
    }
}

fn import_and_load(c: &mut Criterion) {
    let rt = runtime();
    let dir = check(tempfile::tempdir());
    let n = import_size();
    let data = synthetic(n);
    let request = check(ImportRequest::from_data(
        NewConversation::default(),
        data,
        Vec::new(),
    ));
    let stores: Vec<(&str, Arc<dyn Store>)> = backends(dir.path())
        .into_iter()
        .map(|(name, url)| {
            (
                name,
                rt.block_on(async { check(polder_store::open(&url).await) }),
            )
        })
        .collect();

    let mut import = c.benchmark_group("storage/import");
    import.sample_size(10);
    import.measurement_time(Duration::from_secs(30));
    import.throughput(Throughput::Elements(n as u64));
    for (name, store) in &stores {
        import.bench_function(BenchmarkId::new(format!("{n}_votes"), name), |b| {
            b.iter(|| check(rt.block_on(store.import(request.clone(), Arc::new(|_| {})))).id)
        });
    }
    import.finish();

    let mut load = c.benchmark_group("storage/load_matrix");
    load.sample_size(10);
    load.throughput(Throughput::Elements(n as u64));
    for (name, store) in &stores {
        // One import to load from, outside the measurement (and run even when
        // a filter skips the import benchmark).
        let id = check(rt.block_on(store.import(request.clone(), Arc::new(|_| {})))).id;
        load.bench_function(BenchmarkId::new(format!("{n}_votes"), name), |b| {
            b.iter(|| check(rt.block_on(store.load_matrix(&id, None))).n_votes)
        });
    }
    load.finish();
}

criterion_group!(benches, durable_votes, import_and_load);
criterion_main!(benches);
