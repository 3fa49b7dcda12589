//! The command line: parses arguments and dispatches. Exit codes: 0 pass, 1 SLA failed,
//! 2 bad input or setup.

use agentload::errors::Exit;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "agentload",
    version,
    about = "Load tests for AI-agent platforms over WebSocket"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Goose's own log and end-of-run tables (-v), its debug log (-vv)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Run a load plan and write reports/<plan>-<timestamp>/
    Run {
        /// The load plan (TOML), e.g. loadplans/smoke.toml
        plan: PathBuf,
        /// Serve Goose's live dashboard while the test runs (http://127.0.0.1:5118)
        #[arg(long)]
        dashboard: bool,
        /// Validate the deployment first (health, auth, TLS, CORS, env, one run); stop on a failure
        #[arg(long)]
        preflight: bool,
    },
    /// Validate a deployment before loading it: health, auth, TLS, CORS, env vars, one run
    Preflight {
        /// The load plan (TOML) naming the deployment
        plan: PathBuf,
    },
    /// Find how many users the deployment holds within the SLA (stepped search, projection)
    Capacity {
        /// The load plan (TOML) with a [capacity] section
        plan: PathBuf,
    },
    /// Serve the embedded reference target (auth service + agent backend)
    Target(Box<agentload::reference::TargetArgs>),
    /// Mint or inspect a JWT as a plan's users get it (secrets are never printed)
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print the token user N of PLAN would present (mint or login, as the plan says)
    Mint {
        plan: PathBuf,
        #[arg(long, default_value_t = 0)]
        user: usize,
    },
    /// Print a token's header, claims and expiry; verify it with the secret in an env var
    Inspect {
        jwt: String,
        /// Env var holding the HS256 secret to verify the signature with
        #[arg(long)]
        secret_env: Option<String>,
    },
}

fn main() {
    let cli = Cli::parse();
    agentload::wire::install_tls_provider();
    // Every user holds a socket: raise the open-file limit before anything (the embedded
    // target, a child, inherits it).
    agentload::engine::nofile::raise_to_hard_limit();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(Exit::Setup as i32);
        }
    };
    let exit = runtime.block_on(async {
        match cli.command {
            Command::Run {
                plan,
                dashboard,
                preflight,
            } => {
                let options = agentload::commands::run::RunOptions {
                    dashboard,
                    preflight,
                    verbose: cli.verbose,
                };
                agentload::commands::run::run(&plan, &options).await
            }
            Command::Capacity { plan } => {
                agentload::commands::capacity::run(&plan, cli.verbose).await
            }
            Command::Preflight { plan } => agentload::commands::preflight::run(&plan).await,
            Command::Token(TokenCommand::Mint { plan, user }) => {
                agentload::commands::token::mint(&plan, user).await
            }
            Command::Token(TokenCommand::Inspect { jwt, secret_env }) => {
                agentload::commands::token::inspect(&jwt, secret_env.as_deref())
            }
            Command::Target(args) => match agentload::reference::serve(*args).await {
                Ok(()) => Exit::Pass,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    Exit::Setup
                }
            },
        }
    });
    std::process::exit(exit as i32);
}
