//! Checks on what callers hand the store, shared by both backends.

use crate::error::StoreError;
use crate::model::{MAX_KEY_BYTES, MAX_STATEMENT_CHARS};
use polder_core::{Moderation, StatementId};

/// Longest conversation id.
pub const MAX_CONVERSATION_ID: usize = 64;

/// Checks a conversation id: 1 to 64 of `a-z`, `0-9`, `-`.
pub fn conversation_id(id: &str) -> Result<(), StoreError> {
    let reason = if id.is_empty() {
        Some("it is empty")
    } else if id.len() > MAX_CONVERSATION_ID {
        Some("it is longer than 64 characters")
    } else if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Some("only a-z, 0-9 and - are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidConversationId {
            id: id.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// A fresh random conversation id (12 characters of `a-z0-9`, about 62 bits).
pub fn generate_conversation_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..12)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Turns a name (e.g. a directory name) into a conversation id, if anything is left of it.
pub fn slugify(name: &str) -> Option<String> {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(MAX_CONVERSATION_ID - 4); // room for a `-NNN` suffix
    while slug.ends_with('-') {
        slug.pop();
    }
    (!slug.is_empty()).then_some(slug)
}

/// Checks a statement's text. Empty text is allowed only for a statement that
/// is already moderated out (Polis exports contain such statements; refusing
/// them would lose their votes).
pub fn statement_text(
    conversation: &str,
    statement: Option<StatementId>,
    text: &str,
    moderation: Moderation,
) -> Result<(), StoreError> {
    let reason = if text.trim().is_empty() && moderation != Moderation::Rejected {
        Some("the text is empty".to_string())
    } else if text.chars().count() > MAX_STATEMENT_CHARS {
        Some(format!(
            "the text has {} characters; at most {MAX_STATEMENT_CHARS} are allowed",
            text.chars().count()
        ))
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidStatement {
            conversation: conversation.to_string(),
            statement,
            reason,
        }),
        None => Ok(()),
    }
}

/// Checks an external id or client key: not empty, at most [`MAX_KEY_BYTES`].
pub fn key(conversation: &str, what: &str, value: &str) -> Result<(), StoreError> {
    if value.is_empty() || value.len() > MAX_KEY_BYTES {
        return Err(StoreError::InvalidValue {
            conversation: conversation.to_string(),
            reason: format!("{what} must be 1 to {MAX_KEY_BYTES} bytes long"),
        });
    }
    Ok(())
}

/// Checks an access-key hash and returns it in lowercase.
pub fn key_hash(hash: &str) -> Result<String, StoreError> {
    if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hash.to_ascii_lowercase())
    } else {
        Err(StoreError::InvalidKeyHash(hash.to_string()))
    }
}

/// A SHA-256 digest as lowercase hex (invite-code hashes, token
/// nullifiers); `what` names it in the error.
pub fn digest_hex(conversation: &str, what: &str, hash: &str) -> Result<String, StoreError> {
    if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hash.to_ascii_lowercase())
    } else {
        Err(StoreError::InvalidValue {
            conversation: conversation.to_string(),
            reason: format!("{what} must be 64 hexadecimal digits (SHA-256)"),
        })
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_are_slugs() {
        assert!(conversation_id("brexit-consensus-2").is_ok());
        assert!(conversation_id("").is_err());
        assert!(conversation_id("Brexit").is_err());
        assert!(conversation_id(&"a".repeat(65)).is_err());
        assert!(conversation_id(&generate_conversation_id()).is_ok());
        assert_eq!(slugify("vtaiwan.uberx").as_deref(), Some("vtaiwan-uberx"));
        assert_eq!(slugify("..."), None);
    }

    #[test]
    fn statement_text_limits() {
        let ok = statement_text("c", None, "Fine", Moderation::Unmoderated);
        assert!(ok.is_ok());
        assert!(statement_text("c", None, " ", Moderation::Accepted).is_err());
        assert!(statement_text("c", None, "", Moderation::Rejected).is_ok());
        let long = "x".repeat(MAX_STATEMENT_CHARS + 1);
        let e = statement_text("c", Some(StatementId(3)), &long, Moderation::Unmoderated);
        assert!(e.unwrap_err().to_string().contains("statement 3"));
    }
}
