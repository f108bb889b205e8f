//! Invite codes: making them, reading them back as people type them, the
//! hash the store keeps, and printable forms (text, CSV, HTML cards).
//!
//! A code is 16 characters of Crockford's base32 in four groups of four,
//! e.g. `7K3M-Q9TD-X2HB-04WN`: 80 random bits, so guessing one is hopeless
//! even with millions of codes out, and short enough to type from paper.
//! The alphabet has no I, L, O or U; when reading a code back, `I` and `L`
//! count as `1`, `O` as `0`, case and dashes or spaces do not matter, so
//! the usual misreadings of a printed code still redeem it.
//!
//! Only `SHA-256(normalised code)` is stored. The codes have 80 bits of
//! entropy, so the hash cannot be reversed by trying codes, and a leaked
//! database holds no usable code. The server and `polder invites` share
//! this module, so codes made by either redeem on both.

use crate::auth::hex;
use crate::routes::pages::escape;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt::Write as _;

/// The 32 symbols of Crockford's base32, in value order.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols per code (5 bits each: 80 bits).
pub const CODE_SYMBOLS: usize = 16;
/// Symbols per dash-separated group when printed.
const GROUP: usize = 4;
/// Entropy of one code, in bits.
pub const CODE_BITS: usize = CODE_SYMBOLS * 5;
// Codes are promised to carry at least 80 bits: checked when compiling.
const _: () = assert!(CODE_BITS >= 80);

/// A new invite code: the code to hand out (shown once) and the hash to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvite {
    /// The code as printed, `XXXX-XXXX-XXXX-XXXX`.
    pub code: String,
    /// Lowercase hex SHA-256 of the normalised code: the only form stored.
    pub hash: String,
}

/// Makes one random code.
pub fn generate() -> NewInvite {
    let mut bytes = [0u8; CODE_SYMBOLS];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    // 256 is a multiple of 32, so the low five bits of a uniform byte are
    // uniform: no modulo bias.
    let symbols: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    NewInvite {
        code: grouped(&symbols),
        hash: hash_normalised(&symbols),
    }
}

/// Makes `n` distinct codes.
pub fn generate_batch(n: usize) -> Vec<NewInvite> {
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let invite = generate();
        // A repeat within 80 bits is astronomically unlikely, but two people
        // must never hold the same code, so it costs nothing to be sure.
        if seen.insert(invite.hash.clone()) {
            out.push(invite);
        }
    }
    out
}

/// The code as typed, in canonical form (16 symbols, no dashes), or `None`
/// when it cannot be a code.
pub fn normalise(typed: &str) -> Option<String> {
    let mut symbols = String::with_capacity(CODE_SYMBOLS);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' | '\u{a0}' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        symbols.push(c);
        if symbols.len() > CODE_SYMBOLS {
            return None;
        }
    }
    (symbols.len() == CODE_SYMBOLS).then_some(symbols)
}

/// The stored hash of a typed code, or `None` when it cannot be a code.
pub fn hash_typed(typed: &str) -> Option<String> {
    normalise(typed).map(|n| hash_normalised(&n))
}

fn hash_normalised(symbols: &str) -> String {
    hex(&Sha256::digest(symbols.as_bytes()))
}

fn grouped(symbols: &str) -> String {
    let mut out = String::with_capacity(CODE_SYMBOLS + CODE_SYMBOLS / GROUP);
    for (i, c) in symbols.chars().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// How a batch of codes is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InviteFormat {
    /// JSON (the API's default).
    #[default]
    Json,
    /// One code per line.
    Text,
    /// CSV with a header: `conversation,code,join_url`, for mail merges.
    Csv,
    /// A print-ready HTML page of cut-out cards, each with a code and how to use it.
    Html,
}

/// What the printed forms say besides the codes.
#[derive(Debug, Clone, Default)]
pub struct CardText<'a> {
    /// The conversation id.
    pub conversation: &'a str,
    /// The conversation's topic (the question).
    pub topic: &'a str,
    /// Where participants go to join, when known.
    pub join_url: Option<&'a str>,
}

/// One code per line.
pub fn render_text(codes: &[String]) -> String {
    let mut out = String::with_capacity(codes.len() * (CODE_SYMBOLS + 4));
    for code in codes {
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// CSV: `conversation,code,join_url`, one row per code.
pub fn render_csv(codes: &[String], card: &CardText<'_>) -> String {
    let mut out = String::from("conversation,code,join_url\n");
    for code in codes {
        let _ = writeln!(
            out,
            "{},{},{}",
            csv_field(card.conversation),
            code,
            csv_field(card.join_url.unwrap_or(""))
        );
    }
    out
}

fn csv_field(value: &str) -> String {
    // Quote when needed; a leading formula character is neutralised so a
    // spreadsheet does not evaluate a hostile topic or URL.
    let risky = value.starts_with(['=', '+', '-', '@']);
    let value = if risky {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// A print-ready page of cut-out cards (A4, two columns, dashed cut lines).
///
/// Each card is an `article` with a heading, the code in large monospace
/// type and numbered steps; the page has a language, a title and a main
/// landmark, text is black on white at print sizes, and nothing relies on
/// colour. The screen-only header explains how to print and disappears on paper.
pub fn render_html(codes: &[String], card: &CardText<'_>) -> String {
    let topic = escape(card.topic);
    let first_step = match card.join_url {
        Some(url) => format!("Go to <span class=\"url\">{}</span>.", escape(url)),
        None => "Open the link to the conversation you were given.".to_owned(),
    };
    let mut out = String::with_capacity(2_000 + codes.len() * 900);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Invite cards: {topic}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; color: #000; background: #fff; }}
.screen-only {{ max-width: 60rem; margin: 1rem auto; padding: 0 1rem; }}
.cards {{ display: grid; grid-template-columns: 1fr 1fr; gap: 0; max-width: 186mm; margin: 0 auto; padding: 0; list-style: none; }}
.card {{ border: 1px dashed #000; padding: 6mm; min-height: 62mm; break-inside: avoid; page-break-inside: avoid; }}
.card h2 {{ font-size: 12pt; margin: 0 0 3mm; }}
.card .code {{ font-family: "DejaVu Sans Mono", Consolas, "Courier New", monospace; font-size: 19pt; font-weight: 700; letter-spacing: 0.06em; margin: 0 0 3mm; white-space: nowrap; }}
.card ol {{ font-size: 10pt; margin: 0; padding-left: 5mm; }}
.card .url {{ font-weight: 700; overflow-wrap: anywhere; }}
.card .note {{ font-size: 9pt; margin: 3mm 0 0; }}
.visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }}
@media print {{ .screen-only {{ display: none; }} }}
</style>
</head>
<body>
<header class="screen-only">
<h1>Invite cards: {topic}</h1>
<p>{count} cards. Print this page (A4, scale 100%), cut along the dashed lines and hand out one card per person. The codes are shown only once: keep this page safe until the cards are handed out, then destroy any spare copies.</p>
</header>
<main>
<ul class="cards" aria-label="Invite cards">
"#,
        count = codes.len(),
    );
    for (i, code) in codes.iter().enumerate() {
        let n = i + 1;
        let _ = write!(
            out,
            r#"<li class="card"><article aria-labelledby="card-{n}">
<h2 id="card-{n}">You are invited: {topic}</h2>
<p class="code"><span class="visually-hidden">Your invite code: </span><code>{code}</code></p>
<ol>
<li>{first_step}</li>
<li>Enter the code above when you are asked for it.</li>
</ol>
<p class="note">The code works once. Keep it to yourself until you use it.</p>
</article></li>
"#,
            code = escape(code),
        );
    }
    out.push_str("</ul>\n</main>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_promised_shape_and_entropy() {
        let invite = generate();
        assert_eq!(invite.code.len(), 19, "{}", invite.code);
        let groups: Vec<&str> = invite.code.split('-').collect();
        assert_eq!(groups.len(), 4);
        assert!(groups.iter().all(|g| g.len() == 4));
        assert!(
            invite
                .code
                .bytes()
                .all(|b| b == b'-' || ALPHABET.contains(&b))
        );
        assert_eq!(hash_typed(&invite.code), Some(invite.hash.clone()));
        assert_eq!(invite.hash.len(), 64);
        let batch = generate_batch(500);
        let distinct: HashSet<&str> = batch.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(distinct.len(), 500);
    }

    #[test]
    fn typing_mistakes_that_cannot_change_the_code_are_forgiven() {
        let code = "7K3M-Q9TD-X2HB-01WN";
        let hash = hash_typed(code);
        assert!(hash.is_some());
        for typed in [
            "7k3m-q9td-x2hb-01wn",
            "7K3MQ9TDX2HB01WN",
            " 7K3M Q9TD X2HB 01WN ",
            "7K3M-Q9TD-X2HB-OIWN",
            "7K3M-Q9TD-X2HB-0lWN",
        ] {
            assert_eq!(hash_typed(typed), hash, "{typed}");
        }
        for bad in [
            "",
            "7K3M-Q9TD-X2HB",
            "7K3M-Q9TD-X2HB-01WN-0",
            "7K3M-Q9TD-X2HB-01WU",
            "7K3M-Q9TD-X2HB-01W!",
            "7K3M-Q9TD-X2HB-01WÑ",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
        assert_ne!(hash_typed("7K3M-Q9TD-X2HB-01WM"), hash);
    }

    #[test]
    fn printed_forms_hold_every_code_and_escape_the_topic() {
        let codes = vec![
            "AAAA-BBBB-CCCC-DDDD".to_owned(),
            "1111-2222-3333-4444".to_owned(),
        ];
        let card = CardText {
            conversation: "harbour",
            topic: "<script>alert(1)</script> & \"ferries\"",
            join_url: Some("https://example.org/join?c=harbour&x=1"),
        };
        assert_eq!(
            render_text(&codes),
            "AAAA-BBBB-CCCC-DDDD\n1111-2222-3333-4444\n"
        );
        let csv = render_csv(&codes, &card);
        assert_eq!(
            csv.lines().collect::<Vec<_>>(),
            [
                "conversation,code,join_url",
                "harbour,AAAA-BBBB-CCCC-DDDD,https://example.org/join?c=harbour&x=1",
                "harbour,1111-2222-3333-4444,https://example.org/join?c=harbour&x=1",
            ]
        );
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        let html = render_html(&codes, &card);
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(!html.contains("<script>"), "the topic is escaped");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;ferries&quot;"));
        assert!(html.contains("https://example.org/join?c=harbour&amp;x=1"));
        for code in &codes {
            assert!(html.contains(&format!("<code>{code}</code>")));
        }
        assert_eq!(html.matches("<article ").count(), 2);
        assert!(html.contains("<main>") && html.contains("<title>"));
        let without_url = render_html(
            &codes,
            &CardText {
                join_url: None,
                ..card
            },
        );
        assert!(without_url.contains("Open the link to the conversation you were given."));
    }
}
