//! Counters exported at `GET /metrics` in the Prometheus text format.
//!
//! A handful of atomics rendered by hand: the set is small and fixed, and
//! a metrics framework would add a registry, macros and a dependency tree
//! for no gain.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Subtracts one (never below zero).
    pub fn dec(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Every metric the server exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// HTTP responses with a 2xx/3xx status.
    pub responses_ok: Counter,
    /// HTTP responses with a 4xx status.
    pub responses_client_error: Counter,
    /// HTTP responses with a 5xx status.
    pub responses_server_error: Counter,
    /// Votes acknowledged.
    pub votes: Counter,
    /// Recomputes finished.
    pub recomputes: Counter,
    /// Recomputes that failed.
    pub recompute_failures: Counter,
    /// Total recompute time in microseconds.
    pub recompute_micros: Counter,
    /// Open event streams.
    pub sse_clients: Gauge,
    /// Requests refused by a rate limit.
    pub rate_limited: Counter,
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self, live_conversations: usize) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        metric(
            "polder_http_responses_total",
            "counter",
            "HTTP responses by status class.",
            &[
                ("{class=\"ok\"}", self.responses_ok.get()),
                (
                    "{class=\"client_error\"}",
                    self.responses_client_error.get(),
                ),
                (
                    "{class=\"server_error\"}",
                    self.responses_server_error.get(),
                ),
            ],
        );
        metric(
            "polder_votes_total",
            "counter",
            "Votes acknowledged (durably stored).",
            &[("", self.votes.get())],
        );
        metric(
            "polder_recomputes_total",
            "counter",
            "Report recomputes finished.",
            &[("", self.recomputes.get())],
        );
        metric(
            "polder_recompute_failures_total",
            "counter",
            "Report recomputes that failed.",
            &[("", self.recompute_failures.get())],
        );
        let _ = writeln!(
            out,
            "# HELP polder_recompute_seconds_total Time spent recomputing reports.\n\
             # TYPE polder_recompute_seconds_total counter\n\
             polder_recompute_seconds_total {:.6}",
            self.recompute_micros.get() as f64 / 1e6
        );
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "polder_sse_clients",
            "gauge",
            "Open Server-Sent Events streams.",
            self.sse_clients.get(),
        );
        metric(
            "polder_rate_limited_total",
            "counter",
            "Requests refused by a rate limit.",
            self.rate_limited.get(),
        );
        metric(
            "polder_live_conversations",
            "gauge",
            "Conversations with a live recompute worker.",
            live_conversations as u64,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.votes.add(3);
        m.sse_clients.inc();
        m.sse_clients.dec();
        m.sse_clients.dec();
        let text = m.render(2);
        assert!(text.contains("polder_votes_total 3\n"));
        assert!(text.contains("polder_sse_clients 0\n"));
        assert!(text.contains("polder_live_conversations 2\n"));
        assert!(text.contains("# TYPE polder_votes_total counter"));
    }
}
