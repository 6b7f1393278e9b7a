//! Support for tests that need a real model: finds the llama-server binary and the
//! SmolLM2-135M-Instruct GGUF that `.ci/prepare-model.sh` prepared, and runs a server that is
//! stopped when dropped. Used by the real-model tests of every crate.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming the cache `.ci/prepare-model.sh` fills (default
/// `~/.cache/swarm-gym`).
pub use crate::toolchain::CACHE_ENV;
/// The environment variable naming a llama-server binary to test with (overrides the cache).
pub const LLAMA_SERVER_ENV: &str = "SWARM_LLAMA_SERVER";
/// The environment variable naming the SmolLM2 GGUF to test with (overrides the cache).
pub const SMOLLM2_GGUF_ENV: &str = "SWARM_SMOLLM2_GGUF";
/// Set by CI: a real-model test that finds no recorded reason to skip fails instead.
pub const CI_ENV: &str = "CI";

/// Where `.ci/prepare-model.sh` caches the server and the model.
pub use crate::toolchain::cache_dir;

/// Why the real model is not available, and whether that was recorded as expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// The reason.
    pub reason: String,
    /// True when the preparation recorded a reason (an honest skip); false when it never ran.
    pub recorded: bool,
}

/// (llama-server, model): from `SWARM_LLAMA_SERVER` and `SWARM_SMOLLM2_GGUF`, or from the
/// cache's `env` file.
pub fn locate_llama() -> Result<(PathBuf, PathBuf), Unavailable> {
    if let (Ok(server), Ok(model)) = (
        std::env::var(LLAMA_SERVER_ENV),
        std::env::var(SMOLLM2_GGUF_ENV),
    ) {
        return Ok((server.into(), model.into()));
    }
    let env_file = cache_dir().join("env");
    let skip = std::fs::read_to_string(cache_dir().join("skip-reason")).ok();
    let text = std::fs::read_to_string(&env_file).map_err(|_| match &skip {
        Some(reason) => Unavailable {
            reason: format!("model preparation failed: {}", reason.trim()),
            recorded: true,
        },
        None => Unavailable {
            reason: format!("{} not found: run .ci/prepare-model.sh", env_file.display()),
            recorded: false,
        },
    })?;
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{key}=")))
            .map(PathBuf::from)
    };
    match (value("LLAMA_SERVER"), value("SMOLLM2_GGUF")) {
        (Some(server), Some(model)) if server.exists() && model.exists() => Ok((server, model)),
        _ => Err(Unavailable {
            reason: format!("{} names files that do not exist", env_file.display()),
            recorded: false,
        }),
    }
}

/// The names a test llama-server answers to (`--alias`): fleets in the real-model tests name
/// these, and a deliberate A/A names both (one model under two names, listed by the server).
/// Any other name is refused before a run, as a misspelt id would be.
pub const TEST_MODEL_NAMES: [&str; 2] = ["smollm2", "smollm2-again"];

/// A running llama-server; killed on drop.
pub struct LlamaServer {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl LlamaServer {
    /// Starts `server -m model` on a free port with `parallel` slots, `context` tokens in all
    /// and `threads` CPU threads, and waits up to two minutes for `/health`. Servers sharing a
    /// few cores must split them: llama.cpp's threads spin, and oversubscribed cores slow
    /// every server down many times over.
    pub fn start(
        server: &PathBuf,
        model: &PathBuf,
        parallel: u32,
        context: u32,
        threads: u32,
    ) -> Result<LlamaServer, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let log_path = std::env::temp_dir().join(format!("llama-server-{port}.log"));
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let child = Command::new(server)
            .arg("-m")
            .arg(model)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--alias", &TEST_MODEL_NAMES.join(",")])
            .args([
                "--parallel",
                &parallel.to_string(),
                "-c",
                &context.to_string(),
                "--threads",
                &threads.max(1).to_string(),
            ])
            .stdout(Stdio::from(log.try_clone().map_err(|e| e.to_string())?))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", server.display()))?;
        let mut running = LlamaServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if let Ok(Some(status)) = running.child.try_wait() {
                return Err(format!(
                    "llama-server exited with {status}; see {}",
                    log_path.display()
                ));
            }
            if health_ok(port) {
                return Ok(running);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(format!(
            "llama-server was not healthy after 120 s; see {}",
            log_path.display()
        ))
    }
}

fn health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// llama-server and SmolLM2 for a real-model test: `Ok(None)` after saying on stderr why the
/// test is skipped; `Err` under CI when the preparation never ran (CI must prepare the model,
/// so a silent skip there would hide a broken setup).
pub fn real_model() -> Result<Option<(PathBuf, PathBuf)>, String> {
    match locate_llama() {
        Ok(found) => Ok(Some(found)),
        Err(Unavailable { reason, recorded }) => {
            if std::env::var(CI_ENV).is_ok() && !recorded {
                return Err(format!(
                    "CI must prepare the real model first (.ci/prepare-model.sh): {reason}"
                ));
            }
            eprintln!("SKIPPED real-model test: {reason}");
            Ok(None)
        }
    }
}
