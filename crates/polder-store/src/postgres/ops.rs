//! The PostgreSQL statements behind each store method, each run inside a
//! transaction the caller opened. Same rules as `sqlite/ops.rs`; the vote
//! path lives in `batcher.rs`.

use crate::error::StoreError;
use crate::import::ImportRequest;
use crate::model::*;
use crate::names::{cohort_name, cohort_of, role_columns, role_of};
use crate::store::{ImportProgress, SecretMaker, VoteSink};
use crate::validate;
use crate::votes::{self, id_u32, moderation_of, moderation_value, vote_of};
use deadpool_postgres::Transaction;
use futures_util::{StreamExt, pin_mut};
use polder_core::{ParticipantId, StatementId, VoteMatrixBuilder};
use tokio_postgres::Row;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

type Tx<'a> = Transaction<'a>;

const CONVERSATION_COLUMNS: &str =
    "id, topic, description, settings, closed, created_ms, n_votes, last_seq";

fn conversation_of(row: &Row) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: row.try_get(0)?,
        topic: row.try_get(1)?,
        description: row.try_get(2)?,
        settings: serde_json::from_str(row.try_get::<_, &str>(3)?)?,
        closed: row.try_get::<_, i64>(4)? != 0,
        created_ms: row.try_get(5)?,
        vote_count: row.try_get::<_, i64>(6)? as u64,
        last_seq: row.try_get::<_, i64>(7)? as u64,
    })
}

pub(super) async fn get_conversation(
    tx: &Tx<'_>,
    id: &str,
) -> Result<Option<Conversation>, StoreError> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"
        ))
        .await?;
    tx.query_opt(&stmt, &[&id])
        .await?
        .map(|r| conversation_of(&r))
        .transpose()
}

async fn require_conversation(tx: &Tx<'_>, id: &str) -> Result<Conversation, StoreError> {
    get_conversation(tx, id)
        .await?
        .ok_or_else(|| StoreError::ConversationNotFound(id.to_string()))
}

pub(super) async fn list_conversations(tx: &Tx<'_>) -> Result<Vec<Conversation>, StoreError> {
    let rows = tx
        .query(
            &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY id"),
            &[],
        )
        .await?;
    rows.iter().map(conversation_of).collect()
}

async fn new_id(tx: &Tx<'_>, asked: Option<&str>) -> Result<String, StoreError> {
    let stmt = tx
        .prepare_cached("SELECT 1 FROM conversations WHERE id = $1")
        .await?;
    match asked {
        Some(id) => {
            validate::conversation_id(id)?;
            if tx.query_opt(&stmt, &[&id]).await?.is_some() {
                return Err(StoreError::ConversationExists(id.to_string()));
            }
            Ok(id.to_string())
        }
        None => loop {
            let id = validate::generate_conversation_id();
            if tx.query_opt(&stmt, &[&id]).await?.is_none() {
                return Ok(id);
            }
        },
    }
}

async fn insert_conversation(
    tx: &Tx<'_>,
    new: &NewConversation,
    created_ms: i64,
    source: Option<&str>,
) -> Result<String, StoreError> {
    let id = new_id(tx, new.id.as_deref()).await?;
    let settings = serde_json::to_string(&new.settings)?;
    tx.execute(
        "INSERT INTO conversations (id, topic, description, settings, created_ms, source) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &new.topic, &new.description, &settings, &created_ms, &source],
    )
    .await?;
    Ok(id)
}

pub(super) async fn create_conversation(
    tx: &Tx<'_>,
    new: NewConversation,
) -> Result<Conversation, StoreError> {
    let id = insert_conversation(tx, &new, validate::now_ms(), None).await?;
    require_conversation(tx, &id).await
}

pub(super) async fn update_conversation(
    tx: &Tx<'_>,
    id: &str,
    patch: ConversationPatch,
) -> Result<Conversation, StoreError> {
    let mut c = require_conversation(tx, id).await?;
    if let Some(topic) = patch.topic {
        c.topic = topic;
    }
    if let Some(description) = patch.description {
        c.description = description;
    }
    if let Some(settings) = patch.settings {
        c.settings = settings;
    }
    let settings = serde_json::to_string(&c.settings)?;
    tx.execute(
        "UPDATE conversations SET topic = $2, description = $3, settings = $4 WHERE id = $1",
        &[&id, &c.topic, &c.description, &settings],
    )
    .await?;
    Ok(c)
}

pub(super) async fn set_closed(
    tx: &Tx<'_>,
    id: &str,
    closed: bool,
) -> Result<Conversation, StoreError> {
    let n = tx
        .execute(
            "UPDATE conversations SET closed = $2 WHERE id = $1",
            &[&id, &i64::from(closed)],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::ConversationNotFound(id.to_string()));
    }
    require_conversation(tx, id).await
}

const STATEMENT_COLUMNS: &str = "tid, text, lang, author, created_ms, moderation, is_meta, is_seed";

fn statement_of(row: &Row) -> Result<Statement, StoreError> {
    Ok(Statement {
        id: StatementId(id_u32(row.try_get(0)?, "statement id")?),
        text: row.try_get(1)?,
        lang: row.try_get(2)?,
        author: row
            .try_get::<_, Option<i64>>(3)?
            .map(|a| id_u32(a, "author").map(ParticipantId))
            .transpose()?,
        created_ms: row.try_get(4)?,
        moderation: moderation_of(row.try_get(5)?)?,
        is_meta: row.try_get::<_, i64>(6)? != 0,
        is_seed: row.try_get::<_, i64>(7)? != 0,
    })
}

async fn get_statement(
    tx: &Tx<'_>,
    conversation: &str,
    tid: StatementId,
) -> Result<Statement, StoreError> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {STATEMENT_COLUMNS} FROM statements WHERE conversation = $1 AND tid = $2"
        ))
        .await?;
    match tx
        .query_opt(&stmt, &[&conversation, &i64::from(tid.0)])
        .await?
    {
        Some(row) => statement_of(&row),
        None => Err(StoreError::StatementNotFound {
            conversation: conversation.to_string(),
            statement: tid,
        }),
    }
}

pub(super) async fn add_statement(
    tx: &Tx<'_>,
    conversation: &str,
    new: NewStatement,
) -> Result<Statement, StoreError> {
    let c = require_conversation(tx, conversation).await?;
    if c.closed {
        return Err(StoreError::ConversationClosed(conversation.to_string()));
    }
    validate::statement_text(conversation, None, &new.text, new.moderation)?;
    if let Some(author) = new.author
        && get_participant(tx, conversation, author).await?.is_none()
    {
        return Err(StoreError::ParticipantNotFound {
            conversation: conversation.to_string(),
            participant: author,
        });
    }
    let tid: i64 = tx
        .query_one(
            "UPDATE conversations SET next_tid = next_tid + 1 WHERE id = $1 RETURNING next_tid - 1",
            &[&conversation],
        )
        .await?
        .try_get(0)?;
    let tid = votes::check_statement_id(id_u32(tid, "statement id")?)?;
    tx.execute(
        "INSERT INTO statements (conversation, tid, text, lang, author, created_ms, moderation, is_meta, is_seed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &conversation,
            &i64::from(tid.0),
            &new.text,
            &new.lang,
            &new.author.map(|a| i64::from(a.0)),
            &validate::now_ms(),
            &moderation_value(new.moderation),
            &i64::from(new.is_meta),
            &i64::from(new.is_seed),
        ],
    )
    .await?;
    get_statement(tx, conversation, tid).await
}

pub(super) async fn list_statements(
    tx: &Tx<'_>,
    conversation: &str,
) -> Result<Vec<Statement>, StoreError> {
    require_conversation(tx, conversation).await?;
    let rows = tx
        .query(
            &format!(
                "SELECT {STATEMENT_COLUMNS} FROM statements WHERE conversation = $1 ORDER BY tid"
            ),
            &[&conversation],
        )
        .await?;
    rows.iter().map(statement_of).collect()
}

pub(super) async fn moderate_statement(
    tx: &Tx<'_>,
    conversation: &str,
    tid: StatementId,
    action: ModerationAction,
) -> Result<Statement, StoreError> {
    require_conversation(tx, conversation).await?;
    get_statement(tx, conversation, tid).await?;
    let state = moderation_value(action.state);
    let meta = action.is_meta.map(i64::from);
    tx.execute(
        "UPDATE statements SET moderation = $3, is_meta = COALESCE($4, is_meta) WHERE conversation = $1 AND tid = $2",
        &[&conversation, &i64::from(tid.0), &state, &meta],
    )
    .await?;
    tx.execute(
        "INSERT INTO moderation_log (conversation, tid, actor, moderation, is_meta, at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&conversation, &i64::from(tid.0), &action.actor, &state, &meta, &validate::now_ms()],
    )
    .await?;
    get_statement(tx, conversation, tid).await
}

pub(super) async fn moderation_log(
    tx: &Tx<'_>,
    conversation: &str,
) -> Result<Vec<ModerationLogEntry>, StoreError> {
    require_conversation(tx, conversation).await?;
    let rows = tx
        .query(
            "SELECT id, tid, actor, moderation, is_meta, at_ms FROM moderation_log WHERE conversation = $1 ORDER BY id",
            &[&conversation],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ModerationLogEntry {
                id: r.try_get::<_, i64>(0)? as u64,
                statement: StatementId(id_u32(r.try_get(1)?, "statement id")?),
                actor: r.try_get(2)?,
                state: moderation_of(r.try_get(3)?)?,
                is_meta: r.try_get::<_, Option<i64>>(4)?.map(|m| m != 0),
                at_ms: r.try_get(5)?,
            })
        })
        .collect()
}

const PARTICIPANT_COLUMNS: &str = "pid, xid, cohort, created_ms, erased";

fn participant_of(row: &Row) -> Result<Participant, StoreError> {
    Ok(Participant {
        id: ParticipantId(id_u32(row.try_get(0)?, "participant id")?),
        xid: row.try_get(1)?,
        cohort: cohort_of(row.try_get(2)?)?,
        created_ms: row.try_get(3)?,
        erased: row.try_get::<_, i64>(4)? != 0,
    })
}

pub(super) async fn get_participant(
    tx: &Tx<'_>,
    conversation: &str,
    pid: ParticipantId,
) -> Result<Option<Participant>, StoreError> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation = $1 AND pid = $2"
        ))
        .await?;
    tx.query_opt(&stmt, &[&conversation, &i64::from(pid.0)])
        .await?
        .map(|r| participant_of(&r))
        .transpose()
}

pub(super) async fn find_participant_by_xid(
    tx: &Tx<'_>,
    conversation: &str,
    xid: &str,
) -> Result<Option<Participant>, StoreError> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation = $1 AND xid = $2"
        ))
        .await?;
    tx.query_opt(&stmt, &[&conversation, &xid])
        .await?
        .map(|r| participant_of(&r))
        .transpose()
}

pub(super) async fn list_participants(
    tx: &Tx<'_>,
    conversation: &str,
) -> Result<Vec<Participant>, StoreError> {
    require_conversation(tx, conversation).await?;
    let rows = tx
        .query(
            &format!("SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation = $1 ORDER BY pid"),
            &[&conversation],
        )
        .await?;
    rows.iter().map(participant_of).collect()
}

pub(super) async fn add_participant(
    tx: &Tx<'_>,
    conversation: &str,
    new: NewParticipant,
) -> Result<Participant, StoreError> {
    // Locking the conversation row serialises get-or-create by xid.
    let closed: i64 = tx
        .query_opt(
            "SELECT closed FROM conversations WHERE id = $1 FOR UPDATE",
            &[&conversation],
        )
        .await?
        .ok_or_else(|| StoreError::ConversationNotFound(conversation.to_string()))?
        .try_get(0)?;
    if let Some(xid) = &new.xid {
        validate::key(conversation, "an external id (xid)", xid)?;
        if let Some(p) = find_participant_by_xid(tx, conversation, xid).await? {
            return Ok(p);
        }
    }
    if closed != 0 {
        return Err(StoreError::ConversationClosed(conversation.to_string()));
    }
    let pid: i64 = tx
        .query_one(
            "UPDATE conversations SET next_pid = next_pid + 1 WHERE id = $1 RETURNING next_pid - 1",
            &[&conversation],
        )
        .await?
        .try_get(0)?;
    let pid = ParticipantId(id_u32(pid, "participant id")?);
    tx.execute(
        "INSERT INTO participants (conversation, pid, xid, cohort, created_ms) VALUES ($1, $2, $3, $4, $5)",
        &[&conversation, &i64::from(pid.0), &new.xid, &cohort_name(new.cohort), &validate::now_ms()],
    )
    .await?;
    get_participant(tx, conversation, pid)
        .await?
        .ok_or_else(|| StoreError::Internal("participant vanished after insert".into()))
}

pub(super) async fn counters(tx: &Tx<'_>, conversation: &str) -> Result<(u64, u64), StoreError> {
    let c = require_conversation(tx, conversation).await?;
    Ok((c.vote_count, c.last_seq))
}

pub(super) async fn load_matrix(
    tx: &Tx<'_>,
    conversation: &str,
    since: Option<u64>,
) -> Result<LoadedMatrix, StoreError> {
    let c = require_conversation(tx, conversation).await?;
    let mut builder = match since {
        None => VoteMatrixBuilder::with_capacity(c.vote_count as usize),
        Some(_) => VoteMatrixBuilder::new(),
    };
    let since = since.unwrap_or(0) as i64;
    let params: [&(dyn ToSql + Sync); 2] = [&conversation, &since];
    // query_raw streams rows off the socket as they come: the loader never
    // holds more than a buffer of rows besides the packed matrix.
    // As on SQLite: a full load must not filter on seq, or the planner may
    // pick the seq index and sort every vote.
    let sql = match since {
        0 => {
            "SELECT pid, tid, vote FROM current_votes WHERE conversation = $1 AND $2::bigint = 0 ORDER BY pid, tid"
        }
        _ => {
            "SELECT pid, tid, vote FROM current_votes WHERE conversation = $1 AND seq > $2 ORDER BY pid, tid"
        }
    };
    let rows = tx.query_raw(sql, params).await?;
    pin_mut!(rows);
    while let Some(row) = rows.next().await {
        let row = row?;
        builder.push(
            ParticipantId(id_u32(row.try_get(0)?, "participant id")?),
            StatementId(id_u32(row.try_get(1)?, "statement id")?),
            vote_of(row.try_get(2)?)?,
        )?;
    }
    let matrix = builder.finish();
    Ok(LoadedMatrix {
        n_votes: matrix.n_votes() as u64,
        matrix,
        last_seq: c.last_seq,
    })
}

fn vote_record(row: &Row) -> Result<VoteRecord, StoreError> {
    Ok(VoteRecord {
        seq: row.try_get::<_, i64>(0)? as u64,
        participant: ParticipantId(id_u32(row.try_get(1)?, "participant id")?),
        statement: StatementId(id_u32(row.try_get(2)?, "statement id")?),
        vote: vote_of(row.try_get(3)?)?,
        created_ms: row.try_get(4)?,
    })
}

pub(super) async fn stream_history(
    tx: &Tx<'_>,
    conversation: &str,
    mut sink: VoteSink,
) -> Result<u64, StoreError> {
    require_conversation(tx, conversation).await?;
    let params: [&(dyn ToSql + Sync); 1] = [&conversation];
    let rows = tx
        .query_raw(
            "SELECT seq, pid, tid, vote, created_ms FROM vote_history WHERE conversation = $1 ORDER BY seq",
            params,
        )
        .await?;
    pin_mut!(rows);
    let mut n = 0;
    while let Some(row) = rows.next().await {
        sink(vote_record(&row?)?)?;
        n += 1;
    }
    Ok(n)
}

const SNAPSHOT_COLUMNS: &str = "id, math_version, format, vote_count, last_seq, computed_ms";

fn snapshot_meta(row: &Row) -> Result<SnapshotMeta, StoreError> {
    Ok(SnapshotMeta {
        id: row.try_get::<_, i64>(0)? as u64,
        math_version: row.try_get(1)?,
        format: row.try_get(2)?,
        vote_count: row.try_get::<_, i64>(3)? as u64,
        last_seq: row.try_get::<_, i64>(4)? as u64,
        computed_ms: row.try_get(5)?,
    })
}

pub(super) async fn save_snapshot(
    tx: &Tx<'_>,
    conversation: &str,
    s: NewSnapshot,
) -> Result<SnapshotMeta, StoreError> {
    require_conversation(tx, conversation).await?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO snapshots (conversation, math_version, format, vote_count, last_seq, computed_ms, report_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &conversation,
                &s.math_version,
                &s.format,
                &(s.vote_count as i64),
                &(s.last_seq as i64),
                &s.computed_ms,
                &s.report_json,
            ],
        )
        .await?
        .try_get(0)?;
    Ok(SnapshotMeta {
        id: id as u64,
        math_version: s.math_version,
        format: s.format,
        vote_count: s.vote_count,
        last_seq: s.last_seq,
        computed_ms: s.computed_ms,
    })
}

pub(super) async fn list_snapshots(
    tx: &Tx<'_>,
    conversation: &str,
) -> Result<Vec<SnapshotMeta>, StoreError> {
    require_conversation(tx, conversation).await?;
    let rows = tx
        .query(
            &format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE conversation = $1 ORDER BY computed_ms, id"),
            &[&conversation],
        )
        .await?;
    rows.iter().map(snapshot_meta).collect()
}

pub(super) async fn snapshot_at(
    tx: &Tx<'_>,
    conversation: &str,
    at: Option<i64>,
) -> Result<Option<Snapshot>, StoreError> {
    require_conversation(tx, conversation).await?;
    let at = at.unwrap_or(i64::MAX);
    let row = tx
        .query_opt(
            &format!(
                "SELECT {SNAPSHOT_COLUMNS}, report_json FROM snapshots WHERE conversation = $1 AND computed_ms <= $2 \
                 ORDER BY computed_ms DESC, id DESC LIMIT 1"
            ),
            &[&conversation, &at],
        )
        .await?;
    row.map(|r| {
        Ok(Snapshot {
            meta: snapshot_meta(&r)?,
            report_json: r.try_get(6)?,
        })
    })
    .transpose()
}

pub(super) async fn put_key(tx: &Tx<'_>, key: KeyRecord) -> Result<(), StoreError> {
    let hash = validate::key_hash(&key.hash)?;
    let (role, conversation) = role_columns(&key.role);
    tx.execute(
        "INSERT INTO access_keys (hash, role, conversation, label, created_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (hash) DO UPDATE SET role = excluded.role, conversation = excluded.conversation, \
         label = excluded.label, created_ms = excluded.created_ms, revoked_ms = NULL",
        &[&hash, &role, &conversation, &key.label, &key.created_ms],
    )
    .await?;
    Ok(())
}

pub(super) async fn find_key(tx: &Tx<'_>, hash: &str) -> Result<Option<KeyRecord>, StoreError> {
    let hash = validate::key_hash(hash)?;
    let row = tx
        .query_opt(
            "SELECT role, conversation, label, created_ms FROM access_keys WHERE hash = $1 AND revoked_ms IS NULL",
            &[&hash],
        )
        .await?;
    row.map(|r| {
        Ok(KeyRecord {
            hash: hash.clone(),
            role: role_of(r.try_get(0)?, r.try_get(1)?)?,
            label: r.try_get(2)?,
            created_ms: r.try_get(3)?,
        })
    })
    .transpose()
}

pub(super) async fn revoke_key(tx: &Tx<'_>, hash: &str) -> Result<bool, StoreError> {
    let hash = validate::key_hash(hash)?;
    Ok(tx
        .execute(
            "UPDATE access_keys SET revoked_ms = $2 WHERE hash = $1 AND revoked_ms IS NULL",
            &[&hash, &validate::now_ms()],
        )
        .await?
        > 0)
}

pub(super) async fn forget_participant_links(
    tx: &Tx<'_>,
    conversation: &str,
    joined_before_ms: i64,
) -> Result<u64, StoreError> {
    Ok(tx
        .execute(
            "UPDATE participants SET xid = NULL \
             WHERE conversation = $1 AND xid IS NOT NULL AND created_ms < $2",
            &[&conversation, &joined_before_ms],
        )
        .await?)
}

pub(super) async fn get_or_create_secret(
    tx: &Tx<'_>,
    name: &str,
    make: SecretMaker,
) -> Result<Vec<u8>, StoreError> {
    if let Some(row) = tx
        .query_opt("SELECT value FROM secrets WHERE name = $1", &[&name])
        .await?
    {
        return Ok(row.try_get(0)?);
    }
    let value = make();
    // Another process may have made it meanwhile: keep theirs.
    tx.execute(
        "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&name, &value],
    )
    .await?;
    Ok(tx
        .query_one("SELECT value FROM secrets WHERE name = $1", &[&name])
        .await?
        .try_get(0)?)
}

pub(super) async fn find_secret(tx: &Tx<'_>, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(tx
        .query_opt("SELECT value FROM secrets WHERE name = $1", &[&name])
        .await?
        .map(|row| row.try_get(0))
        .transpose()?)
}

pub(super) async fn create_invites(
    tx: &Tx<'_>,
    conversation: &str,
    hashes: &[String],
) -> Result<u64, StoreError> {
    require_conversation(tx, conversation).await?;
    let hashes = hashes
        .iter()
        .map(|h| validate::digest_hex(conversation, "an invite code hash", h))
        .collect::<Result<Vec<_>, _>>()?;
    // One statement for the whole batch; duplicates (in the batch or
    // already stored) are skipped and not counted.
    Ok(tx
        .execute(
            "INSERT INTO invites (conversation, code_hash) \
             SELECT $1, h FROM UNNEST($2::text[]) AS h \
             ON CONFLICT (conversation, code_hash) DO NOTHING",
            &[&conversation, &hashes],
        )
        .await?)
}

pub(super) async fn redeem_invite(
    tx: &Tx<'_>,
    conversation: &str,
    hash: &str,
) -> Result<Redemption, StoreError> {
    require_conversation(tx, conversation).await?;
    let hash = validate::digest_hex(conversation, "an invite code hash", hash)?;
    // Under READ COMMITTED a concurrent redeemer of the same row waits for
    // the first one's commit, then re-checks `used = 0` and updates nothing:
    // exactly one caller sees a row changed.
    let flipped = tx
        .execute(
            "UPDATE invites SET used = 1 WHERE conversation = $1 AND code_hash = $2 AND used = 0",
            &[&conversation, &hash],
        )
        .await?;
    if flipped == 1 {
        return Ok(Redemption::Redeemed);
    }
    let known = tx
        .query_opt(
            "SELECT 1 FROM invites WHERE conversation = $1 AND code_hash = $2",
            &[&conversation, &hash],
        )
        .await?
        .is_some();
    Ok(if known {
        Redemption::AlreadyUsed
    } else {
        Redemption::Unknown
    })
}

pub(super) async fn invite_counts(
    tx: &Tx<'_>,
    conversation: &str,
) -> Result<InviteCounts, StoreError> {
    require_conversation(tx, conversation).await?;
    let row = tx
        .query_one(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE used = 1) FROM invites WHERE conversation = $1",
            &[&conversation],
        )
        .await?;
    let count = |i: usize| -> Result<u64, StoreError> {
        u64::try_from(row.try_get::<_, i64>(i)?)
            .map_err(|_| StoreError::Corrupt("negative count".into()))
    };
    Ok(InviteCounts {
        total: count(0)?,
        used: count(1)?,
    })
}

pub(super) async fn spend_token(
    tx: &Tx<'_>,
    conversation: &str,
    nullifier: &str,
) -> Result<bool, StoreError> {
    require_conversation(tx, conversation).await?;
    let nullifier = validate::digest_hex(conversation, "a token nullifier", nullifier)?;
    // The primary key decides between concurrent spenders: the second
    // insert waits for the first to commit and then conflicts.
    Ok(tx
        .execute(
            "INSERT INTO spent_tokens (conversation, nullifier) VALUES ($1, $2) \
             ON CONFLICT (conversation, nullifier) DO NOTHING",
            &[&conversation, &nullifier],
        )
        .await?
        == 1)
}

pub(super) async fn participant_data(
    tx: &Tx<'_>,
    conversation: &str,
    pid: ParticipantId,
) -> Result<ParticipantExport, StoreError> {
    require_conversation(tx, conversation).await?;
    let participant = get_participant(tx, conversation, pid)
        .await?
        .ok_or_else(|| StoreError::ParticipantNotFound {
            conversation: conversation.to_string(),
            participant: pid,
        })?;
    let p = i64::from(pid.0);
    let votes = tx
        .query(
            "SELECT seq, pid, tid, vote, created_ms FROM vote_history WHERE conversation = $1 AND pid = $2 ORDER BY seq",
            &[&conversation, &p],
        )
        .await?
        .iter()
        .map(vote_record)
        .collect::<Result<_, _>>()?;
    let statements = tx
        .query(
            &format!("SELECT {STATEMENT_COLUMNS} FROM statements WHERE conversation = $1 AND author = $2 ORDER BY tid"),
            &[&conversation, &p],
        )
        .await?
        .iter()
        .map(statement_of)
        .collect::<Result<_, _>>()?;
    Ok(ParticipantExport {
        conversation: conversation.to_string(),
        participant,
        votes,
        statements,
    })
}

pub(super) async fn erase_participant(
    tx: &Tx<'_>,
    conversation: &str,
    pid: ParticipantId,
    policy: Erasure,
) -> Result<ErasureReport, StoreError> {
    // Lock the conversation: the vote counter changes and no vote may slip in meanwhile.
    tx.query_opt(
        "SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE",
        &[&conversation],
    )
    .await?
    .ok_or_else(|| StoreError::ConversationNotFound(conversation.to_string()))?;
    let participant = get_participant(tx, conversation, pid)
        .await?
        .ok_or_else(|| StoreError::ParticipantNotFound {
            conversation: conversation.to_string(),
            participant: pid,
        })?;
    let p = i64::from(pid.0);
    let statements_unlinked = tx
        .execute(
            "UPDATE statements SET author = NULL WHERE conversation = $1 AND author = $2",
            &[&conversation, &p],
        )
        .await?;
    let mut votes_removed = 0;
    match policy {
        Erasure::Remove => {
            votes_removed = tx
                .execute(
                    "DELETE FROM vote_history WHERE conversation = $1 AND pid = $2",
                    &[&conversation, &p],
                )
                .await?;
            tx.execute(
                "DELETE FROM current_votes WHERE conversation = $1 AND pid = $2",
                &[&conversation, &p],
            )
            .await?;
            tx.execute(
                "DELETE FROM participants WHERE conversation = $1 AND pid = $2",
                &[&conversation, &p],
            )
            .await?;
            tx.execute(
                "UPDATE conversations SET n_votes = n_votes - $2 WHERE id = $1",
                &[&conversation, &(votes_removed as i64)],
            )
            .await?;
        }
        Erasure::Anonymise => {
            tx.execute(
                "UPDATE participants SET xid = NULL, erased = 1 WHERE conversation = $1 AND pid = $2",
                &[&conversation, &p],
            )
            .await?;
            // A client key may be a device id: it must not outlive the link.
            tx.execute(
                "UPDATE vote_history SET client_key = NULL WHERE conversation = $1 AND pid = $2",
                &[&conversation, &p],
            )
            .await?;
        }
    }
    Ok(ErasureReport {
        policy,
        votes_removed,
        statements_unlinked,
        xid_removed: participant.xid.is_some(),
    })
}

pub(super) async fn import(
    tx: &Tx<'_>,
    req: ImportRequest,
    progress: ImportProgress,
) -> Result<Conversation, StoreError> {
    if let Some(source) = &req.source
        && let Some(row) = tx
            .query_opt("SELECT id FROM conversations WHERE source = $1", &[source])
            .await?
    {
        return Err(StoreError::DuplicateImport {
            existing: row.try_get(0)?,
        });
    }
    let id =
        insert_conversation(tx, &req.conversation, req.created_ms, req.source.as_deref()).await?;
    let next_pid = req
        .participants
        .last()
        .map_or(0, |(p, _)| i64::from(p.0) + 1);
    let next_tid = req.statements.last().map_or(0, |s| i64::from(s.id.0) + 1);
    let n = req.votes.len() as i64;
    tx.execute(
        "UPDATE conversations SET next_pid = $2, next_tid = $3, last_seq = $4, n_votes = $4 WHERE id = $1",
        &[&id, &next_pid, &next_tid, &n],
    )
    .await?;

    let sink = tx
        .copy_in("COPY participants (conversation, pid, cohort, created_ms) FROM STDIN BINARY")
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT8, Type::TEXT, Type::INT8]);
    pin_mut!(writer);
    for (pid, created) in &req.participants {
        writer
            .as_mut()
            .write(&[&id, &i64::from(pid.0), &"open", created])
            .await?;
    }
    writer.finish().await?;

    let sink = tx
        .copy_in(
            "COPY statements (conversation, tid, text, lang, author, created_ms, moderation, is_meta, is_seed) FROM STDIN BINARY",
        )
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::TEXT,
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
        ],
    );
    pin_mut!(writer);
    for s in &req.statements {
        writer
            .as_mut()
            .write(&[
                &id,
                &i64::from(s.id.0),
                &s.text,
                &s.language,
                &s.author.map(|a| i64::from(a.0)),
                &s.created.unwrap_or(req.created_ms),
                &moderation_value(s.moderation),
                &i64::from(s.is_meta),
                &i64::from(s.is_seed),
            ])
            .await?;
    }
    writer.finish().await?;

    let sink = tx
        .copy_in(
            "COPY vote_history (conversation, seq, pid, tid, vote, created_ms) FROM STDIN BINARY",
        )
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
        ],
    );
    pin_mut!(writer);
    for (i, v) in req.votes.iter().enumerate() {
        writer
            .as_mut()
            .write(&[
                &id,
                &(i as i64 + 1),
                &i64::from(v.participant.0),
                &i64::from(v.statement.0),
                &i64::from(v.vote.value()),
                &v.timestamp,
            ])
            .await?;
        if (i + 1) % crate::names::PROGRESS_EVERY == 0 {
            progress(i as u64 + 1);
        }
    }
    writer.finish().await?;

    let sink = tx
        .copy_in(
            "COPY current_votes (conversation, pid, tid, vote, seq, modified_ms) FROM STDIN BINARY",
        )
        .await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::TEXT,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
        ],
    );
    pin_mut!(writer);
    for &i in &req.current {
        let v = &req.votes[i as usize];
        writer
            .as_mut()
            .write(&[
                &id,
                &i64::from(v.participant.0),
                &i64::from(v.statement.0),
                &i64::from(v.vote.value()),
                &(i64::from(i) + 1),
                &v.timestamp,
            ])
            .await?;
    }
    writer.finish().await?;
    progress(req.votes.len() as u64);
    require_conversation(tx, &id).await
}
