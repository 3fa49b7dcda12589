//! The command line: parses arguments and dispatches. Exit codes: 0 pass, 1 SLA failed,
//! 2 bad input or setup, 3 stopped early (reports written).

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

/// What a command that sends load prints while it runs (not `target`'s options).
#[derive(clap::Args, Clone, Copy)]
struct Console {
    /// Goose's own log and end-of-run tables (-v), its debug log (-vv)
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// No live line on stderr while the load runs
    #[arg(short, long)]
    quiet: bool,
    /// How often the live line is printed (redrawn in place on a terminal)
    #[arg(long, default_value = "2s", value_parser = duration)]
    progress: std::time::Duration,
}

impl Console {
    fn options(self) -> agentload::commands::run::RunOptions {
        agentload::commands::run::RunOptions {
            verbose: self.verbose,
            progress: (!self.quiet).then_some(self.progress),
            ..Default::default()
        }
    }
}

fn duration(text: &str) -> Result<std::time::Duration, String> {
    agentload::plan::parse_duration(text)
}

/// `10%` or `10`: percent.
fn percent(text: &str) -> Result<f64, String> {
    let n: f64 = text
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage (e.g. 10%)"))?;
    if n.is_finite() && n >= 0.0 {
        Ok(n)
    } else {
        Err(format!("`{text}` is not a percentage (e.g. 10%)"))
    }
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
        /// Compare with an earlier run's report folder; a regression past --tolerance exits 1
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// How far a figure may get worse before it is a regression
        #[arg(long, default_value = "10%", value_parser = percent)]
        tolerance: f64,
        /// Write the SLA verdicts (and regressions) as JUnit XML
        #[arg(long)]
        junit: Option<PathBuf>,
        /// After SIGTERM or Ctrl-C, how long runs in flight may take to end (then: interrupted)
        #[arg(long, default_value = "10s", value_parser = duration)]
        grace: std::time::Duration,
        /// Serve agentload's own figures in the Prometheus format at HOST:PORT/metrics
        #[arg(long)]
        metrics_addr: Option<std::net::SocketAddr>,
        #[command(flatten)]
        shard: agentload::commands::shard::ShardArgs,
        #[command(flatten)]
        console: Console,
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
        /// Write the verdict as JUnit XML
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Serve agentload's own figures in the Prometheus format at HOST:PORT/metrics
        #[arg(long)]
        metrics_addr: Option<std::net::SocketAddr>,
        /// A finer ladder between the last users that held and the first that failed
        #[arg(long, num_args = 2, value_names = ["LO", "HI"])]
        between: Option<Vec<usize>>,
        /// The deployment's size (replicas) this search measures, for a scaling study built
        /// later (`report scale`); an embedded target runs that many
        #[arg(long)]
        size: Option<u32>,
        #[command(flatten)]
        shard: agentload::commands::shard::ShardArgs,
        #[command(flatten)]
        console: Console,
    },
    /// Look at a platform before any load: a transcript of several runs on two sockets, a
    /// proposed [protocol] section and its verdict on every run (exit 0 when it reads them all
    /// clean)
    Probe {
        /// The load plan (TOML) naming the platform and how to authenticate
        plan: PathBuf,
        /// The user request the probe's start message carries (default: the plan's)
        #[arg(long)]
        message: Option<String>,
        /// Runs to read, across two sockets (more while new frame shapes keep appearing)
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=100))]
        runs: u16,
        /// Write the plan with the proposed [protocol] section to FILE
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Record runs' frames and their times as JSON lines (secrets redacted), for a replay
    Record {
        /// The load plan (TOML), with a [protocol] that reads the platform
        plan: PathBuf,
        /// How many runs
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// The recording (JSON lines)
        #[arg(long)]
        out: PathBuf,
    },
    /// Work with finished runs' report folders: re-render, compare
    #[command(subcommand)]
    Report(ReportCommand),
    /// Serve the embedded reference target (auth service + agent backend)
    Target(Box<agentload::reference::TargetArgs>),
    /// Mint or inspect a JWT as a plan's users get it (secrets are never printed)
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Render DIR/index.html again from DIR/summary.json
    Render { dir: PathBuf },
    /// Merge the shards of one distributed run (`run --shard I/N`) into one report and verdict
    Merge {
        /// Shard report folders, or folders holding them
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged report goes (default: beside the first shard, <plan>-merged-<run id>)
        #[arg(long)]
        out: Option<PathBuf>,
        /// Merge the shards present even when some are missing; the report is marked partial
        #[arg(long)]
        allow_partial: bool,
        /// Write the merged SLA verdicts as JUnit XML
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// A scaling study from capacity folders measured separately (`capacity --size N`, or a
    /// study's sizes): each size's answer, the fitted curve, the resources' bounds
    Scale {
        /// Capacity folders, or folders holding them
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the study goes
        #[arg(long)]
        out: PathBuf,
    },
    /// Compare two runs figure by figure; exit 1 when one regressed past the tolerance
    Compare {
        baseline: PathBuf,
        current: PathBuf,
        /// How far a figure may get worse before it is a regression
        #[arg(long, default_value = "10%", value_parser = percent)]
        tolerance: f64,
        /// Write the regressions as JUnit XML
        #[arg(long)]
        junit: Option<PathBuf>,
    },
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
    prepare_process(&cli.command);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(Exit::Setup as i32);
        }
    };
    let exit = runtime.block_on(dispatch(cli.command));
    std::process::exit(exit as i32);
}

/// What the process sets before any thread exists: SIGPIPE for the report commands, the TLS
/// provider, the open-file limit.
fn prepare_process(command: &Command) {
    if matches!(command, Command::Report(_)) {
        // `agentload report compare A B | head` ends quietly, as Unix tools do, not with a
        // panic. Only for commands without sockets: a peer closing a socket mid-write (vectored
        // writes carry no MSG_NOSIGNAL) must stay an error, never kill a load test or the target.
        // SAFETY: setting a signal's disposition to the default before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    agentload::wire::install_tls_provider();
    // Every user holds a socket: raise the open-file limit before anything (the embedded
    // target, a child, inherits it).
    agentload::load::nofile::raise_to_hard_limit();
}

/// Runs the command: its exit.
async fn dispatch(command: Command) -> Exit {
    match command {
        Command::Run {
            plan,
            dashboard,
            preflight,
            baseline,
            tolerance,
            junit,
            grace,
            metrics_addr,
            shard,
            console,
        } => {
            let options = agentload::commands::run::RunOptions {
                dashboard,
                preflight,
                baseline,
                tolerance_percent: tolerance,
                junit,
                grace: Some(grace),
                metrics_addr,
                ..console.options()
            };
            agentload::commands::run::run(&plan, &options, &shard).await
        }
        Command::Capacity {
            plan,
            junit,
            metrics_addr,
            between,
            size,
            shard,
            console,
        } => {
            let options = agentload::commands::run::RunOptions {
                junit,
                metrics_addr,
                ..console.options()
            };
            let between = between.map(|b| (b[0], b[1]));
            agentload::commands::capacity::run(&plan, &options, &shard, between, size).await
        }
        Command::Report(ReportCommand::Render { dir }) => agentload::commands::report::render(&dir),
        Command::Report(ReportCommand::Merge {
            dirs,
            out,
            allow_partial,
            junit,
        }) => agentload::commands::merge::merge_dirs(&agentload::commands::merge::MergeArgs {
            dirs: &dirs,
            out: out.as_deref(),
            allow_partial,
            junit: junit.as_deref(),
        }),
        Command::Report(ReportCommand::Scale { dirs, out }) => {
            agentload::commands::report::scale(&dirs, &out)
        }
        Command::Report(ReportCommand::Compare {
            baseline,
            current,
            tolerance,
            junit,
        }) => agentload::commands::report::compare_dirs(
            &baseline,
            &current,
            tolerance,
            junit.as_deref(),
        ),
        Command::Preflight { plan } => agentload::commands::preflight::run(&plan).await,
        Command::Probe {
            plan,
            message,
            runs,
            write,
        } => {
            let runs = usize::from(runs);
            agentload::commands::probe::probe(&plan, message.as_deref(), runs, write.as_deref())
                .await
        }
        Command::Record { plan, runs, out } => {
            agentload::commands::probe::record(&plan, runs, &out).await
        }
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
}
