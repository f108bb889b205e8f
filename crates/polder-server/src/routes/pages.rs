//! The web front end: server-rendered pages (landing, participant, report,
//! an example host page) and the web components they use, all compiled into
//! the binary.
//!
//! Pages carry no inline script or style and are served with a strict
//! Content-Security-Policy; data reaches the scripts through `data-*` and
//! element attributes. The language is `?lang=`, then `Accept-Language`,
//! then English.

use super::State;
use crate::error::ApiResult;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use polder_store::Conversation;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::sync::LazyLock;

/// Registers the pages and the assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(landing))
        .route("/c/{id}", web::get().to(participant))
        .route("/c/{id}/report", web::get().to(report))
        .route("/examples/embed", web::get().to(example_embed))
        .route("/examples/{file}", web::get().to(example_asset))
        .route("/assets/{file}", web::get().to(asset));
}

/// One file compiled into the binary.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// The web components and the page style sheet.
const ASSETS: &[Asset] = &[
    Asset {
        name: "polder.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/polder.js"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/api.js"),
    },
    Asset {
        name: "i18n.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/i18n.js"),
    },
    Asset {
        name: "pow.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/pow.js"),
    },
    Asset {
        name: "styles.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../web/styles.js"),
    },
    Asset {
        name: "polder.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../web/polder.css"),
    },
];

/// Files of the worked embedding example (`examples/embed.*`).
const EXAMPLES: &[Asset] = &[Asset {
    name: "embed.css",
    content_type: "text/css; charset=utf-8",
    body: include_str!("../../../../examples/embed.css"),
}];

/// The example host page, served at `/examples/embed`.
const EXAMPLE_PAGE: &str = include_str!("../../../../examples/embed.html");

/// Strong ETags of the assets, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .chain(EXAMPLES)
        .map(|a| etag_of(a.body))
        .collect()
});

fn etag_of(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut tag = String::from("\"");
    for byte in &digest[..12] {
        let _ = write!(tag, "{byte:02x}");
    }
    tag.push('"');
    tag
}

/// The Content-Security-Policy of every page; `frame_ancestors` says who
/// may frame it.
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    En,
    /// Dutch.
    Nl,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }

    fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "nl" => Some(Lang::Nl),
            _ => None,
        }
    }
}

/// Chooses the page language: `?lang=`, then the best `Accept-Language`
/// entry polder speaks, then English.
pub fn negotiate(query_lang: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(lang) = query_lang.and_then(Lang::parse) {
        return lang;
    }
    let mut best: Option<(f32, Lang)> = None;
    for entry in accept_language.unwrap_or("").split(',') {
        let mut parts = entry.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        // The first of equal weights wins, as the header lists preferences in order.
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::En, |(_, lang)| lang)
}

fn request_lang(req: &HttpRequest) -> Lang {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok();
    let query_lang = query
        .as_ref()
        .and_then(|q| q.get("lang"))
        .map(String::as_str);
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    negotiate(query_lang, accept)
}

/// The page texts of one language.
struct Texts {
    skip: &'static str,
    site: &'static str,
    landing_title: &'static str,
    landing_intro: &'static str,
    open_conversations: &'static str,
    none_open: &'static str,
    take_part: &'static str,
    see_report: &'static str,
    how_title: &'static str,
    how_steps: [&'static str; 4],
    embed_note: &'static str,
    votes: &'static str,
    participant_map: &'static str,
    report_link: &'static str,
    report_title: &'static str,
    report_intro: &'static str,
    report_map: &'static str,
    report_groups: &'static str,
    report_consensus: &'static str,
    back_to_vote: &'static str,
    home: &'static str,
    not_found_title: &'static str,
    not_found_text: &'static str,
    closed: &'static str,
    language: &'static str,
    other_lang: &'static str,
    footer: &'static str,
}

const EN: Texts = Texts {
    skip: "Skip to the main content",
    site: "polder",
    landing_title: "Conversations",
    landing_intro: "polder shows where people agree and disagree. Vote on short statements; \
                    the map groups people who vote alike, and the report shows what each group \
                    stands for and what everybody shares.",
    open_conversations: "Open conversations",
    none_open: "There are no open conversations right now.",
    take_part: "Take part",
    see_report: "See the report",
    how_title: "How to take part",
    how_steps: [
        "Open a conversation and read the question.",
        "For each statement choose agree, disagree or pass. Everything works with the keyboard: \
         Tab moves between the buttons, Enter or Space chooses.",
        "Add a statement of your own if something is missing.",
        "Watch the opinion map and the groups change as people vote.",
    ],
    embed_note: "Organisers can embed the same voting card, map and groups in their own \
                 website; see the embedding guide in the README.",
    votes: "votes",
    participant_map: "Where you stand",
    report_link: "Read the full report",
    report_title: "Report",
    report_intro: "Move the time slider to see the groups before, during and after an event. \
                   Every chart has a table with the same data.",
    report_map: "Opinion map",
    report_groups: "Opinion groups",
    report_consensus: "What all groups share",
    back_to_vote: "Take part in this conversation",
    home: "All conversations",
    not_found_title: "Conversation not found",
    not_found_text: "There is no conversation with this address. It may have been removed, \
                     or the link is mistyped.",
    closed: "This conversation is closed; you can still read the report.",
    language: "Language",
    other_lang: "Nederlands",
    footer: "polder — open-source opinion mapping. No cookies; your participant token stays \
             in this browser.",
};

const NL: Texts = Texts {
    skip: "Naar de hoofdinhoud",
    site: "polder",
    landing_title: "Gesprekken",
    landing_intro: "polder laat zien waar mensen het over eens en oneens zijn. Stem op korte \
                    stellingen; de kaart groepeert mensen die hetzelfde stemmen, en het verslag \
                    laat zien waar elke groep voor staat en wat iedereen deelt.",
    open_conversations: "Open gesprekken",
    none_open: "Er zijn op dit moment geen open gesprekken.",
    take_part: "Doe mee",
    see_report: "Bekijk het verslag",
    how_title: "Zo doet u mee",
    how_steps: [
        "Open een gesprek en lees de vraag.",
        "Kies bij elke stelling eens, oneens of overslaan. Alles werkt met het toetsenbord: \
         Tab gaat naar de volgende knop, Enter of spatie kiest.",
        "Voeg zelf een stelling toe als er iets ontbreekt.",
        "Zie de opiniekaart en de groepen veranderen terwijl mensen stemmen.",
    ],
    embed_note: "Organisatoren kunnen dezelfde stemkaart, kaart en groepen in hun eigen \
                 website opnemen; zie de handleiding in de README.",
    votes: "stemmen",
    participant_map: "Waar u staat",
    report_link: "Lees het volledige verslag",
    report_title: "Verslag",
    report_intro: "Verschuif de tijdlijn om de groepen voor, tijdens en na een bijeenkomst te \
                   zien. Bij elke grafiek hoort een tabel met dezelfde gegevens.",
    report_map: "Opiniekaart",
    report_groups: "Opiniegroepen",
    report_consensus: "Wat alle groepen delen",
    back_to_vote: "Doe mee aan dit gesprek",
    home: "Alle gesprekken",
    not_found_title: "Gesprek niet gevonden",
    not_found_text: "Er is geen gesprek op dit adres. Het is misschien verwijderd, of de link \
                     bevat een typefout.",
    closed: "Dit gesprek is gesloten; het verslag blijft leesbaar.",
    language: "Taal",
    other_lang: "English",
    footer: "polder — open-source opiniekaarten. Geen cookies; uw deelnemerssleutel blijft \
             in deze browser.",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Nl => &NL,
    }
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment (conversation ids are slugs already;
/// this is a second line of defence).
fn segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The common frame of every page.
fn page(lang: Lang, title: &str, path: &str, body_class: &str, main: &str) -> String {
    let t = texts(lang);
    let other = match lang {
        Lang::En => Lang::Nl,
        Lang::Nl => Lang::En,
    };
    format!(
        r##"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · polder</title>
<link rel="stylesheet" href="/assets/polder.css">
<script type="module" src="/assets/polder.js"></script>
</head>
<body class="{body_class}">
<a class="skip" href="#main">{skip}</a>
<header class="site">
<a class="brand" href="/?lang={lang}">{site}</a>
<nav aria-label="{language}"><a href="{path}?lang={other}" hreflang="{other}" lang="{other}">{other_name}</a></nav>
</header>
<main id="main" tabindex="-1">
{main}
</main>
<footer class="site"><p>{footer}</p></footer>
</body>
</html>
"##,
        lang = lang.tag(),
        title = escape(title),
        skip = t.skip,
        site = t.site,
        language = t.language,
        path = escape(path),
        other = other.tag(),
        other_name = t.other_lang,
        footer = t.footer,
    )
}

fn html(status: StatusCode, lang: Lang, frame_ancestors: &str, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(frame_ancestors),
        ))
        .insert_header((header::CONTENT_LANGUAGE, lang.tag()))
        .insert_header((header::VARY, "Accept-Language"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(body)
}

/// Who may frame a conversation's pages: this site and the conversation's
/// embedding origins.
fn frame_ancestors_of(conversation: &Conversation) -> String {
    let mut value = String::from("'self'");
    for origin in &conversation.settings.cors_origins {
        // Only plain origins go into the header; anything else is skipped.
        if origin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '-'))
        {
            value.push(' ');
            value.push_str(origin);
        }
    }
    value
}

/// The language attribute of the conversation's own texts.
fn conversation_lang(conversation: &Conversation) -> String {
    conversation
        .settings
        .languages
        .first()
        .map(|l| format!(r#" lang="{}""#, escape(l)))
        .unwrap_or_default()
}

/// `GET /`: the open conversations and how to take part.
async fn landing(state: State, req: HttpRequest) -> ApiResult<HttpResponse> {
    let lang = request_lang(&req);
    let t = texts(lang);
    let conversations = state.store.list_conversations().await?;
    let mut list = String::new();
    for c in conversations.iter().filter(|c| !c.closed) {
        let id = segment(&c.id);
        let _ = write!(
            list,
            r#"<li class="card"><h3{clang}>{topic}</h3>
<p class="meta">{count} {votes}</p>
<p class="actions"><a class="button" href="/c/{id}?lang={l}">{take_part}<span class="visually-hidden">: {topic}</span></a> <a href="/c/{id}/report?lang={l}">{see_report}<span class="visually-hidden">: {topic}</span></a></p></li>
"#,
            clang = conversation_lang(c),
            topic = escape(&c.topic),
            count = c.vote_count,
            votes = t.votes,
            l = lang.tag(),
            take_part = t.take_part,
            see_report = t.see_report,
        );
    }
    let list = if list.is_empty() {
        format!("<p>{}</p>", t.none_open)
    } else {
        format!(r#"<ul class="cards" role="list">{list}</ul>"#)
    };
    let steps: String = t
        .how_steps
        .iter()
        .map(|s| format!("<li>{s}</li>"))
        .collect();
    let main = format!(
        r#"<h1>{title}</h1>
<p class="lead">{intro}</p>
<section aria-labelledby="open-h"><h2 id="open-h">{open}</h2>
{list}</section>
<section aria-labelledby="how-h"><h2 id="how-h">{how}</h2>
<ol class="steps">{steps}</ol>
<p>{embed}</p></section>"#,
        title = t.landing_title,
        intro = t.landing_intro,
        open = t.open_conversations,
        how = t.how_title,
        embed = t.embed_note,
    );
    Ok(html(
        StatusCode::OK,
        lang,
        "'self'",
        page(lang, t.landing_title, "/", "landing", &main),
    ))
}

fn not_found(lang: Lang, path: &str) -> HttpResponse {
    let t = texts(lang);
    let main = format!(
        r#"<h1>{title}</h1><p>{text}</p><p><a href="/?lang={l}">{home}</a></p>"#,
        title = t.not_found_title,
        text = t.not_found_text,
        l = lang.tag(),
        home = t.home,
    );
    html(
        StatusCode::NOT_FOUND,
        lang,
        "'self'",
        page(lang, t.not_found_title, path, "not-found", &main),
    )
}

fn description_html(conversation: &Conversation) -> String {
    conversation
        .description
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            format!(
                "<p{}>{}</p>",
                conversation_lang(conversation),
                escape(p.trim())
            )
        })
        .collect()
}

/// `GET /c/{id}`: vote on one conversation, and see where you stand.
async fn participant(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let lang = request_lang(&req);
    let t = texts(lang);
    let path = format!("/c/{}", segment(&id));
    let Some(c) = state.store.get_conversation(&id).await? else {
        return Ok(not_found(lang, &path));
    };
    let cid = escape(&c.id);
    let closed = if c.closed {
        format!(r#"<p class="notice" role="status">{}</p>"#, t.closed)
    } else {
        format!(r#"<polder-vote conversation="{cid}"></polder-vote>"#)
    };
    let main = format!(
        r#"<h1{clang}>{topic}</h1>
{description}
{closed}
<section aria-labelledby="map-h"><h2 id="map-h">{map}</h2>
<polder-map conversation="{cid}"></polder-map></section>
<p><a class="button secondary" href="{path}/report?lang={l}">{report}</a></p>"#,
        clang = conversation_lang(&c),
        topic = escape(&c.topic),
        description = description_html(&c),
        map = t.participant_map,
        l = lang.tag(),
        report = t.report_link,
    );
    Ok(html(
        StatusCode::OK,
        lang,
        &frame_ancestors_of(&c),
        page(lang, &c.topic, &path, "participant", &main),
    ))
}

/// `GET /c/{id}/report`: the report with a time slider over the snapshots,
/// in a layout that also prints.
async fn report(state: State, req: HttpRequest, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let lang = request_lang(&req);
    let t = texts(lang);
    let base = format!("/c/{}", segment(&id));
    let path = format!("{base}/report");
    let Some(c) = state.store.get_conversation(&id).await? else {
        return Ok(not_found(lang, &path));
    };
    let cid = escape(&c.id);
    let main = format!(
        r#"<p class="eyebrow">{report_title}</p>
<h1{clang}>{topic}</h1>
{description}
<p class="lead no-print">{intro}</p>
<polder-timeline conversation="{cid}"></polder-timeline>
<section aria-labelledby="map-h"><h2 id="map-h">{map}</h2>
<polder-map conversation="{cid}" data-report="1"></polder-map></section>
<section aria-labelledby="groups-h"><h2 id="groups-h">{groups}</h2>
<polder-groups conversation="{cid}" data-report="1"></polder-groups></section>
<section aria-labelledby="consensus-h"><h2 id="consensus-h">{consensus}</h2>
<polder-consensus conversation="{cid}" data-report="1"></polder-consensus></section>
<p class="no-print"><a href="{base}?lang={l}">{back}</a></p>"#,
        report_title = t.report_title,
        clang = conversation_lang(&c),
        topic = escape(&c.topic),
        description = description_html(&c),
        intro = t.report_intro,
        map = t.report_map,
        groups = t.report_groups,
        consensus = t.report_consensus,
        l = lang.tag(),
        back = t.back_to_vote,
    );
    let title = format!("{} · {}", t.report_title, c.topic);
    Ok(html(
        StatusCode::OK,
        lang,
        &frame_ancestors_of(&c),
        page(lang, &title, &path, "report", &main),
    ))
}

/// `GET /examples/embed`: the worked host page of the embedding guide.
async fn example_embed() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            content_security_policy("'self'"),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(EXAMPLE_PAGE)
}

fn serve_asset(
    req: &HttpRequest,
    set: &'static [Asset],
    offset: usize,
    name: &str,
) -> HttpResponse {
    let Some((index, asset)) = set.iter().enumerate().find(|(_, a)| a.name == name) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset");
    };
    // ETAGS holds one tag per asset of ASSETS then EXAMPLES, in order.
    let etag = ETAGS.get(offset + index).map_or("\"\"", String::as_str);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        // Revalidate after five minutes; the ETag makes that cheap.
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Module scripts load with CORS: host pages on other origins need this.
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::CROSS_ORIGIN_RESOURCE_POLICY, "cross-origin"));
    if fresh {
        return response.finish();
    }
    response.content_type(asset.content_type).body(asset.body)
}

/// `GET /assets/{file}`: the web components and the page styles.
async fn asset(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    serve_asset(&req, ASSETS, 0, &file)
}

/// `GET /examples/{file}`: files of the example host page.
async fn example_asset(req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    serve_asset(&req, EXAMPLES, ASSETS.len(), &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_the_language() {
        assert_eq!(negotiate(None, None), Lang::En);
        assert_eq!(negotiate(Some("nl"), Some("en")), Lang::Nl);
        assert_eq!(negotiate(Some("fr"), Some("nl-NL,nl;q=0.9")), Lang::Nl);
        assert_eq!(
            negotiate(None, Some("de-DE,de;q=0.9,nl;q=0.8,en;q=0.7")),
            Lang::Nl
        );
        assert_eq!(negotiate(None, Some("en-GB,nl;q=0.5")), Lang::En);
        assert_eq!(negotiate(None, Some("nl;q=0,en;q=0.1")), Lang::En);
        assert_eq!(negotiate(None, Some("fr")), Lang::En);
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn every_asset_has_an_etag() {
        assert_eq!(ETAGS.len(), ASSETS.len() + EXAMPLES.len());
        assert!(ETAGS.iter().all(|t| t.len() == 26));
    }
}
