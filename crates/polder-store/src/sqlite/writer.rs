//! The SQLite writer: one thread, one connection, group commit.
//!
//! SQLite allows one writer at a time, so polder gives it exactly one. Every
//! write is a job sent to this thread. The thread takes the first waiting job
//! and everything queued behind it (up to [`MAX_GROUP`]), runs them in one
//! transaction — each inside its own savepoint, so one failing job does not
//! undo the others — and commits once. With `synchronous=FULL` the commit is
//! one fsync of the WAL, shared by the whole group; only after it returns does
//! any job's caller hear "done". Under load the queue fills while the previous
//! fsync runs, so groups grow by themselves: throughput rises with
//! concurrency while each write still waits for at most about two fsyncs.

use crate::error::StoreError;
use rusqlite::Connection;
use std::any::Any;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Most jobs committed together.
pub(super) const MAX_GROUP: usize = 1024;

type JobResult = Result<Box<dyn Any + Send>, StoreError>;
type Job = Box<dyn FnOnce(&Connection) -> JobResult + Send>;

struct Envelope {
    job: Job,
    reply: oneshot::Sender<JobResult>,
}

/// Handle to the writer thread. Dropping it finishes the queued jobs and
/// waits for the thread to close the database.
pub(super) struct Writer {
    sender: Option<mpsc::Sender<Envelope>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread that owns `conn`.
    pub(super) fn start(conn: Connection) -> Result<Writer, StoreError> {
        let (sender, receiver) = mpsc::channel::<Envelope>();
        let thread = std::thread::Builder::new()
            .name("polder-sqlite-writer".into())
            .spawn(move || run(conn, receiver))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    /// Runs `f` in the next group; resolves once the group is committed.
    pub(super) async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| f(conn).map(|t| Box::new(t) as Box<dyn Any + Send>));
        self.sender
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(Envelope { job, reply })
            .map_err(|_| StoreError::WriterGone)?;
        let value = answer.await.map_err(|_| StoreError::WriterGone)??;
        value
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StoreError::Internal("writer job returned another type".into()))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop after the queued jobs.
        self.sender.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: Connection, receiver: mpsc::Receiver<Envelope>) {
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        commit_group(&conn, group);
    }
}

fn commit_group(conn: &Connection, group: Vec<Envelope>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let message = e.to_string();
        for envelope in group {
            let _ = envelope
                .reply
                .send(Err(StoreError::CommitFailed(message.clone())));
        }
        return;
    }
    let mut done = Vec::with_capacity(group.len());
    for envelope in group {
        let result = match conn.execute_batch("SAVEPOINT job") {
            Err(e) => Err(StoreError::from(e)),
            Ok(()) => {
                // A panicking job must not take the writer down with it: every
                // later write would fail. Its savepoint is rolled back like an error's.
                let job = envelope.job;
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn)))
                    .unwrap_or_else(|_| Err(StoreError::Internal("a write job panicked".into())));
                let end = if result.is_ok() {
                    "RELEASE job"
                } else {
                    "ROLLBACK TO job; RELEASE job"
                };
                match conn.execute_batch(end) {
                    Ok(()) => result,
                    Err(e) => Err(StoreError::from(e)),
                }
            }
        };
        done.push((envelope.reply, result));
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            for (reply, result) in done {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            let message = e.to_string();
            for (reply, _) in done {
                let _ = reply.send(Err(StoreError::CommitFailed(message.clone())));
            }
        }
    }
}
