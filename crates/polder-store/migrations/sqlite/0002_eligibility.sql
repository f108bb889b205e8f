-- polder schema, version 2 (SQLite): invite codes and spent eligibility tokens.
-- Keep in step with ../postgres/0002_eligibility.sql: same tables, columns and meaning.
--
-- Both tables are deliberately poor: no timestamps, no participant, no
-- counter, nothing but what single use needs. WITHOUT ROWID stores the rows
-- in key order (by hash), so not even an insertion-order rowid is left that
-- could be lined up with the order in which participants joined.

-- One row per invite code; the code itself is never stored, only its SHA-256.
CREATE TABLE invites (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    code_hash    TEXT NOT NULL,             -- hex SHA-256 of the normalised code
    used         INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    PRIMARY KEY (conversation, code_hash)
) WITHOUT ROWID;

-- Nullifiers of blind-signed eligibility tokens that joined: each token joins once.
CREATE TABLE spent_tokens (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    nullifier    TEXT NOT NULL,             -- hex SHA-256 of the token message
    PRIMARY KEY (conversation, nullifier)
) WITHOUT ROWID;
