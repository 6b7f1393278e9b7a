//! A real model: llama-server serving SmolLM2-135M-Instruct, driven by `swarm agent
//! --action-mode json`. SmolLM2 cannot really code; what this proves is that a real server
//! and a real weak model run to an honest end: within budget, no hang, no panic, the exit code
//! matching the outcome, and every file the report claims present on disk at its size.
//!
//! `.ci/prepare-model.sh` builds llama-server and fetches the model into
//! `~/.cache/swarm-gym` and writes their paths to `~/.cache/swarm-gym/env` (or set
//! `SWARM_LLAMA_SERVER` and `SWARM_SMOLLM2_GGUF`). When they cannot be had, the test says it
//! is skipped and why; under CI it fails unless the preparation recorded a reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use swarm::testing::LlamaServer;

/// One test at a time: each starts its own llama-servers, and on a 2-core CI machine three
/// CPU-bound servers at once made every run several times slower than alone (an agent run of
/// six actions went past its 300 s bound that way). Held for the whole test.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// llama-server and SmolLM2 with the lock that keeps these tests apart, or `None` after saying
/// why the test is skipped.
fn real_model() -> Option<(
    std::sync::MutexGuard<'static, ()>,
    std::path::PathBuf,
    std::path::PathBuf,
)> {
    let (server, model) = swarm::testing::real_model().unwrap()?;
    // A test that failed while holding the lock leaves nothing behind that the next one needs.
    let guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some((guard, server, model))
}

/// Waits for a command printing JSON on stdout: no hang past `deadline`, no panic, an exit
/// code. Returns (exit code, stdout as JSON, stderr).
fn finish(
    mut child: std::process::Child,
    started: Instant,
    deadline: Duration,
    what: &str,
) -> (i32, Value, String) {
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > deadline {
            let _ = child.kill();
            panic!("{what} did not end within {deadline:?} on a real llama-server");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output
        .status
        .code()
        .expect("exited, not killed by a signal");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let value: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("not JSON ({err}); stderr: {stderr}"));
    (code, value, stderr)
}

#[test]
fn swarm_agent_runs_a_real_task_on_llama_server_to_an_honest_end() {
    let Some((_one_at_a_time, server, model)) = real_model() else {
        return;
    };
    let running = LlamaServer::start(&server, &model, 2, 8192, 2).expect("llama-server starts");
    let url = running.url.clone();
    let probe = Command::new(env!("CARGO_BIN_EXE_swarm"))
        .args(["probe", "--url", &url])
        .env("SWARM_CONFIG", "/dev/null")
        .output()
        .unwrap();
    let probe: Value = serde_json::from_slice(&probe.stdout).expect("probe prints JSON");
    assert_eq!(
        (probe["backend"].as_str(), probe["slots"].as_u64()),
        (Some("llama-server"), Some(2))
    );
    assert_eq!(
        probe["models"][0]["context_length"].as_u64(),
        Some(4096),
        "8192 over 2 slots"
    );
    let workdir = tempfile::tempdir().unwrap();
    let max_actions = 6;
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_swarm"))
        .args([
            "agent",
            "--action-mode",
            "json",
            "--url",
            &url,
            "--max-actions",
            &max_actions.to_string(),
            "--output-format",
            "json",
        ])
        .args([
            "-t",
            "Create a file named hello.txt containing the text: hello world. Then call done.",
        ])
        .arg("--workdir")
        .arg(workdir.path())
        .env("SWARM_CONFIG", "/dev/null")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // No hang: the agent must finish well within this.
    let (code, report, stderr) = finish(child, started, Duration::from_secs(300), "swarm agent");
    eprintln!("real model run: exit {code}, outcome {}, {} actions, {} requests, {} tokens in, {} out, {:?} s\n{stderr}",
        report["outcome"], report["actions"].as_array().map_or(0, Vec::len), report["requests"], report["tokens_in"], report["tokens_out"], started.elapsed().as_secs());
    let outcome = report["outcome"].as_str().unwrap();
    let expected_code = if outcome == "done" { 0 } else { 1 };
    assert_eq!(
        code, expected_code,
        "exit code must match the outcome {outcome}"
    );
    let actions = report["actions"].as_array().unwrap();
    assert!(
        actions.len() <= max_actions,
        "ran {} actions over a budget of {max_actions}",
        actions.len()
    );
    assert!(
        report["tokens_in"].as_u64().unwrap() > 0,
        "a real server reports usage"
    );
    // What the report claims was written is on disk, at the size it says.
    for (path, size) in report["files_written"].as_object().unwrap() {
        let on_disk = std::fs::metadata(workdir.path().join(path))
            .map(|m| m.len())
            .unwrap_or_else(|_| panic!("{path} claimed but missing"));
        assert_eq!(Some(on_disk), size.as_u64(), "{path}");
    }
    // And nothing was written that the report does not list (besides what `run` created).
    let claimed: Vec<&String> = report["files_written"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let ran_commands = actions.iter().any(|a| a["tool"] == "run");
    if !ran_commands {
        let on_disk: Vec<String> = std::fs::read_dir(workdir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        for file in on_disk {
            assert!(
                claimed
                    .iter()
                    .any(|c| c.split('/').next() == Some(file.as_str())),
                "{file} on disk but not in the report"
            );
        }
    }
}

/// The whole pipeline on two real llama-servers with SmolLM2: every phase it reaches runs
/// against real replies and the run ends with an honest verdict — never a pass that running
/// the app does not confirm — within a bounded time and without a panic.
#[test]
fn swarm_run_on_two_real_llama_servers_ends_honestly() {
    let Some((_one_at_a_time, server, model)) = real_model() else {
        return;
    };
    let (_servers, fleet, dir) = two_servers(&server, &model);
    let (verdict, out, _) = swarm_run_ends_honestly(
        &fleet,
        dir.path(),
        "# hello\n\nA script hello.py that prints a greeting for the name given as its argument.\n\n## Acceptance\n\n```console\n$ python3 hello.py Ada\nhello, Ada\n```\n",
    );
    // A pass must be true: the app prints the greeting when run here.
    if verdict == "pass" {
        let run = Command::new("python3")
            .args(["hello.py", "Ada"])
            .current_dir(&out)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&run.stdout), "hello, Ada\n");
    }
}

/// The same on a Rust spec and on a TypeScript one: the language reaches every phase, the
/// gates build what a weak real model wrote (cargo, tsc), and the run ends honestly; a pass
/// must survive `swarm verify` run again here.
#[test]
fn swarm_runs_rust_and_typescript_specs_on_two_real_llama_servers_to_an_honest_end() {
    let Some((_one_at_a_time, server, model)) = real_model() else {
        return;
    };
    let (_servers, fleet, dir) = two_servers(&server, &model);
    for (name, spec) in [
        ("rust", "# hello\n\nLanguage: Rust\n\nA Cargo package whose program prints a greeting for the name given as its argument.\n\n## Acceptance\n\n```console\n$ cargo run --quiet -- Ada\nhello, Ada\n```\n"),
        ("typescript", "# hello\n\nLanguage: TypeScript\n\nA program `cli.ts` (compiled to `dist/cli.js`) that prints a greeting for the name given as its argument.\n\n## Acceptance\n\n```console\n$ node dist/cli.js Ada\nhello, Ada\n```\n"),
    ] {
        let here = dir.path().join(name);
        std::fs::create_dir_all(&here).unwrap();
        let (verdict, out, run_dir) = swarm_run_ends_honestly(&fleet, &here, spec);
        let started = std::fs::read_to_string(run_dir.join("events.jsonl"))
            .unwrap()
            .lines()
            .find(|l| l.contains("\"run_started\""))
            .map(String::from)
            .unwrap_or_default();
        let title = if name == "rust" { "rust" } else { "typescript" };
        assert!(
            started.contains(&format!("\"language\":\"{title}\"")),
            "{started}"
        );
        if verdict == "pass" {
            let spec_file = here.join("hello.md");
            let again = Command::new(env!("CARGO_BIN_EXE_swarm"))
                .arg("verify")
                .arg(&out)
                .arg("--spec")
                .arg(&spec_file)
                .env("SWARM_CONFIG", "/dev/null")
                .output()
                .unwrap();
            assert_eq!(
                again.status.code(),
                Some(0),
                "{name}: a pass that does not verify again: {}",
                String::from_utf8_lossy(&again.stdout)
            );
        }
    }
}

/// Two llama-servers of SmolLM2 (one llama.cpp thread each: two servers on two cores; 8192
/// tokens per slot, so the worker prompt fits) and the fleet file naming them.
fn two_servers(
    server: &std::path::PathBuf,
    model: &std::path::PathBuf,
) -> ([LlamaServer; 2], std::path::PathBuf, tempfile::TempDir) {
    let first = LlamaServer::start(server, model, 2, 16384, 1).expect("llama-server starts");
    let second = LlamaServer::start(server, model, 2, 16384, 1).expect("llama-server starts");
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet.yaml");
    std::fs::write(
        &fleet,
        format!(
            "nodes:\n  - {{name: one, url: '{}', model: smollm2, slots: 2}}\n  - {{name: two, url: '{}', model: smollm2, slots: 2}}\n",
            first.url, second.url
        ),
    )
    .unwrap();
    ([first, second], fleet, dir)
}

/// `swarm run` of `spec` (written to `dir/hello.md`) on `fleet` into `dir/app`: it ends within
/// its bound with an exit code matching its verdict, the phases ran in order against the real
/// servers, the prompt cache was used, and a verdict other than pass says why. Returns the
/// verdict, the app directory and the run's directory.
fn swarm_run_ends_honestly(
    fleet: &std::path::Path,
    dir: &std::path::Path,
    spec_text: &str,
) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let spec = dir.join("hello.md");
    std::fs::write(&spec, spec_text).unwrap();
    let out = dir.join("app");
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_swarm"))
        .arg("run")
        .arg(&spec)
        .arg("--fleet")
        .arg(fleet)
        .arg("--out")
        .arg(&out)
        .args(["--json", "--fix-rounds", "1"])
        .args(["--knob", "scout.max_actions=2", "--knob", "plan.drafts=2"])
        .args(["--knob", "node.max_reply_tokens=512"])
        .args([
            "--knob",
            "contract.max_actions=4",
            "--knob",
            "build.max_actions=4",
        ])
        .args([
            "--knob",
            "build.attempts=1",
            "--knob",
            "contract.attempts=1",
        ])
        .env("SWARM_CONFIG", "/dev/null")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, outcome, stderr) = finish(child, started, Duration::from_secs(600), "swarm run");
    let verdict = outcome["verdict"].as_str().unwrap().to_string();
    eprintln!(
        "real pipeline run: exit {code}, verdict {verdict} ({}), {:?} s, stats {}\n{stderr}",
        outcome["reason"],
        started.elapsed().as_secs(),
        outcome["stats"]
    );
    let expected = match verdict.as_str() {
        "pass" => 0,
        "fail" => 1,
        "inconclusive" => 3,
        other => panic!("unknown verdict {other}"),
    };
    assert_eq!(code, expected);
    // The phases ran against the real servers, in order, as far as the run got.
    let run_dir = std::path::PathBuf::from(outcome["run_dir"].as_str().unwrap());
    let events: Vec<Value> = std::fs::read_to_string(run_dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let phases: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == "phase" && e["status"] == "started")
        .map(|e| e["phase"].as_str().unwrap().to_string())
        .collect();
    eprintln!("phases started: {phases:?}");
    assert_eq!(&phases[..2], ["scout", "plan"]);
    // Slot affinity: each worker conversation names its llama-server slot with
    // `cache_prompt`, so a conversation's second request finds its first in the cache.
    let schedule = &outcome["schedule"];
    eprintln!("fleet use: {schedule}");
    let prompt = schedule["prompt_tokens"].as_u64().unwrap();
    let cached = schedule["cached_tokens"].as_u64().unwrap();
    assert!(cached <= prompt, "{schedule}");
    // What orchestrating cost: the swarm process's own CPU over the invocation.
    let cpu = schedule["process_cpu_s"].as_f64().unwrap_or(0.0);
    let wall = schedule["wall_s"].as_f64().unwrap_or(0.0);
    assert!(cpu > 0.0 && wall > 0.0, "{schedule}");
    eprintln!("swarm process CPU: {cpu:.2} s of {wall:.1} s wall");
    let second_requests = events
        .iter()
        .filter(|e| e["event"] == "agent" && e["agent"]["event"] == "request")
        .filter(|e| e["agent"]["number"].as_u64().unwrap_or(0) >= 2)
        .count();
    if second_requests > 0 {
        assert!(
            cached > 0,
            "{second_requests} follow-up request(s), nothing cached: {schedule}"
        );
    }
    // Once a plan is chosen the run goes on to build and verify, whatever the model does.
    // (CONTRACT may be skipped, saying why: every planned file already exists.)
    if events.iter().any(|e| e["event"] == "plan_chosen") {
        let skipped: Vec<&str> = events
            .iter()
            .filter(|e| e["event"] == "phase" && e["status"] == "skipped")
            .filter_map(|e| e["phase"].as_str())
            .collect();
        for phase in ["contract", "build", "verify"] {
            assert!(
                phases.iter().any(|p| p == phase)
                    || (phase == "contract" && skipped.contains(&phase)),
                "{phase} did not run: {phases:?}"
            );
        }
    }
    assert!(
        events.iter().any(|e| e["event"] == "plan_draft"),
        "drafts were requested"
    );
    assert_eq!(events.last().unwrap()["event"], "verdict");
    if verdict != "pass" {
        assert!(!outcome["reason"].as_str().unwrap().is_empty());
    }
    (verdict, out, run_dir)
}

/// `swarm fleet calibrate` on a real llama-server: the timings it reads exist, the constants
/// it writes are sane, and the simulator runs on them.
#[test]
fn calibrate_measures_a_real_llama_server_and_the_simulator_runs_on_it() {
    let Some((_one_at_a_time, server, model)) = real_model() else {
        return;
    };
    let running = LlamaServer::start(&server, &model, 2, 8192, 2).expect("llama-server starts");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calibration.json");
    let output = Command::new(env!("CARGO_BIN_EXE_swarm"))
        .args(["fleet", "calibrate", "--url", &running.url, "--rounds", "2"])
        .arg("--out")
        .arg(&file)
        .env("SWARM_CONFIG", "/dev/null")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("{stderr}{stdout}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    // A GPU or CPU prefills many times faster than it generates; two streams share it.
    let ratio = written["prefill_per_decode"].as_f64().unwrap();
    assert!(ratio > 1.0, "{written}");
    assert!(
        written["measured"]["parallel"].as_u64() == Some(2),
        "{written}"
    );
    let simulated = Command::new(env!("CARGO_BIN_EXE_swarm"))
        .args(["fleet", "simulate", "--sizes", "20", "--shapes", "plan"])
        .args(["--fleets", "equal-3", "--no-compare", "--calibration"])
        .arg(&file)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&simulated.stdout);
    assert_eq!(simulated.status.code(), Some(0), "{table}");
    assert!(table.contains("SIMULATED"), "{table}");
}
