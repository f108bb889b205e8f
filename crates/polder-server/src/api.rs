//! The request and response bodies of the API, with their OpenAPI schemas.
//!
//! These mirror the store's records but are the API contract: they change
//! only with a new API version, whatever the store does internally.

use polder_core::{Moderation, Vote};
use polder_store as store;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who may join a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ParticipationMode {
    /// Anyone may join anonymously.
    #[default]
    Open,
    /// Only with an invitation (or a signed external id).
    InviteOnly,
    /// Both; participants are tagged open or panel.
    Both,
}

/// What erasing a participant does to their votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ErasurePolicy {
    /// Keep the votes, cut every link to the person (external id).
    #[default]
    Anonymise,
    /// Delete the votes as well; the report changes accordingly.
    Remove,
}

/// Conversation settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Show participants only statements a moderator accepted.
    pub strict_moderation: bool,
    /// Languages of the conversation (BCP 47 tags), first is the default.
    pub languages: Vec<String>,
    /// Who may join.
    pub participation: ParticipationMode,
    /// Whether participants may submit statements.
    pub allow_statements: bool,
    /// What erasure does to votes.
    pub erasure: ErasurePolicy,
    /// Delete links between participants and external ids after this many days.
    pub retention_days: Option<u32>,
    /// Origins of sites allowed to embed this conversation (CORS).
    pub cors_origins: Vec<String>,
    /// Free-form owner label (an organisation or a person's role).
    pub owner: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        store::Settings::default().into()
    }
}

impl From<store::Settings> for Settings {
    fn from(s: store::Settings) -> Self {
        Settings {
            strict_moderation: s.strict_moderation,
            languages: s.languages,
            participation: match s.participation {
                store::Participation::Open => ParticipationMode::Open,
                store::Participation::InviteOnly => ParticipationMode::InviteOnly,
                store::Participation::Both => ParticipationMode::Both,
            },
            allow_statements: s.allow_statements,
            erasure: match s.erasure {
                store::Erasure::Anonymise => ErasurePolicy::Anonymise,
                store::Erasure::Remove => ErasurePolicy::Remove,
            },
            retention_days: s.retention_days,
            cors_origins: s.cors_origins,
            owner: s.owner,
        }
    }
}

impl From<Settings> for store::Settings {
    fn from(s: Settings) -> Self {
        store::Settings {
            strict_moderation: s.strict_moderation,
            languages: s.languages,
            participation: match s.participation {
                ParticipationMode::Open => store::Participation::Open,
                ParticipationMode::InviteOnly => store::Participation::InviteOnly,
                ParticipationMode::Both => store::Participation::Both,
            },
            allow_statements: s.allow_statements,
            erasure: match s.erasure {
                ErasurePolicy::Anonymise => store::Erasure::Anonymise,
                ErasurePolicy::Remove => store::Erasure::Remove,
            },
            retention_days: s.retention_days,
            cors_origins: s.cors_origins,
            owner: s.owner,
        }
    }
}

/// Body of `POST /api/v1/conversations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    /// Wanted id (`[a-z0-9-]{1,64}`); generated when absent.
    pub id: Option<String>,
    /// The question the conversation is about.
    pub topic: String,
    /// Longer introduction.
    #[serde(default)]
    pub description: String,
    /// Settings; defaults when absent.
    #[serde(default)]
    pub settings: Settings,
}

/// Body of `PATCH /api/v1/conversations/{id}`; absent fields stay as they are.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConversation {
    /// New topic.
    pub topic: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New settings (replaces all settings).
    pub settings: Option<Settings>,
}

/// A conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    /// Its id (slug).
    pub id: String,
    /// The question.
    pub topic: String,
    /// Introduction.
    pub description: String,
    /// Settings.
    pub settings: Settings,
    /// Closed conversations take no votes or statements.
    pub closed: bool,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Votes cast so far (changed votes count twice).
    pub vote_count: u64,
}

impl From<store::Conversation> for ConversationView {
    fn from(c: store::Conversation) -> Self {
        ConversationView {
            id: c.id,
            topic: c.topic,
            description: c.description,
            settings: c.settings.into(),
            closed: c.closed,
            created_ms: c.created_ms,
            vote_count: c.vote_count,
        }
    }
}

/// Answer to creating a conversation: the secrets are shown only here.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedConversation {
    /// The conversation.
    pub conversation: ConversationView,
    /// Key of the conversation's moderators (owner). Shown once; only its
    /// hash is stored.
    pub moderator_key: String,
    /// Secret the embedding site signs external ids with (base64url).
    pub xid_secret: String,
}

/// Moderation state as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModerationState {
    /// Not yet looked at.
    Unmoderated,
    /// Accepted (moderated in).
    In,
    /// Rejected (moderated out): no longer shown, takes no votes.
    Out,
}

impl From<Moderation> for ModerationState {
    fn from(m: Moderation) -> Self {
        match m {
            Moderation::Unmoderated => ModerationState::Unmoderated,
            Moderation::Accepted => ModerationState::In,
            Moderation::Rejected => ModerationState::Out,
        }
    }
}

impl From<ModerationState> for Moderation {
    fn from(m: ModerationState) -> Self {
        match m {
            ModerationState::Unmoderated => Moderation::Unmoderated,
            ModerationState::In => Moderation::Accepted,
            ModerationState::Out => Moderation::Rejected,
        }
    }
}

/// Body of `POST /api/v1/conversations/{id}/statements`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitStatement {
    /// The statement (1 to 2,000 characters).
    pub text: String,
    /// Its language (BCP 47), e.g. `nl` or `en`.
    pub lang: Option<String>,
    /// Moderators only: mark as a seed statement (accepted at once).
    #[serde(default)]
    pub is_seed: bool,
    /// Moderators only: a meta statement (about the conversation itself).
    #[serde(default)]
    pub is_meta: bool,
}

/// A statement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementView {
    /// Dense id within the conversation (Polis `tid`).
    pub id: u32,
    /// Text.
    pub text: String,
    /// Language tag.
    pub lang: Option<String>,
    /// Moderation state.
    pub moderation: ModerationState,
    /// A meta statement.
    pub is_meta: bool,
    /// A seed statement written by the organisers.
    pub is_seed: bool,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
}

impl From<store::Statement> for StatementView {
    fn from(s: store::Statement) -> Self {
        StatementView {
            id: s.id.0,
            text: s.text,
            lang: s.lang,
            moderation: s.moderation.into(),
            is_meta: s.is_meta,
            is_seed: s.is_seed,
            created_ms: s.created_ms,
        }
    }
}

/// Body of `POST /api/v1/conversations/{id}/statements/{tid}/moderation`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Moderate {
    /// New state.
    pub state: ModerationState,
    /// Also set or clear the meta flag.
    pub is_meta: Option<bool>,
}

/// One entry of the moderation audit log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModerationLogView {
    /// Statement acted on.
    pub statement_id: u32,
    /// Who acted (key label).
    pub actor: String,
    /// State set.
    pub state: ModerationState,
    /// Meta flag set, if it was.
    pub is_meta: Option<bool>,
    /// When, ms since the epoch.
    pub at_ms: i64,
}

impl From<store::ModerationLogEntry> for ModerationLogView {
    fn from(e: store::ModerationLogEntry) -> Self {
        ModerationLogView {
            statement_id: e.statement.0,
            actor: e.actor,
            state: e.state.into(),
            is_meta: e.is_meta,
            at_ms: e.at_ms,
        }
    }
}

/// Body of `POST /api/v1/conversations/{id}/participants`. Every field is
/// optional; which ones a join needs depends on the conversation's
/// `participation` setting (see docs/api.md, "Participation modes").
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Join {
    /// External id from the embedding site, with its signature.
    pub xid: Option<String>,
    /// base64url HMAC-SHA-256 of `"<conversation>\n<xid>"` under the
    /// conversation's xid secret.
    pub xid_signature: Option<String>,
    /// The solved challenge of `GET …/join-challenge`; required for joins
    /// without a signed xid while the difficulty is above 0.
    pub pow: Option<PowSolution>,
    /// An invite code (`XXXX-XXXX-XXXX-XXXX`; case, dashes and spaces do
    /// not matter). Joins the panel and uses the code up. The server sees
    /// which code became which participant at that moment (it stores no
    /// link); for unlinkability, exchange the code for a `token` first.
    #[schema(example = "7K3M-Q9TD-X2HB-04WN")]
    pub invite_code: Option<String>,
    /// An eligibility token from `POST …/eligibility/tokens`, finalized by
    /// the client. Joins the panel; each token joins once. Not together with
    /// `invite_code`.
    pub token: Option<EligibilityToken>,
}

/// A finalized RFC 9474 blind-signature token (RSABSSA-SHA384-PSS-Randomized).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityToken {
    /// The message the client blinded (base64url): 16 to 512 bytes, best
    /// 32 fresh random bytes. Its SHA-256 is stored when the token joins.
    pub message: String,
    /// The 32-byte message randomizer that blinding produced (base64url).
    pub msg_randomizer: String,
    /// The unblinded signature (base64url, as long as the key's modulus).
    pub signature: String,
}

/// How a participant came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CohortName {
    /// Through the open link, anonymously or with an external id.
    Open,
    /// As a member of the invited panel (invite code, eligibility token, or
    /// a signed external id in an invite-only conversation).
    Panel,
}

impl From<store::Cohort> for CohortName {
    fn from(c: store::Cohort) -> Self {
        match c {
            store::Cohort::Open => CohortName::Open,
            store::Cohort::Panel => CohortName::Panel,
        }
    }
}

/// A solved proof-of-work challenge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowSolution {
    /// The challenge string, exactly as received.
    pub challenge: String,
    /// Decimal number `n` such that SHA-256(`<challenge>:<n>`) has at least
    /// `difficulty` leading zero bits.
    pub nonce: String,
}

/// A proof-of-work puzzle to solve before joining.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JoinChallenge {
    /// The string to hash, with `:<nonce>` appended.
    pub challenge: String,
    /// Leading zero bits the SHA-256 hash must have (0: no work needed,
    /// `pow` may be left out). Rises while the conversation is flooded with joins.
    pub difficulty: u8,
    /// Until when the challenge can be used, milliseconds since the epoch.
    pub expires_ms: i64,
}

/// A participant's credentials: keep the token, send it as
/// `Authorization: Bearer <token>`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Joined {
    /// Dense id within the conversation (Polis `pid`).
    pub participant_id: u32,
    /// Bearer token of this participant.
    pub token: String,
    /// Open or panel: how this participant counts in the conversation.
    pub cohort: CohortName,
}

/// Body of `POST /api/v1/conversations/{id}/invites`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvites {
    /// How many codes to make (1 to 10,000 per request).
    pub count: u32,
    /// Where participants go to join; printed on the cards and in the CSV.
    pub join_url: Option<String>,
}

/// New invite codes, shown only in this answer (only their hashes are stored).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedInvites {
    /// The codes, `XXXX-XXXX-XXXX-XXXX` (80 random bits each).
    pub codes: Vec<String>,
    /// The conversation's invite counts after this batch.
    pub invites: InviteStatus,
}

/// How many invite codes a conversation has.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct InviteStatus {
    /// Codes made.
    pub total: u64,
    /// Codes redeemed (joined directly, or exchanged for an eligibility token).
    pub used: u64,
    /// Codes not yet redeemed.
    pub unused: u64,
}

impl From<store::InviteCounts> for InviteStatus {
    fn from(c: store::InviteCounts) -> Self {
        InviteStatus {
            total: c.total,
            used: c.used,
            unused: c.total.saturating_sub(c.used),
        }
    }
}

/// A conversation's public key for eligibility tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EligibilityKey {
    /// The RFC 9474 variant: `RSABSSA-SHA384-PSS-Randomized`.
    pub variant: String,
    /// Modulus size in bits.
    pub modulus_bits: u32,
    /// SubjectPublicKeyInfo with the id-RSASSA-PSS algorithm identifier and
    /// parameters, as RFC 9474 encodes public keys (DER, base64url).
    pub spki: String,
    /// The same key as SubjectPublicKeyInfo with the rsaEncryption
    /// algorithm (DER, base64url): the form WebCrypto's `importKey("spki")`
    /// and most RSA libraries read.
    pub spki_rsa_encryption: String,
}

/// Body of `POST /api/v1/conversations/{id}/eligibility/tokens`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueToken {
    /// The invite code that pays for the token; it is used up.
    pub invite_code: String,
    /// The blinded message (base64url, as long as the key's modulus). The
    /// server signs it and keeps nothing of it.
    pub blinded_message: String,
}

/// A blind signature, for the client to finalize into a token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedToken {
    /// The blind signature (base64url).
    pub blind_signature: String,
}

/// A vote value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteValue {
    /// Agree (+1 in Polis exports).
    Agree,
    /// Disagree (-1).
    Disagree,
    /// Pass (0): seen, no opinion.
    Pass,
}

impl From<VoteValue> for Vote {
    fn from(v: VoteValue) -> Self {
        match v {
            VoteValue::Agree => Vote::Agree,
            VoteValue::Disagree => Vote::Disagree,
            VoteValue::Pass => Vote::Pass,
        }
    }
}

impl From<Vote> for VoteValue {
    fn from(v: Vote) -> Self {
        match v {
            Vote::Agree => VoteValue::Agree,
            Vote::Disagree => VoteValue::Disagree,
            Vote::Pass => VoteValue::Pass,
        }
    }
}

/// Body of `POST /api/v1/conversations/{id}/votes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastVote {
    /// The statement voted on.
    pub statement_id: u32,
    /// The vote.
    pub vote: VoteValue,
    /// Client-chosen key (≤ 256 bytes): retrying with the same key does not
    /// vote twice.
    pub client_key: Option<String>,
}

/// Body of `POST /api/v1/conversations/{id}/votes/batch`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastVotes {
    /// The votes, all or nothing.
    pub votes: Vec<CastVote>,
}

/// Receipt of one durable vote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VoteAck {
    /// Sequence number of the vote in the conversation.
    pub seq: u64,
    /// True when this client key had voted before; nothing new was stored.
    pub duplicate: bool,
}

/// Answer to a batch of votes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VoteAcks {
    /// One receipt per vote, in order.
    pub receipts: Vec<VoteAck>,
}

/// The next statement to show a participant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NextStatement {
    /// The statement, or none when the participant has seen them all.
    pub statement: Option<StatementView>,
    /// Statements left to vote on, including this one.
    pub remaining: usize,
    /// Statements the participant voted on.
    pub voted: usize,
}

/// Where a participant stands on the opinion map.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Position {
    /// The participant.
    pub participant_id: u32,
    /// Opinion group, if the participant is in one yet.
    pub group_id: Option<u32>,
    /// Coordinates on the opinion map, once they voted enough.
    pub projection: Option<[f64; 2]>,
    /// Whether the math counts the participant (Polis `in-conv`).
    pub in_conversation: bool,
    /// Votes the report reflects.
    pub votes_counted: u32,
}

/// A stored report snapshot (without its report).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SnapshotView {
    /// Snapshot id.
    pub id: u64,
    /// Math version that computed it.
    pub math_version: String,
    /// Report format.
    pub format: String,
    /// Votes it reflects.
    pub vote_count: u64,
    /// Sequence number of the newest vote it reflects.
    pub last_seq: u64,
    /// When it was computed, ms since the epoch.
    pub computed_ms: i64,
}

impl From<store::SnapshotMeta> for SnapshotView {
    fn from(m: store::SnapshotMeta) -> Self {
        SnapshotView {
            id: m.id,
            math_version: m.math_version,
            format: m.format,
            vote_count: m.vote_count,
            last_seq: m.last_seq,
            computed_ms: m.computed_ms,
        }
    }
}

/// What erasure removed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Erased {
    /// Policy applied.
    pub policy: ErasurePolicy,
    /// Votes deleted.
    pub votes_removed: u64,
    /// Statements whose author link was cut.
    pub statements_unlinked: u64,
    /// Whether an external id was deleted.
    pub xid_removed: bool,
}

/// Liveness / readiness answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}
