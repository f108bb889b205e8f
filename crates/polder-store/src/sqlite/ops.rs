//! The SQLite statements behind each store method. Every function runs on a
//! connection inside a transaction the caller opened (the writer's group or
//! a reader's snapshot).

use crate::error::StoreError;
use crate::import::ImportRequest;
use crate::model::*;
use crate::names::{PROGRESS_EVERY, cohort_name, cohort_of, role_columns, role_of};
use crate::store::{ImportProgress, SecretMaker, VoteSink};
use crate::validate;
use crate::votes::{self, VoteContext, id_u32, moderation_of, moderation_value, vote_of};
use polder_core::{ParticipantId, StatementId, VoteMatrixBuilder};
use rusqlite::{Connection, OptionalExtension, Row, params};

const CONVERSATION_COLUMNS: &str =
    "id, topic, description, settings, closed, created_ms, n_votes, last_seq";

fn conversation_of(row: &Row<'_>) -> rusqlite::Result<(Conversation, String)> {
    Ok((
        Conversation {
            id: row.get(0)?,
            topic: row.get(1)?,
            description: row.get(2)?,
            settings: Settings::default(),
            closed: row.get::<_, i64>(4)? != 0,
            created_ms: row.get(5)?,
            vote_count: row.get::<_, i64>(6)? as u64,
            last_seq: row.get::<_, i64>(7)? as u64,
        },
        row.get(3)?,
    ))
}

fn finish_conversation(
    (mut c, settings): (Conversation, String),
) -> Result<Conversation, StoreError> {
    c.settings = serde_json::from_str(&settings)?;
    Ok(c)
}

pub(super) fn get_conversation(
    conn: &Connection,
    id: &str,
) -> Result<Option<Conversation>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1"
    ))?;
    stmt.query_row([id], conversation_of)
        .optional()?
        .map(finish_conversation)
        .transpose()
}

fn require_conversation(conn: &Connection, id: &str) -> Result<Conversation, StoreError> {
    get_conversation(conn, id)?.ok_or_else(|| StoreError::ConversationNotFound(id.to_string()))
}

fn require_open(conn: &Connection, id: &str) -> Result<Conversation, StoreError> {
    let c = require_conversation(conn, id)?;
    if c.closed {
        return Err(StoreError::ConversationClosed(id.to_string()));
    }
    Ok(c)
}

pub(super) fn list_conversations(conn: &Connection) -> Result<Vec<Conversation>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY id"
    ))?;
    let rows = stmt.query_map([], conversation_of)?;
    rows.map(|r| finish_conversation(r?)).collect()
}

/// Picks the id of a new conversation: the one asked for (validated, not
/// taken) or a fresh random one.
fn new_id(conn: &Connection, asked: Option<&str>) -> Result<String, StoreError> {
    let taken = |id: &str| -> Result<bool, StoreError> {
        Ok(conn
            .prepare_cached("SELECT 1 FROM conversations WHERE id = ?1")?
            .exists([id])?)
    };
    match asked {
        Some(id) => {
            validate::conversation_id(id)?;
            if taken(id)? {
                return Err(StoreError::ConversationExists(id.to_string()));
            }
            Ok(id.to_string())
        }
        None => loop {
            let id = validate::generate_conversation_id();
            if !taken(&id)? {
                return Ok(id);
            }
        },
    }
}

fn insert_conversation(
    conn: &Connection,
    new: &NewConversation,
    created_ms: i64,
    source: Option<&str>,
) -> Result<String, StoreError> {
    let id = new_id(conn, new.id.as_deref())?;
    conn.prepare_cached(
        "INSERT INTO conversations (id, topic, description, settings, created_ms, source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        new.topic,
        new.description,
        serde_json::to_string(&new.settings)?,
        created_ms,
        source
    ])?;
    Ok(id)
}

pub(super) fn create_conversation(
    conn: &Connection,
    new: NewConversation,
) -> Result<Conversation, StoreError> {
    let id = insert_conversation(conn, &new, validate::now_ms(), None)?;
    require_conversation(conn, &id)
}

pub(super) fn update_conversation(
    conn: &Connection,
    id: &str,
    patch: ConversationPatch,
) -> Result<Conversation, StoreError> {
    let mut c = require_conversation(conn, id)?;
    if let Some(topic) = patch.topic {
        c.topic = topic;
    }
    if let Some(description) = patch.description {
        c.description = description;
    }
    if let Some(settings) = patch.settings {
        c.settings = settings;
    }
    conn.prepare_cached(
        "UPDATE conversations SET topic = ?2, description = ?3, settings = ?4 WHERE id = ?1",
    )?
    .execute(params![
        id,
        c.topic,
        c.description,
        serde_json::to_string(&c.settings)?
    ])?;
    Ok(c)
}

pub(super) fn set_closed(
    conn: &Connection,
    id: &str,
    closed: bool,
) -> Result<Conversation, StoreError> {
    let changed = conn
        .prepare_cached("UPDATE conversations SET closed = ?2 WHERE id = ?1")?
        .execute(params![id, i64::from(closed)])?;
    if changed == 0 {
        return Err(StoreError::ConversationNotFound(id.to_string()));
    }
    require_conversation(conn, id)
}

const STATEMENT_COLUMNS: &str = "tid, text, lang, author, created_ms, moderation, is_meta, is_seed";

fn statement_of(row: &Row<'_>) -> rusqlite::Result<[i64; 6]> {
    Ok([
        row.get(0)?,
        row.get::<_, Option<i64>>(3)?.unwrap_or(-1),
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ])
}

fn read_statement(row: &Row<'_>) -> rusqlite::Result<(String, Option<String>, [i64; 6])> {
    Ok((row.get(1)?, row.get(2)?, statement_of(row)?))
}

fn finish_statement(
    (text, lang, n): (String, Option<String>, [i64; 6]),
) -> Result<Statement, StoreError> {
    Ok(Statement {
        id: StatementId(id_u32(n[0], "statement id")?),
        text,
        lang,
        author: if n[1] < 0 {
            None
        } else {
            Some(ParticipantId(id_u32(n[1], "author")?))
        },
        created_ms: n[2],
        moderation: moderation_of(n[3])?,
        is_meta: n[4] != 0,
        is_seed: n[5] != 0,
    })
}

fn get_statement(
    conn: &Connection,
    conversation: &str,
    tid: StatementId,
) -> Result<Statement, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STATEMENT_COLUMNS} FROM statements WHERE conversation = ?1 AND tid = ?2"
    ))?;
    match stmt
        .query_row(params![conversation, i64::from(tid.0)], read_statement)
        .optional()?
    {
        Some(s) => finish_statement(s),
        None => Err(StoreError::StatementNotFound {
            conversation: conversation.to_string(),
            statement: tid,
        }),
    }
}

fn participant_exists(
    conn: &Connection,
    conversation: &str,
    pid: ParticipantId,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM participants WHERE conversation = ?1 AND pid = ?2")?
        .exists(params![conversation, i64::from(pid.0)])?)
}

pub(super) fn add_statement(
    conn: &Connection,
    conversation: &str,
    new: NewStatement,
) -> Result<Statement, StoreError> {
    require_open(conn, conversation)?;
    validate::statement_text(conversation, None, &new.text, new.moderation)?;
    if let Some(author) = new.author
        && !participant_exists(conn, conversation, author)?
    {
        return Err(StoreError::ParticipantNotFound {
            conversation: conversation.to_string(),
            participant: author,
        });
    }
    let tid: i64 = conn
        .prepare_cached(
            "UPDATE conversations SET next_tid = next_tid + 1 WHERE id = ?1 RETURNING next_tid - 1",
        )?
        .query_row([conversation], |r| r.get(0))?;
    let tid = votes::check_statement_id(id_u32(tid, "statement id")?)?;
    conn.prepare_cached(
        "INSERT INTO statements (conversation, tid, text, lang, author, created_ms, moderation, is_meta, is_seed) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        conversation,
        i64::from(tid.0),
        new.text,
        new.lang,
        new.author.map(|a| i64::from(a.0)),
        validate::now_ms(),
        moderation_value(new.moderation),
        i64::from(new.is_meta),
        i64::from(new.is_seed)
    ])?;
    get_statement(conn, conversation, tid)
}

pub(super) fn list_statements(
    conn: &Connection,
    conversation: &str,
) -> Result<Vec<Statement>, StoreError> {
    require_conversation(conn, conversation)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STATEMENT_COLUMNS} FROM statements WHERE conversation = ?1 ORDER BY tid"
    ))?;
    let rows = stmt.query_map([conversation], read_statement)?;
    rows.map(|r| finish_statement(r?)).collect()
}

pub(super) fn moderate_statement(
    conn: &Connection,
    conversation: &str,
    tid: StatementId,
    action: ModerationAction,
) -> Result<Statement, StoreError> {
    require_conversation(conn, conversation)?;
    get_statement(conn, conversation, tid)?;
    let now = validate::now_ms();
    conn.prepare_cached(
        "UPDATE statements SET moderation = ?3, is_meta = COALESCE(?4, is_meta) WHERE conversation = ?1 AND tid = ?2",
    )?
    .execute(params![
        conversation,
        i64::from(tid.0),
        moderation_value(action.state),
        action.is_meta.map(i64::from)
    ])?;
    conn.prepare_cached(
        "INSERT INTO moderation_log (conversation, tid, actor, moderation, is_meta, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        conversation,
        i64::from(tid.0),
        action.actor,
        moderation_value(action.state),
        action.is_meta.map(i64::from),
        now
    ])?;
    get_statement(conn, conversation, tid)
}

pub(super) fn moderation_log(
    conn: &Connection,
    conversation: &str,
) -> Result<Vec<ModerationLogEntry>, StoreError> {
    require_conversation(conn, conversation)?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, tid, actor, moderation, is_meta, at_ms FROM moderation_log WHERE conversation = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([conversation], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    rows.map(|r| {
        let (id, tid, actor, m, meta, at) = r?;
        Ok(ModerationLogEntry {
            id: id as u64,
            statement: StatementId(id_u32(tid, "statement id")?),
            actor,
            state: moderation_of(m)?,
            is_meta: meta.map(|m| m != 0),
            at_ms: at,
        })
    })
    .collect()
}

const PARTICIPANT_COLUMNS: &str = "pid, xid, cohort, created_ms, erased";

fn read_participant(row: &Row<'_>) -> rusqlite::Result<(i64, Option<String>, String, i64, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn finish_participant(
    (pid, xid, cohort, created_ms, erased): (i64, Option<String>, String, i64, i64),
) -> Result<Participant, StoreError> {
    Ok(Participant {
        id: ParticipantId(id_u32(pid, "participant id")?),
        xid,
        cohort: cohort_of(&cohort)?,
        created_ms,
        erased: erased != 0,
    })
}

pub(super) fn get_participant(
    conn: &Connection,
    conversation: &str,
    pid: ParticipantId,
) -> Result<Option<Participant>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation = ?1 AND pid = ?2"
    ))?;
    stmt.query_row(params![conversation, i64::from(pid.0)], read_participant)
        .optional()?
        .map(finish_participant)
        .transpose()
}

pub(super) fn find_participant_by_xid(
    conn: &Connection,
    conversation: &str,
    xid: &str,
) -> Result<Option<Participant>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation = ?1 AND xid = ?2"
    ))?;
    stmt.query_row(params![conversation, xid], read_participant)
        .optional()?
        .map(finish_participant)
        .transpose()
}

pub(super) fn list_participants(
    conn: &Connection,
    conversation: &str,
) -> Result<Vec<Participant>, StoreError> {
    require_conversation(conn, conversation)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation = ?1 ORDER BY pid"
    ))?;
    let rows = stmt.query_map([conversation], read_participant)?;
    rows.map(|r| finish_participant(r?)).collect()
}

pub(super) fn add_participant(
    conn: &Connection,
    conversation: &str,
    new: NewParticipant,
) -> Result<Participant, StoreError> {
    let c = require_conversation(conn, conversation)?;
    if let Some(xid) = &new.xid {
        validate::key(conversation, "an external id (xid)", xid)?;
        if let Some(p) = find_participant_by_xid(conn, conversation, xid)? {
            return Ok(p);
        }
    }
    if c.closed {
        return Err(StoreError::ConversationClosed(conversation.to_string()));
    }
    let pid: i64 = conn
        .prepare_cached(
            "UPDATE conversations SET next_pid = next_pid + 1 WHERE id = ?1 RETURNING next_pid - 1",
        )?
        .query_row([conversation], |r| r.get(0))?;
    let pid = ParticipantId(id_u32(pid, "participant id")?);
    conn.prepare_cached(
        "INSERT INTO participants (conversation, pid, xid, cohort, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        conversation,
        i64::from(pid.0),
        new.xid,
        cohort_name(new.cohort),
        validate::now_ms()
    ])?;
    get_participant(conn, conversation, pid)?
        .ok_or_else(|| StoreError::Internal("participant vanished after insert".into()))
}

pub(super) fn cast_votes(
    conn: &Connection,
    conversation: &str,
    new: &[NewVote],
) -> Result<Vec<VoteReceipt>, StoreError> {
    let (closed, last_seq, n_votes): (i64, i64, i64) = conn
        .prepare_cached("SELECT closed, last_seq, n_votes FROM conversations WHERE id = ?1")?
        .query_row([conversation], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| StoreError::ConversationNotFound(conversation.to_string()))?;
    let mut ctx = VoteContext {
        conversation: conversation.to_string(),
        closed: closed != 0,
        last_seq: last_seq as u64,
        n_votes: n_votes as u64,
        ..Default::default()
    };
    let (pids, tids, keys) = votes::touched(new);
    {
        let mut stmt = conn.prepare_cached(
            "SELECT erased FROM participants WHERE conversation = ?1 AND pid = ?2",
        )?;
        for pid in pids {
            if let Some(erased) = stmt
                .query_row(params![conversation, i64::from(pid)], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
            {
                ctx.participants.insert(pid, erased != 0);
            }
        }
        let mut stmt = conn.prepare_cached(
            "SELECT moderation FROM statements WHERE conversation = ?1 AND tid = ?2",
        )?;
        for tid in tids {
            if let Some(m) = stmt
                .query_row(params![conversation, i64::from(tid)], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
            {
                ctx.statements.insert(tid, moderation_of(m)?);
            }
        }
        let mut stmt = conn.prepare_cached(
            "SELECT seq FROM vote_history WHERE conversation = ?1 AND pid = ?2 AND client_key = ?3",
        )?;
        for (pid, key) in keys {
            if let Some(seq) = stmt
                .query_row(params![conversation, i64::from(pid), key], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
            {
                ctx.keys.insert((pid, key), seq as u64);
            }
        }
    }
    let (receipts, rows) = votes::plan(&mut ctx, new)?;
    if rows.is_empty() {
        return Ok(receipts);
    }
    let now = validate::now_ms();
    let mut history = conn.prepare_cached(
        "INSERT INTO vote_history (conversation, seq, pid, tid, vote, created_ms, client_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut current = conn.prepare_cached(
        "INSERT INTO current_votes (conversation, pid, tid, vote, seq, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (conversation, pid, tid) DO UPDATE SET vote = excluded.vote, seq = excluded.seq, modified_ms = excluded.modified_ms",
    )?;
    for r in &rows {
        history.execute(params![
            conversation,
            r.seq as i64,
            i64::from(r.pid),
            i64::from(r.tid),
            i64::from(r.vote),
            now,
            r.client_key
        ])?;
        current.execute(params![
            conversation,
            i64::from(r.pid),
            i64::from(r.tid),
            i64::from(r.vote),
            r.seq as i64,
            now
        ])?;
    }
    conn.prepare_cached("UPDATE conversations SET last_seq = ?2, n_votes = ?3 WHERE id = ?1")?
        .execute(params![
            conversation,
            ctx.last_seq as i64,
            ctx.n_votes as i64
        ])?;
    Ok(receipts)
}

pub(super) fn counters(conn: &Connection, conversation: &str) -> Result<(u64, u64), StoreError> {
    let c = require_conversation(conn, conversation)?;
    Ok((c.vote_count, c.last_seq))
}

pub(super) fn load_matrix(
    conn: &Connection,
    conversation: &str,
    since: Option<u64>,
) -> Result<LoadedMatrix, StoreError> {
    // One read transaction: the counters and the rows come from the same snapshot.
    let tx = conn.unchecked_transaction()?;
    let c = require_conversation(&tx, conversation)?;
    let mut builder = match since {
        None => VoteMatrixBuilder::with_capacity(c.vote_count as usize),
        Some(_) => VoteMatrixBuilder::new(),
    };
    // A full load reads the primary key in order; a `seq > ?` condition there
    // would tempt the planner into the seq index and a sort of every vote.
    let sql = match since {
        None => {
            "SELECT pid, tid, vote FROM current_votes WHERE conversation = ?1 AND ?2 = 0 ORDER BY pid, tid"
        }
        Some(_) => {
            "SELECT pid, tid, vote FROM current_votes WHERE conversation = ?1 AND seq > ?2 ORDER BY pid, tid"
        }
    };
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query(params![conversation, since.unwrap_or(0) as i64])?;
    while let Some(row) = rows.next()? {
        builder.push(
            ParticipantId(id_u32(row.get(0)?, "participant id")?),
            StatementId(id_u32(row.get(1)?, "statement id")?),
            vote_of(row.get(2)?)?,
        )?;
    }
    drop(rows);
    drop(stmt);
    tx.finish()?;
    let matrix = builder.finish();
    Ok(LoadedMatrix {
        n_votes: matrix.n_votes() as u64,
        matrix,
        last_seq: c.last_seq,
    })
}

fn vote_record(row: &Row<'_>) -> Result<VoteRecord, StoreError> {
    Ok(VoteRecord {
        seq: row.get::<_, i64>(0)? as u64,
        participant: ParticipantId(id_u32(row.get(1)?, "participant id")?),
        statement: StatementId(id_u32(row.get(2)?, "statement id")?),
        vote: vote_of(row.get(3)?)?,
        created_ms: row.get(4)?,
    })
}

pub(super) fn stream_history(
    conn: &Connection,
    conversation: &str,
    mut sink: VoteSink,
) -> Result<u64, StoreError> {
    let tx = conn.unchecked_transaction()?;
    require_conversation(&tx, conversation)?;
    let mut stmt = tx.prepare_cached(
        "SELECT seq, pid, tid, vote, created_ms FROM vote_history WHERE conversation = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([conversation])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        sink(vote_record(row)?)?;
        n += 1;
    }
    Ok(n)
}

const SNAPSHOT_COLUMNS: &str = "id, math_version, format, vote_count, last_seq, computed_ms";

fn snapshot_meta(row: &Row<'_>) -> rusqlite::Result<SnapshotMeta> {
    Ok(SnapshotMeta {
        id: row.get::<_, i64>(0)? as u64,
        math_version: row.get(1)?,
        format: row.get(2)?,
        vote_count: row.get::<_, i64>(3)? as u64,
        last_seq: row.get::<_, i64>(4)? as u64,
        computed_ms: row.get(5)?,
    })
}

pub(super) fn save_snapshot(
    conn: &Connection,
    conversation: &str,
    s: NewSnapshot,
) -> Result<SnapshotMeta, StoreError> {
    require_conversation(conn, conversation)?;
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO snapshots (conversation, math_version, format, vote_count, last_seq, computed_ms, report_json) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )?
        .query_row(
            params![conversation, s.math_version, s.format, s.vote_count as i64, s.last_seq as i64, s.computed_ms, s.report_json],
            |r| r.get(0),
        )?;
    Ok(SnapshotMeta {
        id: id as u64,
        math_version: s.math_version,
        format: s.format,
        vote_count: s.vote_count,
        last_seq: s.last_seq,
        computed_ms: s.computed_ms,
    })
}

pub(super) fn list_snapshots(
    conn: &Connection,
    conversation: &str,
) -> Result<Vec<SnapshotMeta>, StoreError> {
    require_conversation(conn, conversation)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE conversation = ?1 ORDER BY computed_ms, id"
    ))?;
    let rows = stmt.query_map([conversation], snapshot_meta)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn snapshot_at(
    conn: &Connection,
    conversation: &str,
    at: Option<i64>,
) -> Result<Option<Snapshot>, StoreError> {
    require_conversation(conn, conversation)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SNAPSHOT_COLUMNS}, report_json FROM snapshots WHERE conversation = ?1 AND computed_ms <= ?2 \
         ORDER BY computed_ms DESC, id DESC LIMIT 1"
    ))?;
    Ok(stmt
        .query_row(params![conversation, at.unwrap_or(i64::MAX)], |r| {
            Ok(Snapshot {
                meta: snapshot_meta(r)?,
                report_json: r.get(6)?,
            })
        })
        .optional()?)
}

pub(super) fn put_key(conn: &Connection, key: KeyRecord) -> Result<(), StoreError> {
    let hash = validate::key_hash(&key.hash)?;
    let (role, conversation) = role_columns(&key.role);
    conn.prepare_cached(
        "INSERT INTO access_keys (hash, role, conversation, label, created_ms) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (hash) DO UPDATE SET role = excluded.role, conversation = excluded.conversation, \
         label = excluded.label, created_ms = excluded.created_ms, revoked_ms = NULL",
    )?
    .execute(params![hash, role, conversation, key.label, key.created_ms])?;
    Ok(())
}

pub(super) fn find_key(conn: &Connection, hash: &str) -> Result<Option<KeyRecord>, StoreError> {
    let hash = validate::key_hash(hash)?;
    let found = conn
        .prepare_cached(
            "SELECT role, conversation, label, created_ms FROM access_keys WHERE hash = ?1 AND revoked_ms IS NULL",
        )?
        .query_row([&hash], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
        })
        .optional()?;
    found
        .map(|(role, conversation, label, created_ms)| {
            Ok(KeyRecord {
                hash: hash.clone(),
                role: role_of(&role, conversation)?,
                label,
                created_ms,
            })
        })
        .transpose()
}

pub(super) fn revoke_key(conn: &Connection, hash: &str) -> Result<bool, StoreError> {
    let hash = validate::key_hash(hash)?;
    Ok(conn
        .prepare_cached(
            "UPDATE access_keys SET revoked_ms = ?2 WHERE hash = ?1 AND revoked_ms IS NULL",
        )?
        .execute(params![hash, validate::now_ms()])?
        > 0)
}

pub(super) fn forget_participant_links(
    conn: &Connection,
    conversation: &str,
    joined_before_ms: i64,
) -> Result<u64, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE participants SET xid = NULL \
             WHERE conversation = ?1 AND xid IS NOT NULL AND created_ms < ?2",
        )?
        .execute(params![conversation, joined_before_ms])?;
    // usize → u64 is lossless on every platform Rust supports.
    Ok(changed as u64)
}

pub(super) fn get_or_create_secret(
    conn: &Connection,
    name: &str,
    make: SecretMaker,
) -> Result<Vec<u8>, StoreError> {
    let mut select = conn.prepare_cached("SELECT value FROM secrets WHERE name = ?1")?;
    if let Some(value) = select.query_row([name], |r| r.get(0)).optional()? {
        return Ok(value);
    }
    let value = make();
    conn.prepare_cached("INSERT INTO secrets (name, value) VALUES (?1, ?2)")?
        .execute(params![name, value])?;
    Ok(value)
}

pub(super) fn find_secret(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM secrets WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

pub(super) fn create_invites(
    conn: &Connection,
    conversation: &str,
    hashes: &[String],
) -> Result<u64, StoreError> {
    require_conversation(conn, conversation)?;
    // Validate all first: a bad hash stores none (the writer's savepoint
    // would undo them anyway, but this keeps the error before any work).
    let hashes = hashes
        .iter()
        .map(|h| validate::digest_hex(conversation, "an invite code hash", h))
        .collect::<Result<Vec<_>, _>>()?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO invites (conversation, code_hash) VALUES (?1, ?2) \
         ON CONFLICT (conversation, code_hash) DO NOTHING",
    )?;
    let mut added = 0u64;
    for hash in &hashes {
        // usize → u64 is lossless on every platform Rust supports.
        added += insert.execute(params![conversation, hash])? as u64;
    }
    Ok(added)
}

pub(super) fn redeem_invite(
    conn: &Connection,
    conversation: &str,
    hash: &str,
) -> Result<Redemption, StoreError> {
    require_conversation(conn, conversation)?;
    let hash = validate::digest_hex(conversation, "an invite code hash", hash)?;
    // One statement decides: the writer runs jobs one at a time, and the
    // `used = 0` condition makes the flip happen at most once.
    let flipped = conn
        .prepare_cached(
            "UPDATE invites SET used = 1 WHERE conversation = ?1 AND code_hash = ?2 AND used = 0",
        )?
        .execute(params![conversation, hash])?;
    if flipped == 1 {
        return Ok(Redemption::Redeemed);
    }
    let known = conn
        .prepare_cached("SELECT 1 FROM invites WHERE conversation = ?1 AND code_hash = ?2")?
        .exists(params![conversation, hash])?;
    Ok(if known {
        Redemption::AlreadyUsed
    } else {
        Redemption::Unknown
    })
}

pub(super) fn invite_counts(
    conn: &Connection,
    conversation: &str,
) -> Result<InviteCounts, StoreError> {
    require_conversation(conn, conversation)?;
    let (total, used): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE used = 1) FROM invites WHERE conversation = ?1",
        )?
        .query_row([conversation], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(InviteCounts {
        total: u64::try_from(total).map_err(|_| StoreError::Corrupt("negative count".into()))?,
        used: u64::try_from(used).map_err(|_| StoreError::Corrupt("negative count".into()))?,
    })
}

pub(super) fn spend_token(
    conn: &Connection,
    conversation: &str,
    nullifier: &str,
) -> Result<bool, StoreError> {
    require_conversation(conn, conversation)?;
    let nullifier = validate::digest_hex(conversation, "a token nullifier", nullifier)?;
    Ok(conn
        .prepare_cached(
            "INSERT INTO spent_tokens (conversation, nullifier) VALUES (?1, ?2) \
             ON CONFLICT (conversation, nullifier) DO NOTHING",
        )?
        .execute(params![conversation, nullifier])?
        == 1)
}

pub(super) fn participant_data(
    conn: &Connection,
    conversation: &str,
    pid: ParticipantId,
) -> Result<ParticipantExport, StoreError> {
    require_conversation(conn, conversation)?;
    let participant = get_participant(conn, conversation, pid)?.ok_or_else(|| {
        StoreError::ParticipantNotFound {
            conversation: conversation.to_string(),
            participant: pid,
        }
    })?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, pid, tid, vote, created_ms FROM vote_history WHERE conversation = ?1 AND pid = ?2 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![conversation, i64::from(pid.0)])?;
    let mut votes = Vec::new();
    while let Some(row) = rows.next()? {
        votes.push(vote_record(row)?);
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STATEMENT_COLUMNS} FROM statements WHERE conversation = ?1 AND author = ?2 ORDER BY tid"
    ))?;
    let statements = stmt
        .query_map(params![conversation, i64::from(pid.0)], read_statement)?
        .map(|r| finish_statement(r?))
        .collect::<Result<_, _>>()?;
    Ok(ParticipantExport {
        conversation: conversation.to_string(),
        participant,
        votes,
        statements,
    })
}

pub(super) fn erase_participant(
    conn: &Connection,
    conversation: &str,
    pid: ParticipantId,
    policy: Erasure,
) -> Result<ErasureReport, StoreError> {
    require_conversation(conn, conversation)?;
    let participant = get_participant(conn, conversation, pid)?.ok_or_else(|| {
        StoreError::ParticipantNotFound {
            conversation: conversation.to_string(),
            participant: pid,
        }
    })?;
    let p = i64::from(pid.0);
    let statements_unlinked = conn
        .prepare_cached(
            "UPDATE statements SET author = NULL WHERE conversation = ?1 AND author = ?2",
        )?
        .execute(params![conversation, p])? as u64;
    let mut votes_removed = 0;
    match policy {
        Erasure::Remove => {
            votes_removed = conn
                .prepare_cached("DELETE FROM vote_history WHERE conversation = ?1 AND pid = ?2")?
                .execute(params![conversation, p])? as u64;
            conn.prepare_cached("DELETE FROM current_votes WHERE conversation = ?1 AND pid = ?2")?
                .execute(params![conversation, p])?;
            conn.prepare_cached("DELETE FROM participants WHERE conversation = ?1 AND pid = ?2")?
                .execute(params![conversation, p])?;
            conn.prepare_cached("UPDATE conversations SET n_votes = n_votes - ?2 WHERE id = ?1")?
                .execute(params![conversation, votes_removed as i64])?;
        }
        Erasure::Anonymise => {
            conn.prepare_cached("UPDATE participants SET xid = NULL, erased = 1 WHERE conversation = ?1 AND pid = ?2")?
                .execute(params![conversation, p])?;
            // A client key may be a device id: it must not outlive the link.
            conn.prepare_cached(
                "UPDATE vote_history SET client_key = NULL WHERE conversation = ?1 AND pid = ?2",
            )?
            .execute(params![conversation, p])?;
        }
    }
    Ok(ErasureReport {
        policy,
        votes_removed,
        statements_unlinked,
        xid_removed: participant.xid.is_some(),
    })
}

pub(super) fn import(
    conn: &Connection,
    req: ImportRequest,
    progress: ImportProgress,
) -> Result<Conversation, StoreError> {
    if let Some(source) = &req.source
        && let Some(existing) = conn
            .prepare_cached("SELECT id FROM conversations WHERE source = ?1")?
            .query_row([source], |r| r.get::<_, String>(0))
            .optional()?
    {
        return Err(StoreError::DuplicateImport { existing });
    }
    let id = insert_conversation(
        conn,
        &req.conversation,
        req.created_ms,
        req.source.as_deref(),
    )?;
    let next_pid = req
        .participants
        .last()
        .map_or(0, |(p, _)| i64::from(p.0) + 1);
    let next_tid = req.statements.last().map_or(0, |s| i64::from(s.id.0) + 1);
    conn.prepare_cached(
        "UPDATE conversations SET next_pid = ?2, next_tid = ?3, last_seq = ?4, n_votes = ?4 WHERE id = ?1",
    )?
    .execute(params![id, next_pid, next_tid, req.votes.len() as i64])?;
    {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO participants (conversation, pid, xid, cohort, created_ms) VALUES (?1, ?2, NULL, 'open', ?3)",
        )?;
        for (pid, created) in &req.participants {
            stmt.execute(params![id, i64::from(pid.0), created])?;
        }
        let mut stmt = conn.prepare_cached(
            "INSERT INTO statements (conversation, tid, text, lang, author, created_ms, moderation, is_meta, is_seed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for s in &req.statements {
            stmt.execute(params![
                id,
                i64::from(s.id.0),
                s.text,
                s.language,
                s.author.map(|a| i64::from(a.0)),
                s.created.unwrap_or(req.created_ms),
                moderation_value(s.moderation),
                i64::from(s.is_meta),
                i64::from(s.is_seed)
            ])?;
        }
        let mut stmt = conn.prepare_cached(
            "INSERT INTO vote_history (conversation, seq, pid, tid, vote, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (i, v) in req.votes.iter().enumerate() {
            stmt.execute(params![
                id,
                i as i64 + 1,
                i64::from(v.participant.0),
                i64::from(v.statement.0),
                i64::from(v.vote.value()),
                v.timestamp
            ])?;
            if (i + 1) % PROGRESS_EVERY == 0 {
                progress(i as u64 + 1);
            }
        }
        let mut stmt = conn.prepare_cached(
            "INSERT INTO current_votes (conversation, pid, tid, vote, seq, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for &i in &req.current {
            let v = &req.votes[i as usize];
            stmt.execute(params![
                id,
                i64::from(v.participant.0),
                i64::from(v.statement.0),
                i64::from(v.vote.value()),
                i64::from(i) + 1,
                v.timestamp
            ])?;
        }
        progress(req.votes.len() as u64);
    }
    require_conversation(conn, &id)
}
