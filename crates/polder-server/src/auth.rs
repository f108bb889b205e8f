//! Credentials: API keys for people who run conversations, signed tokens for
//! participants, and signed external ids for embedding sites.
//!
//! API keys are random 256-bit strings shown once; the database keeps only
//! their SHA-256, so a leaked database does not leak usable keys. A plain
//! hash (not argon2) is enough because the keys are random, not chosen by
//! people, and it lets a key be looked up by its hash on every request.
//!
//! Participant tokens are stateless: `pt1.<conversation>.<pid>.<mac>` with an
//! HMAC-SHA-256 over the conversation and pid under a server secret. Nobody
//! without the secret can make a token for another participant.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Prefix of every API key, so that leaked keys are easy to find in logs and
/// code scanning rules.
pub const API_KEY_PREFIX: &str = "polder_";

/// Prefix and version of participant tokens.
const TOKEN_PREFIX: &str = "pt1";

/// A freshly made API key: the secret to show once, and the hash to store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// The key as the caller must send it (`Authorization: Bearer …`).
    pub plaintext: String,
    /// Its hash, the only form stored.
    pub hash: String,
}

/// Makes a new random API key.
pub fn generate_api_key() -> NewApiKey {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let plaintext = format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_api_key(&plaintext);
    NewApiKey { plaintext, hash }
}

/// Makes a key with `role`, stores its hash, and returns the key itself
/// (the only time it is seen).
pub async fn issue_api_key(
    store: &dyn polder_store::Store,
    role: polder_store::Role,
    label: &str,
) -> Result<String, polder_store::StoreError> {
    let key = generate_api_key();
    store
        .put_key(polder_store::KeyRecord {
            hash: key.hash,
            role,
            label: label.to_owned(),
            created_ms: crate::time::now_ms(),
        })
        .await?;
    Ok(key.plaintext)
}

/// The stored form of an API key: lowercase hex SHA-256.
pub fn hash_api_key(plaintext: &str) -> String {
    hex(&Sha256::digest(plaintext.as_bytes()))
}

/// Makes 32 random bytes for a new server secret.
pub fn random_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Issues and checks participant tokens under one server secret.
#[derive(Clone)]
pub struct TokenSigner {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl TokenSigner {
    /// A signer with this secret (at least 32 bytes in practice).
    pub fn new(secret: Vec<u8>) -> Self {
        TokenSigner { secret }
    }

    fn mac(&self, message: &str) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        mac
    }

    /// The token that proves to be participant `pid` of `conversation`.
    pub fn issue(&self, conversation: &str, pid: u32) -> String {
        let body = format!("{TOKEN_PREFIX}.{conversation}.{pid}");
        let tag = self.mac(&body).finalize().into_bytes();
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks a token; returns its conversation and participant.
    pub fn verify(&self, token: &str) -> Option<(String, u32)> {
        let (body, tag) = token.rsplit_once('.')?;
        let mut parts = body.split('.');
        if parts.next()? != TOKEN_PREFIX {
            return None;
        }
        let conversation = parts.next()?;
        let pid: u32 = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        // verify_slice compares in constant time.
        self.mac(body).verify_slice(&tag).ok()?;
        Some((conversation.to_owned(), pid))
    }
}

/// Checks an external id signed by an embedding site: the site computes
/// `base64url(HMAC-SHA-256(xid_secret, "<conversation>\n<xid>"))` on its
/// server and passes it with the xid.
pub fn verify_xid(xid_secret: &[u8], conversation: &str, xid: &str, signature: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')) else {
        return false;
    };
    sign_xid_mac(xid_secret, conversation, xid)
        .verify_slice(&tag)
        .is_ok()
}

/// Signs an external id the way an embedding site must (used in tests and
/// documentation examples).
pub fn sign_xid(xid_secret: &[u8], conversation: &str, xid: &str) -> String {
    URL_SAFE_NO_PAD.encode(
        sign_xid_mac(xid_secret, conversation, xid)
            .finalize()
            .into_bytes(),
    )
}

fn sign_xid_mac(xid_secret: &[u8], conversation: &str, xid: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(xid_secret).expect("HMAC takes any key length");
    mac.update(conversation.as_bytes());
    mac.update(b"\n");
    mac.update(xid.as_bytes());
    mac
}

/// A keyed hash of a client address for rate limiting: the raw address is
/// never stored, and without the secret the hash cannot be reversed by
/// enumerating the address space.
pub fn client_fingerprint(secret: &[u8], address: &str) -> u64 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(address.as_bytes());
    let tag = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&tag[..8]);
    u64::from_le_bytes(first)
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_resist_tampering() {
        let signer = TokenSigner::new(b"0123456789abcdef0123456789abcdef".to_vec());
        let token = signer.issue("harbour", 42);
        assert_eq!(signer.verify(&token), Some(("harbour".to_owned(), 42)));
        let forged = token.replace(".42.", ".43.");
        assert_eq!(signer.verify(&forged), None);
        let other = TokenSigner::new(b"another secret of thirty-two b..".to_vec());
        assert_eq!(other.verify(&token), None);
        assert_eq!(signer.verify("pt1.harbour.42"), None);
        assert_eq!(signer.verify(""), None);
    }

    #[test]
    fn api_keys_are_random_and_hashed() {
        let a = generate_api_key();
        let b = generate_api_key();
        assert_ne!(a.plaintext, b.plaintext);
        assert!(a.plaintext.starts_with(API_KEY_PREFIX));
        assert_eq!(a.hash, hash_api_key(&a.plaintext));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.plaintext));
    }

    #[test]
    fn xid_signatures_bind_conversation_and_xid() {
        let secret = b"site secret";
        let sig = sign_xid(secret, "harbour", "citizen-7");
        assert!(verify_xid(secret, "harbour", "citizen-7", &sig));
        assert!(!verify_xid(secret, "harbour", "citizen-8", &sig));
        assert!(!verify_xid(secret, "other", "citizen-7", &sig));
        assert!(!verify_xid(b"wrong", "harbour", "citizen-7", &sig));
        assert!(!verify_xid(secret, "harbour", "citizen-7", "not base64!"));
    }
}
