//! What tests may not do at the same time, in one place. The suite's tests share one process
//! (`cargo test`) or run in a process each (`cargo nextest run`, as CI does), many at once on
//! one machine; what they share:
//!
//! - **The process's environment.** Every child a test spawns inherits it, so a test that
//!   sets a variable (a plan's `${VAR}`) would hand it to every other test's `agentload`: it
//!   runs in a process of its own instead ([`in_own_process`]), under either runner.
//! - **The machine's CPU, for a measurement.** A capacity search checked against a simulation
//!   measures the target's service time; two such searches at once would measure each other.
//!   They take [`measuring`], a lock across processes (a file lock under `target/`), so it
//!   holds under either runner.
//! - **Ports.** Every listener binds port 0 (the kernel's choice); the one test that restarts
//!   a target on the port it had (`outages`) rebinds it at once.
//! - **Signals.** Tests signal only the children they spawned (their pids), never a group.

use std::path::PathBuf;
use std::process::Command;

/// Set in a child started by [`in_own_process`]: the test runs there.
const CHILD: &str = "AGENTLOAD_IT_OWN_PROCESS";

/// Runs the test `name` (its path in this crate, e.g. `deploy::the_plan_parses`) again, alone,
/// in a child process of this test binary with `env` set, and asserts that it passed. Returns
/// `true` in that child, where the test does its work (and may set more variables: it is the
/// child's only test); `false` in the caller, whose part is done.
pub fn in_own_process(name: &str, env: &[(&str, &str)]) -> bool {
    if std::env::var_os(CHILD).is_some_and(|v| v == name) {
        return true;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(CHILD, name)
        .envs(env.iter().copied())
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in its own process: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

/// Held while a test measures the machine (see the module's doc); released on drop.
pub struct Measuring {
    _file: std::fs::File,
}

/// How many tests may measure at once: `AGENTLOAD_MEASURING_SLOTS` (CI sets it to the
/// machine's pairs of cores for its measuring phase), else one.
fn slots() -> usize {
    std::env::var("AGENTLOAD_MEASURING_SLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .max(1)
}

/// Waits until a measuring slot is free (no more than `slots` tests measure the machine at
/// once, in this process or another), and holds it.
pub fn measuring() -> Measuring {
    let open = |slot: usize| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("agentload-measuring-{slot}.lock"));
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .expect("the measuring lock's file")
    };
    let flock = |file: &std::fs::File, how: i32| {
        // SAFETY: flock on a descriptor this function owns; released when the file closes.
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(file), how) }
    };
    let n = slots();
    // A free slot if there is one; else wait on the first (one holder at a time per slot).
    for slot in 1..n {
        let file = open(slot);
        if flock(&file, libc::LOCK_EX | libc::LOCK_NB) == 0 {
            return Measuring { _file: file };
        }
    }
    let file = open(0);
    assert_eq!(flock(&file, libc::LOCK_EX), 0, "flock the measuring lock");
    Measuring { _file: file }
}
