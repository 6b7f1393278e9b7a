//! What the sandbox runs and what comes back: a command with its limits (and, for a build
//! cache, the one other directory it may write), and how it ended.

use super::{CapturedOutput, MissingLayer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Limits for one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Wall-clock limit; the process group is killed when it runs out.
    pub wall: Duration,
    /// CPU seconds (RLIMIT_CPU).
    pub cpu_seconds: u64,
    /// Address space in bytes (RLIMIT_AS).
    pub memory_bytes: u64,
    /// Processes (pids cgroup, and RLIMIT_NPROC).
    pub max_processes: u64,
    /// Largest file the command may write (RLIMIT_FSIZE).
    pub max_file_bytes: u64,
    /// Bytes kept from the start of each output stream.
    pub output_head: usize,
    /// Bytes kept from the end of each output stream.
    pub output_tail: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall: Duration::from_secs(60),
            cpu_seconds: 120,
            memory_bytes: 4 << 30,
            max_processes: 256,
            max_file_bytes: 256 << 20,
            output_head: 16 << 10,
            output_tail: 16 << 10,
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct SandboxCommand {
    /// Program (looked up in `PATH`).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The work directory: the command's cwd, writable.
    pub dir: PathBuf,
    /// Other host directories the command may write (each must exist), e.g. a build cache a
    /// verification keeps between runs; nothing else on the host takes writes.
    pub writable: Vec<PathBuf>,
    /// Extra environment variables, on top of the clean base.
    pub env: Vec<(String, String)>,
    /// Bytes fed to stdin (closed after).
    pub stdin: Vec<u8>,
    /// Limits.
    pub limits: Limits,
}

impl SandboxCommand {
    /// `sh -c SCRIPT` in `dir` with default limits.
    pub fn shell(script: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        SandboxCommand {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            dir: dir.into(),
            writable: Vec::new(),
            env: Vec::new(),
            stdin: Vec::new(),
            limits: Limits::default(),
        }
    }

    /// Lets cargo keep its build in `target` (created if missing) across runs: the directory
    /// is writable in the sandbox and `CARGO_TARGET_DIR` names it. Only for the swarm's own
    /// gates: whatever an app's build wrote there is seen by that app's next build, never by
    /// the gym's grading.
    pub fn with_cargo_target(mut self, target: Option<&Path>) -> Self {
        let target = target.and_then(|t| {
            std::fs::create_dir_all(t).ok()?;
            t.canonicalize().ok()
        });
        if let Some(target) = target {
            self.writable.push(target.clone());
            self.env.push((
                "CARGO_TARGET_DIR".into(),
                target.to_string_lossy().into_owned(),
            ));
        }
        self
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// How a sandboxed command ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxOutcome {
    /// Exit code, when it exited.
    pub exit_code: Option<i32>,
    /// Signal that ended it, when one did.
    pub signal: Option<i32>,
    /// True when the wall limit ran out and the command was killed.
    pub timed_out: bool,
    /// Captured stdout.
    pub stdout: CapturedOutput,
    /// Captured stderr.
    pub stderr: CapturedOutput,
    /// Wall time.
    pub duration_ms: u64,
    /// Layers that were not applied.
    pub missing_layers: Vec<MissingLayer>,
    /// Links the command left that led outside its directory, removed after it (relative
    /// paths).
    #[serde(default)]
    pub removed_links: Vec<String>,
}

impl SandboxOutcome {
    /// Exited on its own with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }
}
