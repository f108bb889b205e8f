//! `polder invites`: invite codes for a conversation's panel, made on the
//! local database and written out once (text, CSV, printable HTML cards or JSON).
//!
//! The codes and their hashes come from `polder_server::invites`, so codes
//! made here redeem through the HTTP API exactly like codes made there.

use anyhow::Context;
use polder_server::invites::{self, CardText};
use polder_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most codes one command makes.
pub const MAX_COUNT: u32 = 100_000;

/// Arguments of `polder invites`.
#[derive(Debug, clap::Args)]
pub struct InvitesArgs {
    /// The conversation the codes admit to.
    #[arg(long)]
    pub conversation: String,
    /// How many codes to make (1 to 100,000).
    #[arg(long, required_unless_present = "status")]
    pub count: Option<u32>,
    /// `text`: one code per line; `csv`: conversation,code,join_url;
    /// `html`: a print-ready page of cut-out cards; `json`: as the API answers.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the codes to this file (created with owner-only permissions;
    /// an existing file is refused) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Where participants go to join, printed on the cards and in the CSV.
    #[arg(long)]
    pub join_url: Option<String>,
    /// Make nothing: print how many codes exist and how many were used.
    #[arg(long, conflicts_with_all = ["count", "output", "join_url"])]
    pub status: bool,
}

/// Output formats of `polder invites`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One code per line.
    Text,
    /// CSV with a header.
    Csv,
    /// Printable HTML cards.
    Html,
    /// JSON: `{"conversation", "codes"}`.
    Json,
}

/// Runs `polder invites` against the database at `url`.
pub fn run(args: &InvitesArgs, url: &str) -> anyhow::Result<()> {
    crate::storage::block_on(async {
        let store = polder_store::open(url).await?;
        let Some(conversation) = store.get_conversation(&args.conversation).await? else {
            anyhow::bail!("conversation `{}` does not exist", args.conversation);
        };
        if args.status {
            let counts = store.invite_counts(&conversation.id).await?;
            println!(
                "{}: {} invite codes, {} used, {} unused",
                conversation.id,
                counts.total,
                counts.used,
                counts.total.saturating_sub(counts.used)
            );
            return Ok(());
        }
        let count = args.count.unwrap_or(0);
        if !(1..=MAX_COUNT).contains(&count) {
            anyhow::bail!("--count must be 1 to {MAX_COUNT}");
        }
        // Open the destination before storing anything: codes stored but
        // never written out would be lost for good.
        let mut sink = open_output(args.output.as_deref())?;
        let codes = make(&store, &conversation.id, count).await?;
        let card = CardText {
            conversation: &conversation.id,
            topic: &conversation.topic,
            join_url: args.join_url.as_deref(),
        };
        let rendered = match args.format {
            Format::Text => invites::render_text(&codes),
            Format::Csv => invites::render_csv(&codes, &card),
            Format::Html => invites::render_html(&codes, &card),
            Format::Json => {
                let mut json = serde_json::to_string_pretty(&serde_json::json!({
                    "conversation": conversation.id,
                    "codes": codes,
                }))?;
                json.push('\n');
                json
            }
        };
        sink.write_all(rendered.as_bytes())
            .and_then(|()| sink.flush())
            .context("cannot write the invite codes")?;
        let counts = store.invite_counts(&conversation.id).await?;
        eprintln!(
            "made {count} invite codes for `{}` ({} in all, {} used); they are shown only now",
            conversation.id, counts.total, counts.used
        );
        Ok(())
    })?
}

/// Makes and stores `count` codes; returns them.
async fn make(
    store: &Arc<dyn Store>,
    conversation: &str,
    count: u32,
) -> anyhow::Result<Vec<String>> {
    // u32 → usize is lossless on every platform polder builds for.
    let made = invites::generate_batch(count as usize);
    let hashes = made.iter().map(|i| i.hash.clone()).collect();
    let added = store.create_invites(conversation, hashes).await?;
    if added != u64::from(count) {
        anyhow::bail!(
            "{} of the new codes already existed (odds about 2^-80 each); nothing was written, run again",
            u64::from(count) - added
        );
    }
    Ok(made.into_iter().map(|i| i.code).collect())
}

fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    let Some(path) = path else {
        return Ok(Box::new(std::io::stdout().lock()));
    };
    let mut options = std::fs::OpenOptions::new();
    // create_new: never overwrite an earlier batch, whose codes exist nowhere else.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The codes are credentials: readable by the owner only.
        options.mode(0o600);
    }
    let file = options.open(path).with_context(|| {
        format!(
            "{}: cannot create the file (it must not exist yet)",
            path.display()
        )
    })?;
    Ok(Box::new(std::io::BufWriter::new(file)))
}
