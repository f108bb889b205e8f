//! The records the store keeps, as the rest of polder sees them.
//!
//! Times are milliseconds since the Unix epoch. Participant and statement ids
//! are the dense per-conversation numbers Polis uses (`pid`, `tid`).

use polder_core::{Moderation, ParticipantId, StatementId, Vote, VoteMatrix};
use serde::{Deserialize, Serialize};

/// Longest statement text accepted, in characters (Unicode scalar values).
///
/// Polis's own limit is 140 characters in its default client, but real
/// exports hold statements of up to 500; 2,000 leaves room for translations
/// and long-form questions while keeping rows small.
pub const MAX_STATEMENT_CHARS: usize = 2_000;

/// Longest external participant id (`xid`) and vote `client_key`, in bytes.
pub const MAX_KEY_BYTES: usize = 256;

/// Who may join a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Participation {
    /// Anyone with the link.
    #[default]
    Open,
    /// Only invited participants (a panel).
    InviteOnly,
    /// Both an open part and an invited panel, reported separately.
    Both,
}

/// What erasing a participant does to their votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Erasure {
    /// Keep the votes under the bare pid, drop everything that links them to a person.
    #[default]
    Anonymise,
    /// Delete the votes, their history and the participant.
    Remove,
}

/// Settings of a conversation. Stored as JSON so that new settings need no migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Show participants only statements a moderator accepted.
    pub strict_moderation: bool,
    /// Languages statements may be written in (BCP 47 tags); empty: any.
    pub languages: Vec<String>,
    /// Who may join.
    pub participation: Participation,
    /// Whether participants may write statements.
    pub allow_statements: bool,
    /// What erasing a participant does.
    pub erasure: Erasure,
    /// Delete personal data this many days after the conversation closes.
    pub retention_days: Option<u32>,
    /// Origins allowed to embed the conversation.
    pub cors_origins: Vec<String>,
    /// Who runs the conversation (free text, e.g. an organisation).
    pub owner: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            strict_moderation: false,
            languages: Vec::new(),
            participation: Participation::Open,
            allow_statements: true,
            erasure: Erasure::Anonymise,
            retention_days: None,
            cors_origins: Vec::new(),
            owner: None,
        }
    }
}

/// A conversation to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NewConversation {
    /// The id: `[a-z0-9-]{1,64}`; generated when `None`.
    pub id: Option<String>,
    /// The question or topic.
    pub topic: String,
    /// A longer description.
    pub description: String,
    /// Settings.
    pub settings: Settings,
}

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The id (slug).
    pub id: String,
    /// The question or topic.
    pub topic: String,
    /// A longer description.
    pub description: String,
    /// Settings.
    pub settings: Settings,
    /// Closed to new votes and statements.
    pub closed: bool,
    /// When it was created.
    pub created_ms: i64,
    /// Votes cast so far (every change counts; see [`crate::Store::vote_count`]).
    pub vote_count: u64,
    /// Sequence number of the latest vote (0: none yet).
    pub last_seq: u64,
}

/// Changes to a conversation; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConversationPatch {
    /// New topic.
    pub topic: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New settings (replaced as a whole).
    pub settings: Option<Settings>,
}

/// A statement to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NewStatement {
    /// The text: not empty, at most [`MAX_STATEMENT_CHARS`] characters.
    pub text: String,
    /// Language tag, when known.
    pub lang: Option<String>,
    /// The participant who wrote it; `None` for the conversation's owner.
    pub author: Option<ParticipantId>,
    /// A statement about the conversation itself.
    pub is_meta: bool,
    /// Written by the owner to start the conversation.
    pub is_seed: bool,
    /// Initial moderation state.
    pub moderation: Moderation,
}

/// A stored statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Dense id within the conversation (0, 1, 2, …).
    pub id: StatementId,
    /// The text.
    pub text: String,
    /// Language tag, when known.
    pub lang: Option<String>,
    /// Author, unless unknown or erased.
    pub author: Option<ParticipantId>,
    /// When it was written.
    pub created_ms: i64,
    /// Moderation state.
    pub moderation: Moderation,
    /// Meta statement.
    pub is_meta: bool,
    /// Seed statement.
    pub is_seed: bool,
}

/// A moderator's decision about one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationAction {
    /// Who decided (a key label or user name; kept in the audit log).
    pub actor: String,
    /// The new moderation state.
    pub state: Moderation,
    /// A new meta flag, or `None` to keep it.
    pub is_meta: Option<bool>,
}

/// One entry of the moderation audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationLogEntry {
    /// Position in the log (ascending).
    pub id: u64,
    /// The statement.
    pub statement: StatementId,
    /// Who decided.
    pub actor: String,
    /// The state set.
    pub state: Moderation,
    /// The meta flag set, if it was changed.
    pub is_meta: Option<bool>,
    /// When.
    pub at_ms: i64,
}

/// How a participant came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Cohort {
    /// Through the open link.
    #[default]
    Open,
    /// Invited as a member of a panel.
    Panel,
}

/// A participant to add (or to find, when the xid is known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NewParticipant {
    /// An id from the embedding site; with it, adding is get-or-create.
    pub xid: Option<String>,
    /// How they came in.
    pub cohort: Cohort,
}

/// A stored participant. Pseudonymous by design: no IP address, no e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Dense id within the conversation (0, 1, 2, …).
    pub id: ParticipantId,
    /// External id, unless none was given or it was erased.
    pub xid: Option<String>,
    /// How they came in.
    pub cohort: Cohort,
    /// When they joined.
    pub created_ms: i64,
    /// Erased with the Anonymise policy: their votes stay, they cannot vote again.
    pub erased: bool,
}

/// One vote to cast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVote {
    /// Who votes.
    pub participant: ParticipantId,
    /// On which statement.
    pub statement: StatementId,
    /// Which way.
    pub vote: Vote,
    /// A key chosen by the client for this vote; casting the same key again
    /// for the same participant returns the first receipt instead of voting twice.
    pub client_key: Option<String>,
}

/// What the store says about one cast vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteReceipt {
    /// The vote's sequence number in its conversation (1, 2, 3, …, no gaps).
    pub seq: u64,
    /// The client key had been used before: nothing new was stored.
    pub duplicate: bool,
}

/// One vote from the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecord {
    /// Sequence number.
    pub seq: u64,
    /// Who.
    pub participant: ParticipantId,
    /// On what.
    pub statement: StatementId,
    /// Which way.
    pub vote: Vote,
    /// When.
    pub created_ms: i64,
}

/// The current votes of a conversation, as the engine wants them.
#[derive(Debug, Clone)]
pub struct LoadedMatrix {
    /// The votes.
    pub matrix: VoteMatrix,
    /// The sequence number the matrix reflects: every vote up to it is in.
    pub last_seq: u64,
    /// Cells loaded (equals `matrix.n_votes()`).
    pub n_votes: u64,
}

/// A computed report to keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSnapshot {
    /// Version of the math that computed it (e.g. the polder version).
    pub math_version: String,
    /// Report format (e.g. `report-v1`, `pca2`).
    pub format: String,
    /// Votes the report reflects.
    pub vote_count: u64,
    /// The last vote sequence number it reflects.
    pub last_seq: u64,
    /// When it was computed.
    pub computed_ms: i64,
    /// The report.
    pub report_json: String,
}

/// A stored snapshot without its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Id, ascending in the order snapshots were saved.
    pub id: u64,
    /// Version of the math.
    pub math_version: String,
    /// Report format.
    pub format: String,
    /// Votes the report reflects.
    pub vote_count: u64,
    /// The last vote sequence number it reflects.
    pub last_seq: u64,
    /// When it was computed.
    pub computed_ms: i64,
}

/// A stored snapshot with its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// What it is.
    pub meta: SnapshotMeta,
    /// The report.
    pub report_json: String,
}

/// What an access key allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "role")]
pub enum Role {
    /// Everything.
    Admin,
    /// Moderating one conversation.
    Moderator {
        /// The conversation.
        conversation: String,
    },
}

/// An access key, known only by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// SHA-256 of the key, 64 lowercase hexadecimal digits.
    pub hash: String,
    /// What it allows.
    pub role: Role,
    /// A human-readable name (shown in the moderation log).
    pub label: String,
    /// When it was made.
    pub created_ms: i64,
}

/// Everything stored about one participant (GDPR access request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantExport {
    /// The conversation.
    pub conversation: String,
    /// The participant.
    pub participant: Participant,
    /// Every vote they cast, in order.
    pub votes: Vec<VoteRecord>,
    /// Statements they wrote.
    pub statements: Vec<Statement>,
}

/// What erasing a participant did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReport {
    /// The policy applied.
    pub policy: Erasure,
    /// History rows deleted (Remove) — 0 under Anonymise.
    pub votes_removed: u64,
    /// Statements whose author link was dropped (their text stays).
    pub statements_unlinked: u64,
    /// Whether an external id was dropped.
    pub xid_removed: bool,
}

/// What redeeming an invite code did. A code redeems once: the first call
/// marks it used, every later one answers [`Redemption::AlreadyUsed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Redemption {
    /// The code was unused and is now used: admit the holder.
    Redeemed,
    /// The code exists but was redeemed before.
    AlreadyUsed,
    /// No such code in this conversation (mistyped, or from elsewhere).
    Unknown,
}

/// How many invite codes a conversation has, and how many were redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InviteCounts {
    /// Codes made.
    pub total: u64,
    /// Codes redeemed (by a join or by issuing an eligibility token).
    pub used: u64,
}
