//! HTTP load bench: a bounded, self-stopping load generator against a
//! polder server on 127.0.0.1, measuring durable votes per second and
//! vote latency (p50, p99) while background recomputes run.
//!
//! `cargo bench -p polder-benches --bench http_load` runs SQLite; with
//! `DATABASE_URL` set (e.g. under `../shared/scripts/with-postgres`) it runs
//! PostgreSQL too. `POLDER_LOAD_SECONDS` (default 10) and
//! `POLDER_LOAD_CONNECTIONS` (default 64) change the load.
//!
//! The client speaks HTTP/1.1 over raw keep-alive TCP connections so that
//! the generator itself costs little of the two cores it shares with the
//! server.

use polder_server::{Running, ServerConfig, build_state, start};
use polder_store::{NewConversation, NewParticipant, NewStatement};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STATEMENTS: u32 = 100;
const PARTICIPANTS: u32 = 5_000;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Reads one HTTP response; returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(status);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One connection voting as a rotating set of participants until `stop`.
async fn client(
    addr: std::net::SocketAddr,
    id: String,
    tokens: Vec<String>,
    seed: u64,
    stop: Instant,
) -> (Vec<u32>, u64) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut buf = Vec::with_capacity(8192);
    let mut x = seed | 1;
    while Instant::now() < stop {
        // xorshift: cheap, deterministic per connection.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let token = &tokens[(x % tokens.len() as u64) as usize];
        let tid = (x >> 20) % u64::from(STATEMENTS);
        let vote = ["agree", "disagree", "pass"][((x >> 40) % 3) as usize];
        let body = format!(r#"{{"statement_id":{tid},"vote":"{vote}"}}"#);
        let request = format!(
            "POST /api/v1/conversations/{id}/votes HTTP/1.1\r\nHost: bench\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let started = Instant::now();
        stream.write_all(request.as_bytes()).await.expect("write");
        let status = read_response(&mut stream, &mut buf).await.expect("read");
        latencies.push(started.elapsed().as_micros() as u32);
        if status != 200 {
            errors += 1;
        }
    }
    (latencies, errors)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

async fn run(url: &str, label: &str, seconds: u64, connections: u64) {
    let store = polder_store::open(url).await.expect("store");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let id = format!("load-{nanos}");
    store
        .create_conversation(NewConversation {
            id: Some(id.clone()),
            topic: "Load".into(),
            ..NewConversation::default()
        })
        .await
        .expect("conversation");
    for i in 0..STATEMENTS {
        store
            .add_statement(
                &id,
                NewStatement {
                    text: format!("Statement {i}"),
                    moderation: polder_core::Moderation::Accepted,
                    ..NewStatement::default()
                },
            )
            .await
            .expect("statement");
    }
    let config = ServerConfig {
        bind: "127.0.0.1:0".into(),
        database_url: url.into(),
        client_rate_per_minute: u32::MAX,
        participant_rate_per_minute: u32::MAX,
        // Throughput, not bot resistance, is measured here.
        join_pow_bits: 0,
        join_pow_max_bits: 0,
        ..ServerConfig::default()
    };
    let state = build_state(config, Arc::clone(&store))
        .await
        .expect("state");
    let mut tokens = Vec::new();
    for _ in 0..PARTICIPANTS {
        let p = store
            .add_participant(&id, NewParticipant::default())
            .await
            .expect("participant");
        tokens.push(state.signer.issue(&id, p.id.0));
    }
    let Running {
        addr,
        handle,
        server,
        state,
    } = start(state).expect("start");
    actix_web::rt::spawn(server);

    let started = Instant::now();
    let stop = started + Duration::from_secs(seconds);
    let per = tokens.len() / connections as usize;
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let mine = tokens[c as usize * per..(c as usize + 1) * per].to_vec();
            tokio::spawn(client(addr, id.clone(), mine, 0x9E37_79B9 * (c + 1), stop))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.expect("client");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let recomputes = state.metrics.recomputes.get();
    println!(
        "{label}: {connections} connections, {seconds} s: {:.0} votes/s, p50 {:.2} ms, p99 {:.2} ms, \
         max {:.1} ms, {errors} errors, {recomputes} recomputes during the run ({} votes stored)",
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        store.vote_count(&id).await.expect("count"),
    );
    handle.stop(true).await;
    state.shutdown.trigger();
}

fn main() {
    let seconds = env_or("POLDER_LOAD_SECONDS", 10);
    let connections = env_or("POLDER_LOAD_CONNECTIONS", 64);
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("load.db").display());
    actix_web::rt::System::new().block_on(async {
        run(&sqlite, "SQLite", seconds, connections).await;
        if let Ok(url) = std::env::var("DATABASE_URL") {
            run(&url, "PostgreSQL", seconds, connections).await;
        }
    });
}
