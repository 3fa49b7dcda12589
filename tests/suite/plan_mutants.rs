//! Seeded mutants of the shipped plans (values swapped for odd ones, lines dropped, duplicated
//! or cut), read by `agentload token mint`: each exits 0 or 2, never panics, and a refused
//! plan is one line naming `file:line`.

use crate::common::agentload;
use std::path::Path;
use std::process::Stdio;

/// Mutants per run of the test: a few hundred, split over the shipped plans.
const MUTANTS: usize = 320;
const SEED: u64 = 0x5EED_A9E7;

/// Values a mutant puts in place of a line's value.
const ODD_VALUES: &[&str] = &[
    "1e308",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "\"\"",
    "\"nan\"",
    "\"1e308s\"",
    "\"-5s\"",
    "99999999999999999",
    "-99999999999999999",
    "\"99999999999h\"",
    "true",
    "[]",
    "{}",
    "\"x\"",
    "0.0000001",
    "1.5",
    "\"101%\"",
    "\"-3%\"",
    "\"\\u0000\"",
    "\"${AGENTLOAD_SURELY_UNSET}\"",
    "[1, \"a\"]",
    "\"1e400GB\"",
    "18446744073709551616",
];

/// xorshift64*: a seeded draw, so a failing mutant is the same on every run.
struct Draw(u64);

impl Draw {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

fn mutate(text: &str, draw: &mut Draw) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // One to three edits per mutant.
    for _ in 0..1 + draw.next(3) {
        let i = draw.next(lines.len());
        match draw.next(5) {
            0 | 1 => {
                if let Some((key, _)) = lines[i].split_once('=') {
                    let value = ODD_VALUES[draw.next(ODD_VALUES.len())];
                    lines[i] = format!("{key}= {value}");
                }
            }
            2 => {
                lines.remove(i);
            }
            3 => {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            _ => {
                let cut = draw.next(lines[i].len() + 1);
                let mut line = lines[i].clone();
                while !line.is_char_boundary(cut.min(line.len())) {
                    line.pop();
                }
                line.truncate(cut.min(line.len()));
                lines[i] = line;
            }
        }
        if lines.is_empty() {
            break;
        }
    }
    lines.join("\n")
}

#[test]
fn mutated_plans_exit_0_or_2_and_name_file_and_line() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/loadplans");
    let plans: Vec<(String, String)> =
        ["smoke", "ramp-up", "mixed", "enterprise-onboarding", "open"]
            .iter()
            .map(|name| {
                let path = Path::new(shipped).join(format!("{name}.toml"));
                (name.to_string(), std::fs::read_to_string(path).unwrap())
            })
            .collect();
    let dir = tempfile::tempdir().unwrap();
    // The mixed plan's prompt file, beside its mutants.
    std::fs::copy(
        Path::new(shipped).join("prompts.jsonl"),
        dir.path().join("prompts.jsonl"),
    )
    .unwrap();
    let mut draw = Draw(SEED);
    let mutants: Vec<(usize, std::path::PathBuf)> = (0..MUTANTS)
        .map(|i| {
            let (name, text) = &plans[i % plans.len()];
            let path = dir.path().join(format!("{name}-m{i}.toml"));
            std::fs::write(&path, mutate(text, &mut draw)).unwrap();
            (i, path)
        })
        .collect();
    let mut problems = Vec::new();
    let (mut passed, mut refused) = (0, 0);
    // Two at a time: this machine has two cores.
    for pair in mutants.chunks(2) {
        let children: Vec<_> = pair
            .iter()
            .map(|(i, path)| {
                let child = agentload()
                    .args(["token", "mint"])
                    .arg(path)
                    .env(
                        "AGENTLOAD_JWT_SECRET",
                        "mutant-secret-of-at-least-32-bytes!!",
                    )
                    .env_remove("AGENTLOAD_BYPASS_KEY")
                    .current_dir(dir.path())
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (*i, path.clone(), child)
            })
            .collect();
        for (i, path, child) in children {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            match out.status.code() {
                Some(0) => passed += 1,
                Some(2) => {
                    refused += 1;
                    let errors: Vec<&str> =
                        stderr.lines().filter(|l| l.starts_with("error:")).collect();
                    let names_line = errors.len() == 1
                        && errors[0].contains(&format!("{}:", path.display()))
                        && errors[0]
                            .split(&format!("{}:", path.display()))
                            .nth(1)
                            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
                    // A login plan with no bypass key set stops at the env var, after the plan
                    // was read whole: a setup error, not a plan error.
                    let env_setup = errors.len() == 1 && errors[0].contains("env var");
                    if !(names_line || env_setup) {
                        problems.push(format!(
                            "mutant {i} ({name}): exit 2 without file:line:\n{stderr}"
                        ));
                    }
                }
                code => problems.push(format!(
                    "mutant {i} ({name}): exit {code:?}\n{stderr}\n--- plan:\n{}",
                    std::fs::read_to_string(&path).unwrap()
                )),
            }
            if stderr.contains("panicked") {
                problems.push(format!("mutant {i} ({name}) panicked:\n{stderr}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {MUTANTS} mutants misbehaved ({passed} valid, {refused} refused):\n{}",
        problems.len(),
        problems.join("\n\n")
    );
    // The mutants are real mutants: most are refused, some still valid.
    assert!(
        refused > MUTANTS / 4 && passed > 0,
        "{passed} valid, {refused} refused"
    );
}
