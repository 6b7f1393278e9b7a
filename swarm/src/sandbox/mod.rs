//! Runs untrusted commands (code a model wrote, its tests, a spec's acceptance commands).
//!
//! Layers, each applied where the machine allows and reported where it does not:
//! - **bubblewrap** (`bwrap`, Debian package `bubblewrap`): the sealed view of [`seal`] (only
//!   the toolchain, read-only; the work directory, read-write; a private `/tmp` holding an
//!   empty `HOME`; no host home, no `/etc` secrets, no `/run` or `/var` with host sockets, no
//!   `/sys`), no network (a fresh network namespace, which also hides the host's abstract
//!   Unix sockets), a private PID namespace (no host processes in `/proc`; nothing outlives
//!   the sandbox), and no capabilities even for root;
//! - **pids cgroup**: a cap on processes that also holds for root, which `RLIMIT_NPROC`
//!   does not (fork bombs), and a way to kill every process the command started;
//! - **rlimits**: CPU seconds, address space, processes, file size;
//! - **process group**: the command runs in a new session; on timeout or exit the whole
//!   group is killed;
//! - a **clean environment**: only `PATH`, `HOME` and locale pass in, never a variable whose
//!   name says it holds a secret, so API keys in the caller's environment never reach
//!   generated code.
//!
//! After every command, links it left in the work directory that lead outside it are
//! removed (and reported), so no host process that later reads the app follows one.
//!
//! Without bubblewrap the code would run **unsealed** (host files readable, network open,
//! other processes' `/proc` visible): [`Sandbox::run`] then refuses with
//! [`SandboxError::Unsealed`], naming every missing protection, unless the user accepted the
//! risk explicitly (knob `sandbox.allow_unsealed`, i.e. `--knob sandbox.allow_unsealed=true`
//! or [`ALLOW_UNSEALED_ENV`]`=1`).
//!
//! The wall timeout, the output caps and the process-group kill always apply.

mod capture;
mod cgroup;
mod command;
mod process;
pub mod seal;

use process::{find_bwrap, kill_group, ChildSetup};

pub use capture::{Capture, CapturedOutput};
pub use command::{Limits, SandboxCommand, SandboxOutcome};
pub use seal::{READ_ONLY_ENV, SANDBOX_HOME};

/// The environment variable that accepts running generated code unsealed (the knob
/// `sandbox.allow_unsealed` read from the environment).
pub const ALLOW_UNSEALED_ENV: &str = "SWARM_SANDBOX_ALLOW_UNSEALED";

/// The environment variable that turns bubblewrap off (to see, or test, what happens
/// without it).
pub const NO_BWRAP_ENV: &str = "SWARM_SANDBOX_NO_BWRAP";

/// Set once the user accepted unsealed runs for this process (see [`allow_unsealed`]).
static UNSEALED_ALLOWED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Records, for the whole process, that the user explicitly accepted running generated code
/// without the seal (the knob `sandbox.allow_unsealed`). The CLIs call it after reading their
/// knobs; nothing calls it on its own.
pub fn allow_unsealed() {
    UNSEALED_ALLOWED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// For the demos only: their "generated" code is this repository's own scripted replies, not
/// a model's, so it may run where bubblewrap is missing. Returns the line the demo prints
/// when that is the case (the code then runs unsealed), `None` when the sandbox is sealed.
pub fn accept_unsealed_for_scripted_demo() -> Option<String> {
    if Sandbox::detect().is_sealed() {
        return None;
    }
    allow_unsealed();
    Some(
        "NOTE: bubblewrap is missing, so the demo runs its code unsealed: that code is this \
         repository's scripted replies, not a model's. Real runs refuse until bubblewrap is \
         installed (apt-get install bubblewrap) or sandbox.allow_unsealed is set."
            .into(),
    )
}

/// Whether an environment variable of this name may pass into the sandbox: never one whose
/// name says it holds a credential.
pub fn may_pass_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ![
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
        "COOKIE",
    ]
    .iter()
    .any(|word| upper.contains(word))
}

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// A protection layer of the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// No network access (bubblewrap's network namespace).
    NoNetwork,
    /// Writes confined to the work directory (bubblewrap's read-only root).
    WriteConfinement,
    /// A cap on processes that holds even for root (pids cgroup), and kill-all on exit.
    ProcessLimit,
    /// CPU, memory and file-size rlimits.
    Rlimits,
    /// Only the toolchain of the host is visible (no home, no `/etc/shadow`, no host sockets).
    HostFiles,
    /// Host processes are invisible (a PID namespace: no other `/proc/PID/environ`) and nothing
    /// outlives the command (a daemon dies with the namespace).
    HostProcesses,
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layer::NoNetwork => "no-network",
            Layer::WriteConfinement => "write-confinement",
            Layer::ProcessLimit => "process-limit",
            Layer::Rlimits => "rlimits",
            Layer::HostFiles => "host-files-hidden",
            Layer::HostProcesses => "host-processes-hidden",
        })
    }
}

/// A layer that could not be applied on this machine, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingLayer {
    /// Which layer.
    pub layer: Layer,
    /// Why, and what would fix it.
    pub reason: String,
}

/// Why a command could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The work directory does not exist.
    #[error("work directory {0} does not exist")]
    MissingDir(PathBuf),
    /// The seal is missing on this machine and the user did not accept running unsealed.
    #[error("{}", unsealed_message(missing))]
    Unsealed {
        /// The protections that would be missing.
        missing: Vec<MissingLayer>,
    },
    /// Preparing the work directory failed.
    #[error("cannot prepare {what}: {source}")]
    Prepare {
        /// What was being prepared.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The process could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// What was started.
        program: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// When `path` was last modified, in seconds since the epoch (0 when unknown).
fn modified_secs(path: &Path) -> u64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// The refusal to run unsealed: every missing protection, and the two ways on.
pub fn unsealed_message(missing: &[MissingLayer]) -> String {
    let mut text = String::from(
        "refusing to run generated code unsealed: on this machine the sandbox would lack",
    );
    for layer in missing {
        text.push_str(&format!("\n  - {}: {}", layer.layer, layer.reason));
    }
    text.push_str(&format!(
        "\nInstall bubblewrap (apt-get install bubblewrap) to seal it, or accept the risk \
         explicitly with --knob sandbox.allow_unsealed=true (or {ALLOW_UNSEALED_ENV}=1); the \
         gym records that choice in every row it writes."
    ));
    text
}

/// The sandbox as this machine allows it; detect once with [`Sandbox::detect`].
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// bubblewrap, when it works here: without it nothing is sealed.
    bwrap: Option<PathBuf>,
    /// What the sealed view mounts (toolchain roots, `PATH` inside).
    view: seal::SealedView,
    /// Where per-command pids cgroups are made, when one is writable.
    cgroups: Option<cgroup::CgroupRoot>,
    /// Layers this machine cannot apply, with the reason.
    missing: Vec<MissingLayer>,
    /// The user accepted running unsealed (this instance; see also [`allow_unsealed`]).
    unsealed_accepted: bool,
}

impl Sandbox {
    /// Probes the machine once per process (bubblewrap works? a pids cgroup is writable?).
    pub fn detect() -> &'static Sandbox {
        static DETECTED: OnceLock<Sandbox> = OnceLock::new();
        DETECTED.get_or_init(Sandbox::probe)
    }

    fn probe() -> Sandbox {
        Sandbox::probe_with(find_bwrap())
    }

    /// The sandbox this machine would give without bubblewrap: what the refusal says, and what
    /// runs once unsealed runs are accepted ([`Sandbox::accepting_unsealed`]).
    pub fn without_bubblewrap() -> Sandbox {
        Sandbox::probe_with(Err(format!(
            "bubblewrap left out ({NO_BWRAP_ENV}=1 or on request)"
        )))
    }

    /// This sandbox, accepting to run unsealed (the user said so explicitly).
    pub fn accepting_unsealed(mut self) -> Sandbox {
        self.unsealed_accepted = true;
        self
    }

    fn probe_with(bwrap: Result<PathBuf, String>) -> Sandbox {
        let mut missing = Vec::new();
        let is_root = unsafe { libc::geteuid() } == 0;
        if let Err(reason) = &bwrap {
            let without = |what: &str| format!("{what} ({reason})");
            missing.push(MissingLayer {
                layer: Layer::NoNetwork,
                reason: without(
                    "the code can reach the network, this host's services on 127.0.0.1, and \
                     their Unix sockets (docker, dbus, anything under /run or /var)",
                ),
            });
            missing.push(MissingLayer {
                layer: Layer::WriteConfinement,
                reason: without("the code can write wherever this user can"),
            });
            missing.push(MissingLayer {
                layer: Layer::HostFiles,
                reason: without(if is_root {
                    "the code can read every host file: /etc/shadow, /root, ~/.ssh"
                } else {
                    "the code can read every file this user can: ~/.ssh, config files with tokens"
                }),
            });
            missing.push(MissingLayer {
                layer: Layer::HostProcesses,
                reason: without(if is_root {
                    "the code sees every host process: it can read the parent's \
                     /proc/PID/environ (its API keys), and as root a daemon can move itself out \
                     of the pids cgroup and outlive the run"
                } else {
                    "the code sees host processes (same-user ones' /proc/PID/environ unless they \
                     are non-dumpable), and a setsid daemon can outlive the run"
                }),
            });
        }
        let cgroups = cgroup::CgroupRoot::detect();
        if cgroups.is_none() && is_root {
            missing.push(MissingLayer {
                layer: Layer::ProcessLimit,
                reason: "running as root, which RLIMIT_NPROC does not limit, and no writable \
                         pids cgroup (/sys/fs/cgroup/pids or a delegated cgroup v2 subtree)"
                    .into(),
            });
        }
        let host_path =
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let view = match &bwrap {
            Ok(_) => {
                seal::SealedView::discover(&host_path, std::env::var(READ_ONLY_ENV).ok().as_deref())
            }
            Err(_) => seal::SealedView {
                path: host_path,
                ..Default::default()
            },
        };
        Sandbox {
            bwrap: bwrap.ok(),
            view,
            cgroups,
            missing,
            unsealed_accepted: std::env::var(ALLOW_UNSEALED_ENV)
                .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "on" | "yes")),
        }
    }

    /// Whether generated code runs sealed (bubblewrap works here).
    pub fn is_sealed(&self) -> bool {
        self.bwrap.is_some()
    }

    /// Refuses, naming what is missing, when the code would run unsealed and nobody accepted
    /// that. The CLIs call it before starting any work; [`Sandbox::run`] calls it every time.
    pub fn check_sealed(&self) -> Result<(), SandboxError> {
        let accepted =
            self.unsealed_accepted || UNSEALED_ALLOWED.load(std::sync::atomic::Ordering::SeqCst);
        if self.is_sealed() || accepted {
            return Ok(());
        }
        Err(SandboxError::Unsealed {
            missing: self.missing.clone(),
        })
    }

    /// What a command says before it runs any generated code: the warnings to print (layers
    /// missing here; a loud line when running unsealed was accepted), or the refusal.
    pub fn preflight(&self) -> Result<Vec<String>, SandboxError> {
        self.check_sealed()?;
        let mut lines = Vec::new();
        if !self.is_sealed() {
            lines.push(
                "WARNING: generated code runs UNSEALED, as accepted with sandbox.allow_unsealed:"
                    .to_string(),
            );
        }
        for layer in &self.missing {
            lines.push(format!(
                "WARNING:   sandbox layer {} not applied: {}",
                layer.layer, layer.reason
            ));
        }
        Ok(lines)
    }

    /// How rows should record the sandbox a command ran in: `None` when sealed, otherwise
    /// `unsealed (missing: ...)`.
    pub fn unsealed_note(&self) -> Option<String> {
        if self.is_sealed() {
            return None;
        }
        let layers: Vec<String> = self.missing.iter().map(|m| m.layer.to_string()).collect();
        Some(format!("unsealed (missing: {})", layers.join(", ")))
    }

    /// What a check's verdict here depends on besides the project: sealed or not, the layers
    /// missing, `PATH` inside, and the toolchain roots mounted with their modification times
    /// (an installed or removed package changes them). Keys the gym's cache of task proofs.
    pub fn fingerprint(&self) -> String {
        let mut text = format!("sealed={} path={}", self.is_sealed(), self.view.path);
        for layer in &self.missing {
            text.push_str(&format!(" missing={}", layer.layer));
        }
        for root in &self.view.read_only {
            text.push_str(&format!(" ro={}@{}", root.display(), modified_secs(root)));
        }
        for tool in ["python3", "node"] {
            let found = self
                .view
                .path
                .split(':')
                .map(|dir| Path::new(dir).join(tool))
                .find(|path| path.is_file());
            if let Some(path) = found {
                let real = std::fs::canonicalize(&path).unwrap_or(path);
                text.push_str(&format!(
                    " {tool}={}@{}",
                    real.display(),
                    modified_secs(&real)
                ));
            }
        }
        text
    }

    /// Layers this machine cannot apply; the CLI warns about them once.
    pub fn missing_layers(&self) -> &[MissingLayer] {
        &self.missing
    }

    /// Runs the command under every available layer.
    pub async fn run(&self, command: &SandboxCommand) -> Result<SandboxOutcome, SandboxError> {
        self.check_sealed()?;
        let dir = command
            .dir
            .canonicalize()
            .map_err(|_| SandboxError::MissingDir(command.dir.clone()))?;
        let writable = command
            .writable
            .iter()
            .map(|w| {
                w.canonicalize()
                    .map_err(|_| SandboxError::MissingDir(w.clone()))
            })
            .collect::<Result<Vec<PathBuf>, SandboxError>>()?;
        let (program, args) = self.wrap(command, &dir, &writable);
        let home = if self.is_sealed() {
            PathBuf::from(SANDBOX_HOME)
        } else {
            // Unsealed, this process at least stops same-user code from reading its
            // /proc/PID/environ (the API keys); root code still can, as the refusal said.
            // SAFETY: prctl with constant arguments.
            unsafe {
                libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            }
            dir.clone()
        };
        let mut process = tokio::process::Command::new(&program);
        process
            .args(&args)
            .current_dir(&dir)
            .env_clear()
            .env("PATH", &self.view.path)
            .env("HOME", &home)
            .env("USER", "sandbox")
            .env("LOGNAME", "sandbox")
            .env("LANG", "C.UTF-8")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .envs(
                command
                    .env
                    .iter()
                    .filter(|(name, _)| may_pass_env(name))
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let group = self
            .cgroups
            .as_ref()
            .and_then(|root| root.create(command.limits.max_processes));
        let setup = ChildSetup::new(
            &command.limits,
            group.as_ref().map(|g| g.procs_file()).as_deref(),
        );
        // SAFETY: the closure only calls async-signal-safe functions (setsid, setrlimit,
        // open/write/close on a path prepared before fork) and allocates nothing.
        unsafe {
            process.pre_exec(move || setup.apply());
        }
        let started = Instant::now();
        let mut child = process.spawn().map_err(|source| SandboxError::Spawn {
            program: program.clone(),
            source,
        })?;
        let pid = child.id();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let limits = &command.limits;
        let out_task = tokio::spawn(read_capped(stdout, limits.output_head, limits.output_tail));
        let err_task = tokio::spawn(read_capped(stderr, limits.output_head, limits.output_tail));
        if let Some(mut stdin) = child.stdin.take() {
            let bytes = command.stdin.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                // A command that never reads stdin is fine: the write error is expected.
                let _ = stdin.write_all(&bytes).await;
            });
        }
        let (status, timed_out) = match tokio::time::timeout(limits.wall, child.wait()).await {
            Ok(status) => (status.ok(), false),
            Err(_) => {
                kill_group(pid);
                (child.wait().await.ok(), true)
            }
        };
        // Whatever the command left running (a daemon, a child that outlived it) dies now.
        kill_group(pid);
        if let Some(group) = &group {
            group.kill_all();
        }
        let grace = Duration::from_secs(2);
        let stdout = finish_capture(out_task, grace).await;
        let stderr = finish_capture(err_task, grace).await;
        if let Some(group) = group {
            group.remove();
        }
        let mut removed_links = seal::remove_escaping_links(&dir, 200_000);
        for other in &writable {
            removed_links.extend(
                seal::remove_escaping_links(other, 200_000)
                    .into_iter()
                    .map(|link| other.join(link).to_string_lossy().into_owned()),
            );
        }
        use std::os::unix::process::ExitStatusExt;
        Ok(SandboxOutcome {
            exit_code: status.and_then(|s| s.code()),
            signal: status.and_then(|s| s.signal()),
            timed_out,
            stdout,
            stderr,
            duration_ms: started.elapsed().as_millis() as u64,
            missing_layers: self.missing.clone(),
            removed_links,
        })
    }

    fn wrap(
        &self,
        command: &SandboxCommand,
        dir: &Path,
        writable: &[PathBuf],
    ) -> (String, Vec<String>) {
        let Some(bwrap) = &self.bwrap else {
            return (command.program.clone(), command.args.clone());
        };
        let writable: Vec<String> = writable
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect();
        let mut args = self.view.bwrap_args(&dir.to_string_lossy(), &writable);
        args.push(command.program.clone());
        args.extend(command.args.iter().cloned());
        (bwrap.to_string_lossy().into_owned(), args)
    }
}

async fn read_capped<R: tokio::io::AsyncRead + Unpin>(
    reader: Option<R>,
    head: usize,
    tail: usize,
) -> CapturedOutput {
    let mut capture = Capture::new(head, tail);
    if let Some(mut reader) = reader {
        let mut buffer = vec![0u8; 64 << 10];
        while let Ok(read) = reader.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            capture.push(&buffer[..read]);
        }
    }
    capture.finish()
}

async fn finish_capture(
    task: tokio::task::JoinHandle<CapturedOutput>,
    grace: Duration,
) -> CapturedOutput {
    let abort = task.abort_handle();
    match tokio::time::timeout(grace, task).await {
        Ok(Ok(output)) => output,
        _ => {
            // Something that escaped every layer still holds the pipe: stop reading.
            abort.abort();
            CapturedOutput::default()
        }
    }
}
