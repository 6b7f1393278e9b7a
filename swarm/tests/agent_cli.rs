//! `swarm agent` end to end against swarm-sim: the binary, its exit codes, its output, and
//! what ends up on disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pretty_assertions::assert_eq;
use serde_json::Value;
use std::path::Path;
use swarm::sim::{Scenario, SimFleet};

async fn fleet(yaml: &str) -> SimFleet {
    SimFleet::start(Scenario::from_yaml(yaml, "test").unwrap(), "127.0.0.1")
        .await
        .unwrap()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not JSON ({err}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

async fn swarm_agent(args: &[&str], workdir: &Path, stdin: Option<&str>) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_swarm"));
    command
        .arg("agent")
        .args(args)
        .arg("--workdir")
        .arg(workdir)
        .env("SWARM_CONFIG", workdir.join("no-config.toml"))
        .env_remove("SWARM_URL")
        .env_remove("SWARM_MODEL")
        .env_remove("SWARM_ACTION_MODE")
        .env_remove("SWARM_MAX_ACTIONS")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // The config path must exist when named; an empty file means "no settings".
    std::fs::write(workdir.join("no-config.toml"), "").unwrap();
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .await
        .unwrap();
    drop(input);
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .expect("swarm agent hung")
    .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A three-step scripted task: write a module, write a main that uses it, run it, finish.
const MULTI_STEP: &str = r#"
nodes: [{name: a, model: sim-good, tokens_per_second: 3000, supports_tools: true}]
rules:
  - when: {turn: 1}
    reply: {action: {tool: write_file, args: {path: greet/util.py, content: "def greet(name):\n    return f'hello {name}'\n"}}}
  - when: {turn: 2}
    reply: {action: {tool: write_file, args: {path: main.py, content: "from greet.util import greet\nprint(greet('swarm'))\n"}}}
  - when: {turn: 3}
    reply: {action: {tool: run, args: {command: "python3 main.py"}}}
  - when: {turn: 4, last_contains: "hello swarm"}
    reply: {action: {tool: done, args: {summary: "main.py prints hello swarm"}}}
  - when: {turn: 4}
    reply: {action: {tool: done, args: {summary: "ran but output was wrong"}}}
"#;

#[tokio::test]
async fn a_scripted_multi_step_task_completes_in_both_action_modes() {
    let fleet = fleet(MULTI_STEP).await;
    for mode in ["json", "native"] {
        let dir = tempfile::tempdir().unwrap();
        let run = swarm_agent(
            &[
                "-t",
                "build greet",
                "--url",
                &fleet.nodes[0].url,
                "--action-mode",
                mode,
                "--output-format",
                "json",
            ],
            dir.path(),
            None,
        )
        .await;
        assert_eq!(run.code, 0, "{mode}: {}", run.stderr);
        let report = run.json();
        assert_eq!(report["outcome"], "done", "{mode}");
        assert_eq!(
            report["summary"], "main.py prints hello swarm",
            "{mode}: the run output reached the model"
        );
        assert_eq!(report["action_mode"], mode);
        let tools: Vec<&str> = report["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["tool"].as_str().unwrap())
            .collect();
        assert_eq!(
            tools,
            vec!["write_file", "write_file", "run", "done"],
            "{mode}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("greet/util.py")).unwrap(),
            "def greet(name):\n    return f'hello {name}'\n"
        );
        assert_eq!(report["files_written"]["main.py"], 51);
    }
}

#[tokio::test]
async fn auto_mode_picks_native_when_the_server_supports_tools() {
    let fleet = fleet(MULTI_STEP).await;
    let dir = tempfile::tempdir().unwrap();
    let run = swarm_agent(
        &[
            "-t",
            "build greet",
            "--url",
            &fleet.nodes[0].url,
            "--output-format",
            "json",
        ],
        dir.path(),
        None,
    )
    .await;
    assert_eq!(run.json()["action_mode"], "native");
    assert!(fleet
        .served()
        .iter()
        .all(|request| request.tools && request.schema.is_none()));
}

#[tokio::test]
async fn the_text_summary_goes_to_stdout_and_progress_to_stderr() {
    let fleet = fleet(MULTI_STEP).await;
    let dir = tempfile::tempdir().unwrap();
    let run = swarm_agent(
        &[
            "-i",
            "-",
            "--url",
            &fleet.nodes[0].url,
            "--action-mode",
            "json",
        ],
        dir.path(),
        Some("build greet"),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("outcome: done"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("files written: greet/util.py (44 bytes), main.py (51 bytes)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("[  3/40] run        python3 main.py (ok)"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn running_out_of_actions_exits_1() {
    let fleet = fleet("nodes: [{name: a, tokens_per_second: 5000}]\nrules:\n  - reply: {action: {tool: list_files, args: {}}}\n").await;
    let dir = tempfile::tempdir().unwrap();
    let run = swarm_agent(
        &[
            "-t",
            "x",
            "--url",
            &fleet.nodes[0].url,
            "--action-mode",
            "json",
            "--max-actions",
            "5",
            "--output-format",
            "json",
        ],
        dir.path(),
        None,
    )
    .await;
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(
        (
            report["outcome"].as_str(),
            report["actions"].as_array().unwrap().len()
        ),
        (Some("out_of_budget"), 5)
    );
}

#[tokio::test]
async fn a_model_that_never_acts_fails_after_three_replies() {
    let fleet = fleet("nodes: [{name: a, tokens_per_second: 5000}]\ndefault_reply: {content: 'I would write the code now.'}\n").await;
    let dir = tempfile::tempdir().unwrap();
    let run = swarm_agent(
        &[
            "-t",
            "x",
            "--url",
            &fleet.nodes[0].url,
            "--action-mode",
            "native",
            "--output-format",
            "json",
        ],
        dir.path(),
        None,
    )
    .await;
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(
        (
            report["outcome"].as_str(),
            report["malformed_replies"].as_u64()
        ),
        (Some("failed"), Some(3))
    );
}

#[tokio::test]
async fn a_server_that_breaks_mid_run_fails_honestly() {
    let yaml = "nodes: [{name: a, tokens_per_second: 5000}]\nrules:\n  - when: {turn: 1}\n    reply: {action: {tool: write_file, args: {path: a.txt, content: kept}}}\n  - fault: {http_500: true}\n";
    let fleet = fleet(yaml).await;
    let dir = tempfile::tempdir().unwrap();
    let run = swarm_agent(
        &[
            "-t",
            "x",
            "--url",
            &fleet.nodes[0].url,
            "--action-mode",
            "json",
            "--output-format",
            "json",
        ],
        dir.path(),
        None,
    )
    .await;
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(
        (report["outcome"].as_str(), report["error_kind"].as_str()),
        (Some("failed"), Some("server_error"))
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
        "kept",
        "work done before the failure is on disk"
    );
}

#[tokio::test]
async fn escaping_paths_are_refused_and_the_model_is_told() {
    let yaml = r#"
nodes: [{name: a, tokens_per_second: 5000}]
rules:
  - when: {turn: 1}
    reply: {action: {tool: write_file, args: {path: ../escaped.txt, content: x}}}
  - when: {turn: 2, last_contains: "climbs out of the workspace"}
    reply: {action: {tool: done, args: {summary: "understood the refusal"}}}
  - reply: {action: {tool: done, args: {summary: "did not see the refusal"}}}
"#;
    let fleet = fleet(yaml).await;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("work");
    std::fs::create_dir(&dir).unwrap();
    let run = swarm_agent(
        &[
            "-t",
            "x",
            "--url",
            &fleet.nodes[0].url,
            "--action-mode",
            "json",
            "--output-format",
            "json",
        ],
        &dir,
        None,
    )
    .await;
    let report = run.json();
    assert_eq!(report["summary"], "understood the refusal");
    assert_eq!(report["tool_errors"], 1);
    assert!(!parent.path().join("escaped.txt").exists());
}

#[tokio::test]
async fn no_reachable_server_exits_2_naming_the_url_and_how_to_start_one() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let run = swarm_agent(&["-t", "x", "--url", &url], dir.path(), None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    for server in ["LM Studio", "Ollama", "llama-server"] {
        assert!(run.stderr.contains(server), "{}", run.stderr);
    }
    assert_eq!(run.stdout, "");
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = swarm_agent(&[], dir.path(), None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no task"), "{}", run.stderr);
}

#[tokio::test]
async fn the_agent_demo_checks_what_it_wrote_by_running_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_swarm"))
        .args(["demo-agent", "--workdir"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout.matches("checked by running it: PASS").count(),
        2,
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("SIMULATED fleet"));
}
