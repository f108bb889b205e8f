//! Unlinkable eligibility tokens: RSA blind signatures (RFC 9474,
//! RSABSSA-SHA384-PSS-Randomized).
//!
//! Each conversation has its own RSA key pair, made the first time it is
//! needed and kept in the store's secrets (PKCS#8 DER), so every server node
//! signs with the same key. A holder of an invite code picks a random
//! message, blinds it and sends only the blinded form with the code; the
//! server redeems the code and signs blindly. The client unblinds the
//! signature and later joins with `(message, randomizer, signature)`. The
//! server checks the signature and spends the token's nullifier
//! `SHA-256(message)`, so each token joins once. The server never sees the
//! message at issuance and never sees the blinded form at joining, and the
//! two are unrelated without the client's blinding factor: what it stores
//! about a join cannot be matched to the code that paid for it. See
//! `docs/privacy.md` for what this does and does not hide.

use crate::auth::hex;
use blind_rsa_signatures::{
    BlindSignature, DefaultRng, KeyPairSha384PSSRandomized, MessageRandomizer,
    PublicKeySha384PSSRandomized, SecretKeySha384PSSRandomized, Signature,
};
use polder_store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The RFC 9474 variant every key uses (section 5: the recommended one).
pub const VARIANT: &str = "RSABSSA-SHA384-PSS-Randomized";
/// Modulus size of new keys. 2048 bits is RFC 9474's minimum and NIST's
/// floor until 2030; a token only has to outlive one conversation.
pub const MODULUS_BITS: usize = 2048;
/// Length of the per-token message randomizer (RFC 9474 section 4.1).
pub const RANDOMIZER_BYTES: usize = 32;
/// Shortest token message accepted: a message is the token's identity, and
/// short ones could collide with someone else's by accident.
pub const MIN_MESSAGE_BYTES: usize = 16;
/// Longest token message accepted.
pub const MAX_MESSAGE_BYTES: usize = 512;

/// Why an eligibility operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EligibilityError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored key does not parse: the secret was changed behind polder's back.
    #[error("the stored eligibility key of `{conversation}` is not valid: {reason}")]
    BadStoredKey {
        /// The conversation.
        conversation: String,
        /// What the RSA library said.
        reason: String,
    },
    /// RSA key generation or signing failed inside the library.
    #[error("RSA operation failed: {0}")]
    Crypto(String),
    /// The blocking worker running the RSA operation went away.
    #[error("the RSA worker stopped: {0}")]
    Worker(String),
}

/// Name of a conversation's signing key in the store's secrets.
pub fn key_secret_name(conversation: &str) -> String {
    format!("eligibility-key:{conversation}")
}

/// The nullifier of a token: hex SHA-256 of its message. Stored when the
/// token joins; reveals nothing about the message.
pub fn nullifier(message: &[u8]) -> String {
    hex(&Sha256::digest(message))
}

/// One conversation's key pair, parsed once.
pub struct ConversationKey {
    secret: SecretKeySha384PSSRandomized,
    public: PublicKeySha384PSSRandomized,
    /// The public key as RFC 9474 encodes it: SubjectPublicKeyInfo with the
    /// id-RSASSA-PSS algorithm and its parameters.
    pub spki_pss: Vec<u8>,
    /// The public key as SubjectPublicKeyInfo with the plain rsaEncryption
    /// algorithm, the form WebCrypto's `importKey("spki", …)` takes.
    pub spki_rsa: Vec<u8>,
    /// Modulus length in bytes: the length of every blinded message and signature.
    pub modulus_bytes: usize,
    modulus: Vec<u8>,
}

impl std::fmt::Debug for ConversationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationKey")
            .field("modulus_bytes", &self.modulus_bytes)
            .finish_non_exhaustive()
    }
}

/// Why a blinded message cannot be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlindedProblem {
    /// Not as long as the modulus.
    Length,
    /// Not smaller than the modulus (not an RSA input).
    Range,
}

impl ConversationKey {
    fn from_der(conversation: &str, der: &[u8]) -> Result<Self, EligibilityError> {
        let bad = |reason: String| EligibilityError::BadStoredKey {
            conversation: conversation.to_owned(),
            reason,
        };
        let secret = SecretKeySha384PSSRandomized::from_der(der).map_err(|e| bad(e.to_string()))?;
        let public = secret.public_key().map_err(|e| bad(e.to_string()))?;
        let spki_pss = public.to_spki().map_err(|e| bad(e.to_string()))?;
        let spki_rsa = public.to_der().map_err(|e| bad(e.to_string()))?;
        let rsa_public: &rsa::RsaPublicKey = public.as_ref();
        let modulus_bytes = rsa::traits::PublicKeyParts::size(rsa_public);
        // The big-integer bytes may carry leading zeros from the integer's
        // precision; the comparison in `check_blinded` needs exactly
        // `modulus_bytes` of them.
        let n = public.components().n();
        let significant = &n[n.iter().take_while(|b| **b == 0).count()..];
        if significant.len() > modulus_bytes {
            return Err(bad("the modulus is longer than the key size".into()));
        }
        let mut modulus = vec![0u8; modulus_bytes - significant.len()];
        modulus.extend_from_slice(significant);
        Ok(ConversationKey {
            secret,
            public,
            spki_pss,
            spki_rsa,
            modulus_bytes,
            modulus,
        })
    }

    /// Checks that `blinded` can be signed, without signing: lets the
    /// caller refuse bad input before it spends an invite code.
    pub fn check_blinded(&self, blinded: &[u8]) -> Result<(), BlindedProblem> {
        if blinded.len() != self.modulus_bytes {
            return Err(BlindedProblem::Length);
        }
        // Equal-length big-endian byte strings compare like the numbers.
        if blinded >= self.modulus.as_slice() {
            return Err(BlindedProblem::Range);
        }
        Ok(())
    }

    /// Signs a blinded message (an RSA private-key operation: run it off the
    /// async threads).
    pub fn blind_sign(&self, blinded: &[u8]) -> Result<Vec<u8>, EligibilityError> {
        self.secret
            .blind_sign(blinded)
            .map(|s| s.0)
            .map_err(|e| EligibilityError::Crypto(e.to_string()))
    }

    /// Whether `signature` is this key's signature of `message` prefixed
    /// with `randomizer` (the finalized token).
    pub fn verify(
        &self,
        message: &[u8],
        randomizer: [u8; RANDOMIZER_BYTES],
        signature: &[u8],
    ) -> bool {
        self.public
            .verify(
                &Signature(signature.to_vec()),
                Some(MessageRandomizer(randomizer)),
                message,
            )
            .is_ok()
    }

    /// The public key, for clients (and tests) that blind and finalize.
    pub fn public_key(&self) -> &PublicKeySha384PSSRandomized {
        &self.public
    }
}

/// Unblinds a blind signature the way a client does: for tests and for
/// Rust clients. Verifies the result against the public key.
pub fn finalize(
    public: &PublicKeySha384PSSRandomized,
    blind_signature: &[u8],
    blinding: &blind_rsa_signatures::BlindingResult,
    message: &[u8],
) -> Option<Vec<u8>> {
    public
        .finalize(&BlindSignature(blind_signature.to_vec()), blinding, message)
        .ok()
        .map(|s| s.0)
}

/// The keys of every conversation this process has used, cached.
///
/// Loading is once per conversation and process: concurrent first requests
/// wait for the same load instead of each generating a key.
#[derive(Default)]
pub struct Keys {
    cells: Mutex<HashMap<String, Arc<OnceCell<Arc<ConversationKey>>>>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    fn cell(&self, conversation: &str) -> Arc<OnceCell<Arc<ConversationKey>>> {
        // A poisoned lock only means another thread panicked while inserting
        // into the map; the map itself is still consistent.
        let mut cells = self
            .cells
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(cells.entry(conversation.to_owned()).or_default())
    }

    /// The conversation's key, made (off the async threads) and stored the
    /// first time.
    pub async fn get_or_create(
        &self,
        store: &dyn Store,
        conversation: &str,
    ) -> Result<Arc<ConversationKey>, EligibilityError> {
        let cell = self.cell(conversation);
        let key = cell
            .get_or_try_init(|| load_or_create(store, conversation))
            .await?;
        Ok(Arc::clone(key))
    }

    /// The conversation's key if one was ever made; `None` means no token
    /// can exist yet. Never generates.
    pub async fn existing(
        &self,
        store: &dyn Store,
        conversation: &str,
    ) -> Result<Option<Arc<ConversationKey>>, EligibilityError> {
        let cell = self.cell(conversation);
        if let Some(key) = cell.get() {
            return Ok(Some(Arc::clone(key)));
        }
        match store.find_secret(&key_secret_name(conversation)).await? {
            None => Ok(None),
            Some(der) => {
                let key = cell
                    .get_or_try_init(|| async {
                        ConversationKey::from_der(conversation, &der).map(Arc::new)
                    })
                    .await?;
                Ok(Some(Arc::clone(key)))
            }
        }
    }
}

async fn load_or_create(
    store: &dyn Store,
    conversation: &str,
) -> Result<Arc<ConversationKey>, EligibilityError> {
    let name = key_secret_name(conversation);
    let der = match store.find_secret(&name).await? {
        Some(der) => der,
        None => {
            // Generating an RSA key takes a noticeable fraction of a second:
            // do it on the blocking pool, not inside the store's writer or
            // on an async worker, then offer it. If another node stored a key
            // meanwhile, the store keeps theirs and answers with it.
            let fresh = actix_web::rt::task::spawn_blocking(generate_der)
                .await
                .map_err(|e| EligibilityError::Worker(e.to_string()))??;
            let started = std::time::Instant::now();
            let der = store
                .get_or_create_secret(&name, Box::new(move || fresh))
                .await?;
            tracing::info!(%conversation, store_ms = started.elapsed().as_millis() as u64, "eligibility key ready");
            der
        }
    };
    let key = actix_web::rt::task::spawn_blocking({
        let conversation = conversation.to_owned();
        move || ConversationKey::from_der(&conversation, &der)
    })
    .await
    .map_err(|e| EligibilityError::Worker(e.to_string()))??;
    Ok(Arc::new(key))
}

/// A new key pair, as PKCS#8 DER.
fn generate_der() -> Result<Vec<u8>, EligibilityError> {
    let started = std::time::Instant::now();
    let pair = KeyPairSha384PSSRandomized::generate(&mut DefaultRng, MODULUS_BITS)
        .map_err(|e| EligibilityError::Crypto(e.to_string()))?;
    tracing::info!(
        bits = MODULUS_BITS,
        ms = started.elapsed().as_millis() as u64,
        "generated an eligibility key"
    );
    pair.sk
        .to_der()
        .map_err(|e| EligibilityError::Crypto(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_is_made_once_and_tokens_verify_only_as_signed() {
        let store = polder_store::open("sqlite::memory:").await.expect("store");
        let c = store
            .create_conversation(polder_store::NewConversation {
                topic: "t".into(),
                ..Default::default()
            })
            .await
            .expect("conversation");
        let keys = Keys::default();
        assert!(
            keys.existing(store.as_ref(), &c.id)
                .await
                .expect("lookup")
                .is_none()
        );
        let started = std::time::Instant::now();
        let key = keys
            .get_or_create(store.as_ref(), &c.id)
            .await
            .expect("key");
        eprintln!("key generation + store: {:?}", started.elapsed());
        assert_eq!(key.modulus_bytes * 8, MODULUS_BITS);
        let again = Keys::default()
            .existing(store.as_ref(), &c.id)
            .await
            .expect("lookup")
            .expect("stored");
        assert_eq!(
            again.spki_pss, key.spki_pss,
            "a second process loads the same key"
        );

        let message = b"a random token message of 32 by";
        let public = PublicKeySha384PSSRandomized::from_spki(&key.spki_pss).expect("spki");
        let blinding = public.blind(&mut DefaultRng, message).expect("blind");
        assert_eq!(key.check_blinded(&blinding.blind_message.0), Ok(()));
        assert_eq!(key.check_blinded(&[0xff; 256]), Err(BlindedProblem::Range));
        assert_eq!(key.check_blinded(&[1; 10]), Err(BlindedProblem::Length));
        let blind_sig = key.blind_sign(&blinding.blind_message.0).expect("sign");
        let signature = finalize(&public, &blind_sig, &blinding, message).expect("finalize");
        let randomizer = blinding.msg_randomizer.expect("randomized").0;
        assert!(key.verify(message, randomizer, &signature));
        assert!(!key.verify(b"another message of the same size", randomizer, &signature));
        let mut other = randomizer;
        other[0] ^= 1;
        assert!(!key.verify(message, other, &signature));
        assert_ne!(
            signature, blind_sig,
            "the unblinded signature differs from the blind one"
        );
        assert_eq!(nullifier(message).len(), 64);
    }
}
