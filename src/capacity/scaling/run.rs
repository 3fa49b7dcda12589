//! A scaling study run: for each size, the deployment scaled (the plan's `scale_command` with
//! `{size}`, by `sh -c`, bounded by `scale_timeout`; an embedded target started with that many
//! replicas), the target made to answer its health check (within `ready_timeout`), then one
//! capacity search into the study's folder. A command that fails or hangs, or a target that
//! does not answer, ends the study: the sizes already measured are written and fitted, and
//! the error is one line.

use super::output;
use super::study::{self, Measured, Setup};
use crate::capacity;
use crate::load::drive::{client_credential, resolve_target, RunOptions, SetupError};
use crate::load::folder::report_folder;
use crate::model::capacity::CapacityReport;
use crate::plan::{Plan, Scaling};
use crate::report::folder::CAPACITY;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Runs the study of `plan` (its `[capacity.scaling]`): the study's folder, and why it
/// stopped early if it did.
pub async fn run(
    plan: &Plan,
    scaling: &Scaling,
    options: &RunOptions,
) -> Result<(PathBuf, Option<String>), SetupError> {
    let began = Instant::now();
    let started_at = chrono::Utc::now();
    let dir = report_folder(plan, "scaling", started_at)?.to_path_buf();
    let mut measured = Vec::new();
    let mut stopped = None;
    for &size in &scaling.sizes {
        if let Err(why) = reach(plan, scaling, size, &dir).await {
            stopped = Some(why);
            break;
        }
        let mut at = plan.clone();
        at.name = Some(format!("size-{size}"));
        at.report.dir = dir.clone();
        at.capacity.size = Some(size);
        at.capacity.scaling = None;
        if at.target.embedded {
            at.target.replicas = Some(size as usize);
        }
        eprintln!("agentload capacity: size {size}: searching");
        let folder = match capacity::node::run(&at, None, options).await {
            Ok(folder) => folder,
            Err(e) => {
                stopped = Some(format!("size {size}: {e}"));
                break;
            }
        };
        let report = read(&folder)?;
        measured.push(Measured {
            size,
            report,
            folder: relative(&folder, &dir),
        });
    }
    let mut study = study::study(&setup(plan), measured);
    study.stopped = stopped.clone();
    study.conclusion = super::words::conclusion(&study);
    study.duration_secs = began.elapsed().as_secs_f64();
    output::write(&dir, &study)?;
    output::print(&study);
    Ok((dir, stopped))
}

/// The study's setup from the plan: its units, enterprise, headroom, resources.
pub fn setup(plan: &Plan) -> Setup {
    Setup {
        plan: plan.name(),
        by_rate: plan.is_open(),
        enterprise: plan.capacity.enterprise,
        headroom_percent: plan.capacity.headroom.0,
        resources: plan.capacity.resources.clone(),
    }
}

/// Scales the deployment to `size` and waits for it to answer; why not, in one line.
async fn reach(plan: &Plan, scaling: &Scaling, size: u32, dir: &Path) -> Result<(), String> {
    if plan.target.embedded {
        return Ok(());
    }
    if let Some(command) = &scaling.scale_command {
        let command = command.replace("{size}", &size.to_string());
        eprintln!("agentload capacity: size {size}: {command}");
        scale(&command, scaling.scale_timeout.0)
            .await
            .map_err(|why| format!("scaling to {size}: `{command}` {why}"))?;
    }
    let credential = client_credential(plan).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + scaling.ready_timeout.0;
    loop {
        let why = match resolve_target(plan, &credential, dir).await {
            Ok(resolved) => {
                match crate::onboarding::preflight::backend_health(plan, &resolved).await {
                    Ok(()) => return Ok(()),
                    Err(why) => why,
                }
            }
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "after scaling to {size} the target did not answer within {:.0} s: {why}",
                scaling.ready_timeout.0.as_secs_f64()
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Runs `command` by `sh -c` within `timeout`: why it failed, if it did.
async fn scale(command: &str, timeout: Duration) -> Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not start: {e}"))?;
    let stderr = child.stderr.take();
    let waited = tokio::time::timeout(timeout, child.wait()).await;
    let status = match waited {
        Ok(status) => status.map_err(|e| e.to_string())?,
        Err(_) => {
            if let Some(pid) = child.id() {
                // The whole group: the shell and what it started.
                // SAFETY: signals a process group this function started.
                unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
            }
            let _ = child.wait().await;
            return Err(format!(
                "did not finish within {:.0} s",
                timeout.as_secs_f64()
            ));
        }
    };
    if status.success() {
        return Ok(());
    }
    let mut said = String::new();
    if let Some(mut err) = stderr {
        use tokio::io::AsyncReadExt;
        let _ = err.read_to_string(&mut said).await;
    }
    let last = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let code = status
        .code()
        .map_or("was killed".into(), |c| format!("exited {c}"));
    Err(match last.is_empty() {
        true => code,
        false => format!("{code}: {}", last.trim()),
    })
}

/// A size's `capacity.json`.
pub fn read(folder: &Path) -> Result<CapacityReport, SetupError> {
    let path = folder.join(CAPACITY);
    let bytes = std::fs::read(&path).map_err(|e| SetupError::ReadReport {
        path: path.clone(),
        message: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| SetupError::ReadReport {
        path,
        message: e.to_string(),
    })
}

/// `folder` as the study's page links it: relative to the study's folder when inside it.
fn relative(folder: &Path, dir: &Path) -> String {
    folder
        .strip_prefix(dir)
        .unwrap_or(folder)
        .display()
        .to_string()
}

/// A study built from capacity folders measured separately (`report scale`): each folder is
/// a size's (its `capacity.json` names its size: `capacity --size N`, or a study's), or holds
/// such folders. Writes the study into `out`; its folder.
pub fn rebuild(dirs: &[PathBuf], out: &Path) -> Result<PathBuf, SetupError> {
    let mut measured = Vec::new();
    for dir in dirs {
        let folders = match dir.join(CAPACITY).exists() {
            true => vec![dir.clone()],
            false => {
                let mut inner: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map_err(|e| SetupError::ReadReport {
                        path: dir.clone(),
                        message: e.to_string(),
                    })?
                    .filter_map(|e| Some(e.ok()?.path()))
                    .filter(|p| p.join(CAPACITY).exists())
                    .collect();
                inner.sort();
                inner
            }
        };
        for folder in folders {
            let report = read(&folder)?;
            let size = report.size.ok_or_else(|| SetupError::ReadReport {
                path: folder.join(CAPACITY),
                message: "names no deployment size: measure it with `capacity --size N` (or a \
                          study)"
                    .into(),
            })?;
            measured.push(Measured {
                size,
                folder: folder.display().to_string(),
                report,
            });
        }
    }
    if measured.is_empty() {
        return Err(SetupError::ReadReport {
            path: dirs.first().cloned().unwrap_or_default(),
            message: "no capacity folder (capacity.json) to build a study from".into(),
        });
    }
    let setup = setup_of(&measured);
    let study = study::study(&setup, measured);
    std::fs::create_dir_all(out).map_err(|e| SetupError::Report {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    output::write(out, &study)?;
    output::print(&study);
    Ok(out.to_path_buf())
}

/// What a study needs, read from its sizes' reports: units, the enterprise and headroom
/// the searches sized, each resource's servers (one set a replica when they grew with size).
fn setup_of(measured: &[Measured]) -> Setup {
    let first = &measured[0].report;
    let mut resources: Vec<crate::plan::Resource> = Vec::new();
    for m in measured {
        let per = f64::from(m.size.max(1));
        for u in m.report.steps.iter().flat_map(|s| &s.resources) {
            match resources.iter_mut().find(|r| r.name == u.name) {
                Some(r) => r.per_replica |= (u.servers - r.servers * per).abs() < 1e-9 && per > 1.0,
                None => resources.push(crate::plan::Resource {
                    name: u.name.clone(),
                    series: String::new(),
                    kind: crate::plan::ResourceKind::BusySeconds,
                    servers: u.servers / per,
                    per_replica: false,
                }),
            }
        }
    }
    // A resource seen at one size only: its servers as they were.
    for r in resources.iter_mut().filter(|r| !r.per_replica) {
        let seen = measured
            .iter()
            .flat_map(|m| m.report.steps.iter().flat_map(|s| &s.resources))
            .find(|u| u.name == r.name);
        if let Some(u) = seen {
            r.servers = u.servers;
        }
    }
    Setup {
        plan: "study".into(),
        by_rate: first.max_rate_tried.is_some(),
        enterprise: first.enterprise.as_ref().map(|e| crate::plan::Enterprise {
            seats: e.seats,
            active_share: crate::plan::Percent(e.active_share_percent),
            sessions_per_active_hour: e.sessions_per_active_hour,
        }),
        headroom_percent: first.headroom_percent,
        resources,
    }
}
