-- polder schema, version 1 (PostgreSQL).
-- Times are milliseconds since the Unix epoch. Booleans are 0/1.
-- Keep in step with ../sqlite/0001_initial.sql: same tables, columns and meaning.

CREATE TABLE conversations (
    id           TEXT PRIMARY KEY,
    topic        TEXT NOT NULL,
    description  TEXT NOT NULL,
    settings     TEXT NOT NULL,            -- JSON, see Settings in model.rs
    closed       BIGINT NOT NULL DEFAULT 0,
    created_ms   BIGINT NOT NULL,
    next_pid     BIGINT NOT NULL DEFAULT 0,
    next_tid     BIGINT NOT NULL DEFAULT 0,
    last_seq     BIGINT NOT NULL DEFAULT 0, -- seq of the latest vote; per conversation, gap-free
    n_votes      BIGINT NOT NULL DEFAULT 0, -- rows in vote_history
    source       TEXT                        -- fingerprint of the files it was imported from
);
CREATE UNIQUE INDEX conversations_source ON conversations (source) WHERE source IS NOT NULL;

CREATE TABLE participants (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    pid          BIGINT NOT NULL,
    xid          TEXT,
    cohort       TEXT NOT NULL,             -- 'open' | 'panel'
    created_ms   BIGINT NOT NULL,
    erased       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation, pid)
);
CREATE UNIQUE INDEX participants_xid ON participants (conversation, xid) WHERE xid IS NOT NULL;

CREATE TABLE statements (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tid          BIGINT NOT NULL,
    text         TEXT NOT NULL,
    lang         TEXT,
    author       BIGINT,                   -- pid; NULL when unknown or erased
    created_ms   BIGINT NOT NULL,
    moderation   BIGINT NOT NULL,          -- Polis mod: -1 out, 0 unmoderated, 1 in
    is_meta      BIGINT NOT NULL,
    is_seed      BIGINT NOT NULL,
    PRIMARY KEY (conversation, tid)
);

-- Every vote ever cast, append-only (except erasure with the Remove policy).
CREATE TABLE vote_history (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    pid          BIGINT NOT NULL,
    tid          BIGINT NOT NULL,
    vote         BIGINT NOT NULL CHECK (vote IN (-1, 0, 1)),
    created_ms   BIGINT NOT NULL,
    client_key   TEXT,
    PRIMARY KEY (conversation, seq)
);
CREATE UNIQUE INDEX vote_history_client_key
    ON vote_history (conversation, pid, client_key) WHERE client_key IS NOT NULL;
CREATE INDEX vote_history_participant ON vote_history (conversation, pid);

-- The current vote of each participant on each statement: what the math reads.
CREATE TABLE current_votes (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    pid          BIGINT NOT NULL,
    tid          BIGINT NOT NULL,
    vote         BIGINT NOT NULL CHECK (vote IN (-1, 0, 1)),
    seq          BIGINT NOT NULL,
    modified_ms  BIGINT NOT NULL,
    PRIMARY KEY (conversation, pid, tid)
);
CREATE INDEX current_votes_seq ON current_votes (conversation, seq);

CREATE TABLE moderation_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tid          BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    moderation   BIGINT NOT NULL,
    is_meta      BIGINT,
    at_ms        BIGINT NOT NULL
);
CREATE INDEX moderation_log_conversation ON moderation_log (conversation, id);

CREATE TABLE snapshots (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    math_version TEXT NOT NULL,
    format       TEXT NOT NULL,
    vote_count   BIGINT NOT NULL,
    last_seq     BIGINT NOT NULL,
    computed_ms  BIGINT NOT NULL,
    report_json  TEXT NOT NULL
);
CREATE INDEX snapshots_time ON snapshots (conversation, computed_ms, id);

CREATE TABLE access_keys (
    hash         TEXT PRIMARY KEY,          -- hex SHA-256 of the key; the key itself is never stored
    role         TEXT NOT NULL,             -- 'admin' | 'moderator'
    conversation TEXT,                      -- for moderators
    label        TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    revoked_ms   BIGINT
);

CREATE TABLE secrets (
    name         TEXT PRIMARY KEY,
    value        BYTEA NOT NULL
);
