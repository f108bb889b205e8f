//! What the server keeps in memory per conversation: the latest computed
//! report, the votes that arrived since, and the event stream that tells
//! subscribers about both.

use polder_core::{Analysis, Report, StatementCatalog, VoteMatrix};
use polder_store::Statement;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tokio::sync::{Notify, broadcast};

/// Events sent to subscribers of a conversation.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// SSE event name: `votes`, `progress` or `report`.
    pub name: &'static str,
    /// JSON payload.
    pub data: Arc<str>,
}

impl LiveEvent {
    /// An event with a serialisable payload.
    pub fn new(name: &'static str, payload: &impl Serialize) -> Self {
        // Serialising plain structs of numbers and strings cannot fail.
        let data = serde_json::to_string(payload).unwrap_or_else(|_| "null".to_owned());
        LiveEvent {
            name,
            data: data.into(),
        }
    }
}

/// The shortest time between two `votes` events of one conversation.
pub const VOTES_EVENT_INTERVAL_MS: i64 = 250;

/// Payload of the `votes` event.
#[derive(Debug, Serialize)]
struct VotesEvent {
    /// Votes this server node acknowledged since it started.
    received: u64,
    /// Acknowledged votes the current report does not reflect yet.
    pending: u64,
    /// Sequence number of the newest acknowledged vote in this batch.
    last_seq: u64,
}

/// One computed report and everything derived from it that requests need.
#[derive(Debug)]
pub struct Published {
    /// The analysis behind the report.
    pub analysis: Arc<Analysis>,
    /// The matrix the analysis ran on.
    pub matrix: Arc<VoteMatrix>,
    /// Moderation facts at compute time.
    pub catalog: Arc<StatementCatalog>,
    /// The native report, without the per-participant list.
    pub report: Arc<Report>,
    /// `report` serialised once, shared by every request.
    pub report_json: Arc<str>,
    /// Strong validator for the report.
    pub etag: String,
    /// Votes (current, one per participant × statement) it reflects.
    pub vote_count: u64,
    /// Sequence number of the newest vote it reflects.
    pub last_seq: u64,
    /// When it was computed (ms since the epoch).
    pub computed_ms: i64,
}

/// The in-memory side of one conversation.
#[derive(Debug)]
pub struct Live {
    /// Subscribers' channel.
    pub events: broadcast::Sender<LiveEvent>,
    /// Woken when votes or moderation change the input of the math.
    pub dirty: Notify,
    /// The latest report, if one was computed.
    published: RwLock<Option<Arc<Published>>>,
    /// Votes acknowledged after the matrix of the latest report was loaded,
    /// by participant: (sequence number, statement). They let "next
    /// statement" skip what a participant just voted on.
    pending: Mutex<HashMap<u32, Vec<(u64, u32)>>>,
    /// Votes acknowledged by this node (for the `votes` events).
    pub votes_received: AtomicU64,
    /// When the last `votes` event went out (ms since the epoch), so that
    /// a flood of votes becomes a few events a second, not one per vote.
    last_votes_event_ms: AtomicI64,
    /// The conversation's statements, shared by every "next statement"
    /// request until this node adds or moderates one, or the recompute
    /// worker reloads them (which also picks up other nodes' changes).
    statements: RwLock<Option<Arc<Vec<Statement>>>>,
    /// Bumped whenever `statements` is invalidated, so that a list read
    /// before an invalidation is never cached after it.
    statements_generation: AtomicU64,
    /// Set when stored votes were removed: the next recompute reloads
    /// everything instead of merging newer votes.
    reset: AtomicBool,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            events: broadcast::channel(256).0,
            dirty: Notify::new(),
            published: RwLock::new(None),
            pending: Mutex::new(HashMap::new()),
            votes_received: AtomicU64::new(0),
            last_votes_event_ms: AtomicI64::new(0),
            statements: RwLock::new(None),
            statements_generation: AtomicU64::new(0),
            reset: AtomicBool::new(false),
        }
    }
}

impl Live {
    /// The latest report.
    pub fn published(&self) -> Option<Arc<Published>> {
        self.published
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Installs a new report and forgets pending votes it covers.
    pub fn publish(&self, published: Arc<Published>) {
        let seq = published.last_seq;
        *self
            .published
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(published);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.retain(|_, votes| {
            votes.retain(|&(s, _)| s > seq);
            !votes.is_empty()
        });
    }

    /// Records acknowledged votes `(seq, participant, statement)`, wakes the
    /// recompute and, at most every [`VOTES_EVENT_INTERVAL_MS`], tells
    /// subscribers with a `votes` event.
    pub fn votes_accepted(&self, votes: &[(u64, u32, u32)]) {
        {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for &(seq, pid, tid) in votes {
                pending.entry(pid).or_default().push((seq, tid));
            }
        }
        let received = self
            .votes_received
            .fetch_add(votes.len() as u64, Ordering::Relaxed)
            + votes.len() as u64;
        self.dirty.notify_one();
        let now = crate::time::now_ms();
        let last = self.last_votes_event_ms.load(Ordering::Relaxed);
        // Only the caller that wins the exchange sends, so concurrent
        // requests do not each emit one.
        if now - last >= VOTES_EVENT_INTERVAL_MS
            && self
                .last_votes_event_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // Counted only when an event goes out: summing over every
            // participant on each vote would put that walk on the hot path.
            let pending_total: usize = self
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .map(Vec::len)
                .sum();
            let last_seq = votes.iter().map(|&(seq, _, _)| seq).max().unwrap_or(0);
            self.emit(LiveEvent::new(
                "votes",
                &VotesEvent {
                    received,
                    pending: pending_total as u64,
                    last_seq,
                },
            ));
        }
    }

    /// Statements `pid` voted on after the latest report's matrix was loaded.
    pub fn pending_for(&self, pid: u32) -> Vec<u32> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&pid)
            .map(|v| v.iter().map(|&(_, t)| t).collect())
            .unwrap_or_default()
    }

    /// The cached statement list and the generation to pass back to
    /// [`Live::cache_statements`] after a reload.
    pub fn cached_statements(&self) -> (Option<Arc<Vec<Statement>>>, u64) {
        let generation = self.statements_generation.load(Ordering::SeqCst);
        let cached = self
            .statements
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        (cached, generation)
    }

    /// Caches a statement list read from the store, unless the list was
    /// invalidated since `generation` was taken (the read may be stale).
    pub fn cache_statements(&self, statements: Arc<Vec<Statement>>, generation: u64) {
        let mut slot = self
            .statements
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if self.statements_generation.load(Ordering::SeqCst) == generation {
            *slot = Some(statements);
        }
    }

    /// Forgets the cached statements (one was added or moderated) and
    /// wakes the recompute.
    pub fn statements_changed(&self) {
        let mut slot = self
            .statements
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.statements_generation.fetch_add(1, Ordering::SeqCst);
        *slot = None;
        drop(slot);
        self.dirty.notify_one();
    }

    /// Asks the next recompute to start from scratch.
    pub fn request_reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
    }

    /// Whether a reset was asked for; clears the request.
    pub fn take_reset(&self) -> bool {
        self.reset.swap(false, Ordering::SeqCst)
    }

    /// Sends an event to current subscribers (none is fine).
    pub fn emit(&self, event: LiveEvent) {
        let _ = self.events.send(event);
    }
}

/// Every conversation's live state, created on first use.
#[derive(Debug, Default)]
pub struct Hub {
    conversations: Mutex<HashMap<String, Arc<Live>>>,
}

impl Hub {
    /// The live state of `conversation` and whether it was just created
    /// (so the caller starts its recompute worker).
    pub fn get_or_create(&self, conversation: &str) -> (Arc<Live>, bool) {
        let mut map = self
            .conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(live) = map.get(conversation) {
            return (Arc::clone(live), false);
        }
        let live = Arc::new(Live::default());
        map.insert(conversation.to_owned(), Arc::clone(&live));
        (live, true)
    }

    /// The live state, if it exists.
    pub fn get(&self, conversation: &str) -> Option<Arc<Live>> {
        self.conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(conversation)
            .cloned()
    }

    /// Number of conversations with live state.
    pub fn len(&self) -> usize {
        self.conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no conversation has live state.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
