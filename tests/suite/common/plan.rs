//! One builder for a test's load plan: the sections a target gives it (its URLs and CA, the
//! client secret's env var, the sampler off: tests judge the target's counters, not this
//! machine's CPU), then the test's own TOML, a section or a key at a time; written to a folder
//! with its reports beside it, ready for `run_plan_file` or `capacity_search`.

use super::TargetProc;
use std::path::{Path, PathBuf};

/// A load plan under construction.
pub struct Plan {
    name: String,
    parts: Vec<String>,
}

impl Plan {
    /// A plan named `name` against `t`.
    pub fn against(t: &TargetProc, name: &str) -> Plan {
        Plan {
            name: name.to_string(),
            parts: vec![target_sections(t)],
        }
    }

    /// The plan with `toml` (sections or keys, as written) added at its end.
    pub fn with(mut self, toml: &str) -> Plan {
        self.parts.push(toml.trim_end().to_string() + "\n");
        self
    }

    /// The plan's text, its reports under `reports`.
    pub fn text(&self, reports: &Path) -> String {
        format!(
            "name = \"{}\"\n{}[report]\ndir = \"{}\"\n",
            self.name,
            self.parts.concat(),
            reports.display()
        )
    }

    /// Runs the plan (`agentload run`) from `dir`, its reports under `dir/reports`, with `env`.
    pub fn run(&self, dir: &Path, env: &[(&str, &str)]) -> super::RunOutput {
        let path = self.write(dir, &dir.join("reports"));
        super::run_plan_file(dir, &path, env)
    }

    /// Writes the plan to `dir/<name>.toml`, its reports under `reports`: the plan's path.
    pub fn write(&self, dir: &Path, reports: &Path) -> PathBuf {
        let path = dir.join(format!("{}.toml", self.name));
        std::fs::write(&path, self.text(reports)).unwrap();
        path
    }
}

/// `[target]` (URLs, the target's CA), `[auth]` (the secret in `IT_CLIENT_SECRET`), and the
/// sampler off.
pub fn target_sections(t: &TargetProc) -> String {
    format!(
        "[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[sampler]\nenabled = false\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display()
    )
}
