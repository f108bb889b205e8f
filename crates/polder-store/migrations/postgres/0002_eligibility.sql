-- polder schema, version 2 (PostgreSQL): invite codes and spent eligibility tokens.
-- Keep in step with ../sqlite/0002_eligibility.sql: same tables, columns and meaning.
--
-- Both tables are deliberately poor: no timestamps, no participant, no
-- counter, nothing but what single use needs. (PostgreSQL's own row
-- bookkeeping — xmin, physical order — is outside polder's control; see
-- docs/privacy.md.)

-- One row per invite code; the code itself is never stored, only its SHA-256.
CREATE TABLE invites (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    code_hash    TEXT NOT NULL,             -- hex SHA-256 of the normalised code
    used         BIGINT NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    PRIMARY KEY (conversation, code_hash)
);

-- Nullifiers of blind-signed eligibility tokens that joined: each token joins once.
CREATE TABLE spent_tokens (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    nullifier    TEXT NOT NULL,             -- hex SHA-256 of the token message
    PRIMARY KEY (conversation, nullifier)
);
