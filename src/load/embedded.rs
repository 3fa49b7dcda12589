//! Starts `agentload target` as a child process for plans whose target is `embedded`.

use crate::plan::{Dur, Target};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// The env vars through which the child gets its secrets (never on its command line).
const SECRET_VAR: &str = "AGENTLOAD_EMBEDDED_JWT_SECRET";
const BYPASS_VAR: &str = "AGENTLOAD_EMBEDDED_BYPASS_KEY";
const READY_PREFIX: &str = "AGENTLOAD_TARGET_READY ";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("cannot start the embedded target: {0}")]
    Spawn(String),
    #[error("the embedded target did not become ready: {0}")]
    NotReady(String),
}

/// Where a running target listens, as its ready line says.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Endpoints {
    pub base_url: String,
    pub ws_url: String,
    pub ca_file: Option<PathBuf>,
    pub pid: u32,
}

/// A running child target; stopped when `stop` is called or when dropped.
pub struct EmbeddedTarget {
    pub endpoints: Endpoints,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl EmbeddedTarget {
    /// Spawns the target with the plan's knobs and waits (bounded) for its ready line.
    pub async fn start(
        target: &Target,
        jwt_secret: &str,
        bypass_key: &str,
        ca_out: &Path,
    ) -> Result<EmbeddedTarget, EmbeddedError> {
        let exe = std::env::current_exe().map_err(|e| EmbeddedError::Spawn(e.to_string()))?;
        let mut cmd = Command::new(exe);
        cmd.arg("target")
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .args([
                "--jwt-secret-env",
                SECRET_VAR,
                "--bypass-key-env",
                BYPASS_VAR,
            ])
            .arg("--event-delay-ms")
            .arg(target.event_delay.0.as_millis().to_string())
            .arg("--thinking-steps")
            .arg(target.thinking_steps.to_string())
            .arg("--tool-calls")
            .arg(target.tool_calls.to_string())
            .arg("--ballast-kb-per-connection")
            .arg(target.ballast_kb_per_connection.to_string())
            .env(SECRET_VAR, jwt_secret)
            .env(BYPASS_VAR, bypass_key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(every) = target.ping_interval {
            cmd.arg("--ping-interval-ms")
                .arg(every.0.as_millis().to_string());
        }
        if let Some(n) = target.max_concurrent_runs {
            cmd.arg("--max-concurrent-runs").arg(n.to_string());
        }
        if let Some(n) = target.shared_capacity {
            cmd.arg("--shared-capacity").arg(n.to_string());
        }
        if let Some(n) = target.replicas {
            cmd.arg("--replicas").arg(n.to_string());
        }
        let ms = |d: Dur| (d.0.as_secs_f64() * 1000.0).to_string();
        if let Some(d) = target.contention {
            cmd.arg("--contention-ms").arg(ms(d));
        }
        if let Some(d) = target.coherency {
            cmd.arg("--coherency-ms").arg(ms(d));
        }
        if target.tls {
            cmd.arg("--tls").arg("--ca-out").arg(ca_out);
        }
        // Its own process group: Ctrl-C stops the load test, which then stops the target,
        // instead of killing the target under runs still in flight.
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| EmbeddedError::Spawn(e.to_string()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdin = child.stdin.take();
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
                if let Some(json) = line.strip_prefix(READY_PREFIX) {
                    return serde_json::from_str::<Endpoints>(json).map_err(|e| e.to_string());
                }
            }
            Err("it exited before saying it was ready".to_string())
        })
        .await
        .map_err(|_| EmbeddedError::NotReady("no ready line within 30 s".into()))?
        .map_err(EmbeddedError::NotReady)?;
        // Keep reading its stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(EmbeddedTarget {
            endpoints: ready,
            child,
            stdin,
        })
    }

    /// Asks the child to exit (stdin EOF), waits up to 10 s, then kills it.
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// A random secret for a target that nobody configured: 48 hex characters.
pub fn random_secret() -> String {
    format!(
        "{:016x}{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}
