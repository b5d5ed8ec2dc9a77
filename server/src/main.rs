//! `chat-server`: serves the chat (the default) or runs an `admin` command against
//! `DATABASE_URL`. Only parses the command line and wires; everything else is in the library.

use clap::{Parser, Subcommand};
use server::cli::AdminCommand;
use server::config::{redact_url, Config, LogFormat};
use server::store::Store;
use server::Application;
use tracing_subscriber::EnvFilter;

/// mimalloc returns freed memory to the system: with glibc's allocator, the 19 MiB blocks of
/// password hashing, freed on many blocking threads, stayed in per-thread arenas (RSS 880 MB
/// after 2,000 sign-ups, and it never came down).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A self-hosted real-time chat.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the chat (the default).
    Serve,
    /// Manage people from the shell (runs against DATABASE_URL; the server may be running).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env is normal; a broken one is worth saying.
    if let Err(error) = dotenvy::dotenv() {
        if !error.not_found() {
            eprintln!("warning: could not read .env: {error}");
        }
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    match LogFormat::from_env() {
        Ok(LogFormat::Text) => tracing_subscriber::fmt().with_env_filter(filter).init(),
        Ok(LogFormat::Json) => tracing_subscriber::fmt().json().with_current_span(true).with_env_filter(filter).init(),
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    }

    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let config = Config::from_env()?;
            let database = redact_url(&config.database_url);
            let app = Application::build(config).await?;
            tracing::info!(%database, "chat listening on http://{}:{}", app.state().config.site_addr.ip(), app.port());
            app.run_until_stopped().await?;
        }
        Command::Admin { command } => {
            let config = Config::from_env()?;
            let store = Store::connect(&config.database_url, config.sqlite_sync).await?;
            match server::cli::run(&store, &config, command).await {
                Ok(done) => println!("{done}"),
                Err(error) => {
                    eprintln!("error: {error}");
                    std::process::exit(1);
                }
            }
        }
    }
    Ok(())
}
