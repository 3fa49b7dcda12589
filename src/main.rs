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
    },
    /// Serve the embedded reference target (auth service + agent backend)
    Target(agentload::target::TargetArgs),
}

fn main() {
    let cli = Cli::parse();
    agentload::tls::install_provider();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(Exit::Setup as i32);
        }
    };
    let exit = runtime.block_on(async {
        match cli.command {
            Command::Run { plan, dashboard } => {
                let options = agentload::runner::RunOptions { dashboard };
                agentload::runner::run(&plan, &options).await
            }
            Command::Target(args) => match agentload::target::serve(args).await {
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
