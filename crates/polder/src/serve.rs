//! `polder serve`: the HTTP API, and `polder keys`: API keys for it.

use anyhow::Context;
use clap::Args;
use polder_server::config::LogFormat;
use polder_server::{ServerConfig, build_state};
use polder_store::{NewConversation, Role, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `polder serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub bind: Option<String>,
    /// Settings file (TOML) [default: ./polder.toml when present].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Load the bundled example conversation into an empty database and
    /// print an admin key, so that a live report is there at once.
    #[arg(long)]
    pub demo: bool,
    /// HTTP worker threads [default: one per core].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Log lines as `text` or `json`.
    #[arg(long, value_parser = ["text", "json"])]
    pub log_format: Option<String>,
}

/// Where the bundled example conversation lives, relative to the
/// repository (and to the working directory of `cargo run`).
pub const DEMO_DIR: &str = "examples/polderdam-harbour";
/// Id of the demo conversation.
pub const DEMO_ID: &str = "polderdam-harbour";

/// Runs the server until Ctrl-C or SIGTERM.
pub fn serve(args: &ServeArgs, database_url: Option<&str>) -> anyhow::Result<()> {
    let mut overrides = serde_json::Map::new();
    if let Some(bind) = &args.bind {
        overrides.insert("bind".into(), bind.clone().into());
    }
    if let Some(url) = database_url {
        overrides.insert("database_url".into(), url.into());
    }
    if let Some(workers) = args.workers {
        overrides.insert("workers".into(), workers.into());
    }
    if let Some(format) = &args.log_format {
        overrides.insert("log_format".into(), format.clone().into());
    }
    let config = ServerConfig::load(args.config.as_deref(), &overrides.into())?;
    polder_server::init_tracing(config.log_format);
    if config.log_format == LogFormat::Text {
        eprintln!("polder: database {}", config.database_url);
    }
    let demo = args.demo;
    actix_web::rt::System::new().block_on(async move {
        let store = polder_store::open(&config.database_url)
            .await
            .with_context(|| format!("cannot open the database {}", config.database_url))?;
        if demo {
            load_demo(&store, Path::new(DEMO_DIR)).await?;
            let key = make_key(&store, Role::Admin, "demo admin").await?;
            eprintln!("polder: demo admin key (shown once): {key}");
            eprintln!(
                "polder: live report at http://{}/api/v1/conversations/{DEMO_ID}/report",
                config.bind
            );
        }
        let state = build_state(config, store).await?;
        polder_server::serve(state)
            .await
            .context("the server failed")
    })
}

/// Imports the example conversation unless the database already has it.
async fn load_demo(store: &Arc<dyn Store>, dir: &Path) -> anyhow::Result<()> {
    if store.get_conversation(DEMO_ID).await?.is_some() {
        return Ok(());
    }
    let request = polder_store::ImportRequest::from_dir(
        dir,
        NewConversation {
            id: Some(DEMO_ID.to_owned()),
            // The example's statements are in English; the web pages mark them so.
            settings: polder_store::Settings {
                languages: vec!["en".to_owned()],
                ..polder_store::Settings::default()
            },
            ..NewConversation::default()
        },
    )
    .with_context(|| format!("cannot read the example conversation in {}", dir.display()))?;
    store.import(request, Arc::new(|_| {})).await?;
    eprintln!("polder: loaded the example conversation `{DEMO_ID}`");
    Ok(())
}

/// Makes and stores a new key; returns the key itself (shown once).
pub async fn make_key(store: &Arc<dyn Store>, role: Role, label: &str) -> anyhow::Result<String> {
    Ok(polder_server::auth::issue_api_key(store.as_ref(), role, label).await?)
}
