-- polder schema, version 1 (SQLite).
-- Times are milliseconds since the Unix epoch. Booleans are 0/1.
-- Keep in step with ../postgres/0001_initial.sql: same tables, columns and meaning.

CREATE TABLE conversations (
    id           TEXT PRIMARY KEY,
    topic        TEXT NOT NULL,
    description  TEXT NOT NULL,
    settings     TEXT NOT NULL,            -- JSON, see Settings in model.rs
    closed       INTEGER NOT NULL DEFAULT 0,
    created_ms   INTEGER NOT NULL,
    next_pid     INTEGER NOT NULL DEFAULT 0,
    next_tid     INTEGER NOT NULL DEFAULT 0,
    last_seq     INTEGER NOT NULL DEFAULT 0, -- seq of the latest vote; per conversation, gap-free
    n_votes      INTEGER NOT NULL DEFAULT 0, -- rows in vote_history
    source       TEXT                        -- fingerprint of the files it was imported from
);
CREATE UNIQUE INDEX conversations_source ON conversations (source) WHERE source IS NOT NULL;

CREATE TABLE participants (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    pid          INTEGER NOT NULL,
    xid          TEXT,
    cohort       TEXT NOT NULL,             -- 'open' | 'panel'
    created_ms   INTEGER NOT NULL,
    erased       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation, pid)
);
CREATE UNIQUE INDEX participants_xid ON participants (conversation, xid) WHERE xid IS NOT NULL;

CREATE TABLE statements (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tid          INTEGER NOT NULL,
    text         TEXT NOT NULL,
    lang         TEXT,
    author       INTEGER,                   -- pid; NULL when unknown or erased
    created_ms   INTEGER NOT NULL,
    moderation   INTEGER NOT NULL,          -- Polis mod: -1 out, 0 unmoderated, 1 in
    is_meta      INTEGER NOT NULL,
    is_seed      INTEGER NOT NULL,
    PRIMARY KEY (conversation, tid)
);

-- Every vote ever cast, append-only (except erasure with the Remove policy).
CREATE TABLE vote_history (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    pid          INTEGER NOT NULL,
    tid          INTEGER NOT NULL,
    vote         INTEGER NOT NULL CHECK (vote IN (-1, 0, 1)),
    created_ms   INTEGER NOT NULL,
    client_key   TEXT,
    PRIMARY KEY (conversation, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX vote_history_client_key
    ON vote_history (conversation, pid, client_key) WHERE client_key IS NOT NULL;
CREATE INDEX vote_history_participant ON vote_history (conversation, pid);

-- The current vote of each participant on each statement: what the math reads.
CREATE TABLE current_votes (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    pid          INTEGER NOT NULL,
    tid          INTEGER NOT NULL,
    vote         INTEGER NOT NULL CHECK (vote IN (-1, 0, 1)),
    seq          INTEGER NOT NULL,
    modified_ms  INTEGER NOT NULL,
    PRIMARY KEY (conversation, pid, tid)
) WITHOUT ROWID;
CREATE INDEX current_votes_seq ON current_votes (conversation, seq);

CREATE TABLE moderation_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tid          INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    moderation   INTEGER NOT NULL,
    is_meta      INTEGER,
    at_ms        INTEGER NOT NULL
);
CREATE INDEX moderation_log_conversation ON moderation_log (conversation, id);

CREATE TABLE snapshots (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    math_version TEXT NOT NULL,
    format       TEXT NOT NULL,
    vote_count   INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    computed_ms  INTEGER NOT NULL,
    report_json  TEXT NOT NULL
);
CREATE INDEX snapshots_time ON snapshots (conversation, computed_ms, id);

CREATE TABLE access_keys (
    hash         TEXT PRIMARY KEY,          -- hex SHA-256 of the key; the key itself is never stored
    role         TEXT NOT NULL,             -- 'admin' | 'moderator'
    conversation TEXT,                      -- for moderators
    label        TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    revoked_ms   INTEGER
);

CREATE TABLE secrets (
    name         TEXT PRIMARY KEY,
    value        BLOB NOT NULL
);
