//! The pipeline's commands as a user runs them: `swarm demo`, `run` killed mid-BUILD and
//! `resume`d, `verify` and its exit codes, `knobs`, and the errors for a spec without
//! acceptance commands and a machine without servers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use swarm::demo;
use swarm::pipeline::{read_log, Event};
use swarm::sim::SimFleet;

fn swarm() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_swarm"));
    command.env("SWARM_CONFIG", "/dev/null");
    command.env_remove("SWARM_URL").env_remove("SWARM_MODEL");
    command
}

fn text(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write_app(dir: &Path, cli: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for (_, path, content) in demo::FINAL {
        std::fs::write(dir.join(path), content).unwrap();
    }
    std::fs::write(dir.join("cli.py"), cli).unwrap();
}

#[test]
fn swarm_demo_builds_the_example_and_says_the_fleet_is_simulated() {
    let out = tempfile::tempdir().unwrap();
    let app = out.path().join("gradebook");
    let output = swarm().args(["demo", "--out"]).arg(&app).output().unwrap();
    let (code, stdout, stderr) = text(&output);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("SIMULATED fleet"), "{stderr}");
    assert!(stderr.contains("[plan] round 0 draft"), "{stderr}");
    assert!(stderr.contains("tasks done"), "{stderr}");
    // BUILD's progress counts tasks with the time since it started and the time left.
    let counted = regex::Regex::new(r"1/5 tasks done · \d+:\d\d, ETA \d+:\d\d").unwrap();
    assert!(counted.is_match(&stderr), "{stderr}");
    assert!(stdout.contains("verdict: PASS"), "{stdout}");
    assert!(
        stdout.contains(&format!("app: {}", app.display())),
        "{stdout}"
    );
    assert!(stdout.contains("fleet: SIMULATED"), "{stdout}");
    let log = Command::new("git")
        .arg("-C")
        .arg(&app)
        .args(["log", "--oneline"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&log.stdout).contains("merge fix-1 cli"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_build_resumes_without_redoing_finished_tasks() {
    let mut scenario = demo::scenario();
    // Slow enough that the kill lands inside BUILD.
    for node in scenario.nodes.iter_mut() {
        node.tokens_per_second = 150.0;
    }
    let sim = SimFleet::start(scenario.clone(), "127.0.0.1")
        .await
        .unwrap();
    let fleet = demo::fleet_of(&sim, &scenario);
    let dir = tempfile::tempdir().unwrap();
    let fleet_file = dir.path().join("fleet.yaml");
    std::fs::write(&fleet_file, serde_yaml_ng::to_string(&fleet).unwrap()).unwrap();
    let spec = dir.path().join("gradebook.md");
    std::fs::write(&spec, demo::SPEC).unwrap();
    let app = dir.path().join("app");
    let mut child = swarm()
        .arg("run")
        .arg(&spec)
        .arg("--fleet")
        .arg(&fleet_file)
        .arg("--out")
        .arg(&app)
        .args(["--knob", "scout.enabled=false"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL: no cleanup) as soon as the first task is merged.
    let started = Instant::now();
    let events_file = loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no task merged in 120 s"
        );
        let found = std::fs::read_dir(app.join(".swarm/runs"))
            .ok()
            .and_then(|mut dirs| dirs.next())
            .and_then(|d| d.ok())
            .map(|d| d.path().join("events.jsonl"));
        if let Some(file) = found.filter(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .contains("\"event\":\"merged\"")
        }) {
            break file;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let run_dir = events_file.parent().unwrap().to_path_buf();
    assert!(!run_dir.join("verdict.json").exists());
    let before: Vec<String> = read_log(&events_file)
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.event {
            Event::Merged { task, .. } => Some(task),
            _ => None,
        })
        .collect();
    assert!(!before.is_empty() && before.len() < 5, "{before:?}");

    let output = tokio::task::spawn_blocking(move || {
        swarm()
            .arg("resume")
            .arg(&app)
            .arg("--fleet")
            .arg(&fleet_file)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (code, stdout, stderr) = text(&output);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("verdict: PASS"), "{stdout}");
    assert!(stderr.contains("[run] resuming"), "{stderr}");
    // Progress counts the plan's tasks after a resume too (it once said "1/0 tasks done").
    assert!(!stderr.contains("/0 tasks done"), "{stderr}");
    assert!(stderr.contains("/5 tasks done"), "{stderr}");
    let events: Vec<Event> = read_log(&events_file)
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    let resumed_at = events
        .iter()
        .position(|e| matches!(e, Event::RunStarted { resumed: true, .. }))
        .unwrap();
    let after = &events[resumed_at..];
    assert!(after.iter().any(|e| matches!(e, Event::Phase { phase, status, .. } if phase == "plan" && status == "skipped")));
    assert!(after.iter().any(|e| matches!(e, Event::Phase { phase, status, .. } if phase == "contract" && status == "skipped")));
    for task in &before {
        assert!(
            !after
                .iter()
                .any(|e| matches!(e, Event::Dispatch { task: t, .. } if t == task)),
            "{task} was merged before the kill and dispatched again"
        );
    }
    let merged_after: Vec<&String> = after
        .iter()
        .filter_map(|e| match e {
            Event::Merged { task, stage, .. } if stage == "build" => Some(task),
            _ => None,
        })
        .collect();
    assert_eq!(
        before.len() + merged_after.len(),
        5,
        "{before:?} + {merged_after:?}"
    );
    assert!(run_dir.join("verdict.json").is_file());
}

#[test]
fn swarm_verify_answers_pass_fail_inconclusive_and_usage_by_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.md");
    std::fs::write(&spec, demo::SPEC).unwrap();
    let good = dir.path().join("good");
    write_app(&good, demo::FINAL[4].2);
    let (code, stdout, _) = text(
        &swarm()
            .arg("verify")
            .arg(&good)
            .arg("--spec")
            .arg(&spec)
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("verdict: PASS"), "{stdout}");

    let drifted = dir.path().join("drifted");
    let cli = demo::drifted_cli();
    write_app(&drifted, &cli);
    let output = swarm()
        .arg("verify")
        .arg(&drifted)
        .arg("--spec")
        .arg(&spec)
        .arg("--json")
        .output()
        .unwrap();
    let (code, stdout, _) = text(&output);
    assert_eq!(code, 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "call_arity")
        .unwrap();
    for field in ["gate", "kind", "file", "line", "message", "evidence"] {
        assert!(!finding[field].is_null(), "{field} in {finding}");
    }
    assert_eq!(
        (finding["gate"].as_str(), finding["file"].as_str()),
        (Some("review"), Some("cli.py"))
    );
    assert_eq!(
        finding["evidence"],
        "averages = student_averages(scores, \"points\")"
    );

    let missing_tool = dir.path().join("tool.md");
    std::fs::write(
        &missing_tool,
        "# t\n\n## Acceptance\n\n```console\n$ no-such-tool-swarm-test report x\nok\n```\n",
    )
    .unwrap();
    let (code, stdout, _) = text(
        &swarm()
            .arg("verify")
            .arg(&good)
            .arg("--spec")
            .arg(&missing_tool)
            .output()
            .unwrap(),
    );
    assert_eq!(
        code, 3,
        "a missing tool is inconclusive, never red: {stdout}"
    );
    assert!(stdout.contains("not installed on this machine"), "{stdout}");

    let (code, _, stderr) = text(
        &swarm()
            .arg("verify")
            .arg(dir.path().join("nope"))
            .arg("--spec")
            .arg(&spec)
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    let (code, _, _) = text(&swarm().arg("verify").arg(&good).output().unwrap());
    assert_eq!(code, 2, "--spec is required");
}

/// `swarm run SPEC` with no fleet file: (exit code, stderr).
fn run_without_fleet(spec_text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("app.md");
    std::fs::write(&spec, spec_text).unwrap();
    let output = swarm()
        .arg("run")
        .arg(&spec)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let (code, _, stderr) = text(&output);
    (code, stderr)
}

/// The `--flags` a message names.
fn flags_named(message: &str) -> Vec<String> {
    let mut flags: Vec<String> = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(String::from)
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

/// Every flag a hint names exists on the command that printed it (flags of the servers'
/// own command lines, quoted in the how-to-start-one help, are theirs).
fn assert_hint_flags_exist(subcommand: &str, message: &str) {
    const SERVERS_FLAGS: [&str; 2] = ["--port", "--parallel"];
    let help = text(&swarm().args([subcommand, "--help"]).output().unwrap()).1;
    for flag in flags_named(message) {
        assert!(
            SERVERS_FLAGS.contains(&flag.as_str())
                || help.contains(&format!("{flag} "))
                || help.contains(&format!("{flag}\n")),
            "`swarm {subcommand}` names {flag}, which it does not have:\n{message}"
        );
    }
}

#[test]
fn a_spec_without_acceptance_is_refused_with_how_to_write_it() {
    let (code, stderr) = run_without_fleet("# app\n\nA todo list.\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no acceptance commands")
            && stderr.contains("## Acceptance")
            && stderr.contains("--derive-acceptance"),
        "{stderr}"
    );
    assert_hint_flags_exist("run", &stderr);
    // `verify` has no --derive-acceptance, so its refusal must not suggest it.
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("app.md");
    std::fs::write(&spec, "# app\n\nA todo list.\n").unwrap();
    let (code, _, stderr) = text(
        &swarm()
            .arg("verify")
            .arg(dir.path())
            .arg("--spec")
            .arg(&spec)
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("## Acceptance"), "{stderr}");
    assert!(!stderr.contains("--derive-acceptance"), "{stderr}");
    assert_hint_flags_exist("verify", &stderr);
}

#[test]
fn a_url_that_answers_nothing_is_said_with_flags_that_exist() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("app.md");
    std::fs::write(&spec, demo::SPEC).unwrap();
    let output = swarm()
        .arg("run")
        .arg(&spec)
        .args(["--url", &format!("http://127.0.0.1:{port}"), "--model", "m"])
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let (code, _, stderr) = text(&output);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot reach the server"), "{stderr}");
    assert_hint_flags_exist("run", &stderr);
    // A model without a server is refused by the command line itself.
    let (code, _, stderr) = text(
        &swarm()
            .arg("run")
            .arg(&spec)
            .args(["--model", "m"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--model m needs the server"), "{stderr}");
    assert_hint_flags_exist("run", &stderr);
    let (code, _, stderr) = text(
        &swarm()
            .arg("run")
            .arg(&spec)
            .args(["--fleet", "f.yaml", "--model", "m"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("a fleet file names each node's model"),
        "{stderr}"
    );
}

/// The scenario shipped for trying `swarm run` without a model server: the demo's, on fixed
/// ports. `SWARM_BLESS=1` rewrites the file from the code.
#[test]
fn the_shipped_scenario_is_the_demo_scenario() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sim/gradebook.yaml");
    let expected = demo::shipped_scenario();
    if std::env::var("SWARM_BLESS").is_ok() {
        std::fs::write(&path, demo::shipped_scenario_yaml()).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let shipped = swarm::sim::Scenario::from_yaml(&text, "examples/sim/gradebook.yaml").unwrap();
    assert!(
        shipped == expected,
        "examples/sim/gradebook.yaml differs from swarm::demo::shipped_scenario(); rewrite it with SWARM_BLESS=1 cargo nextest run -p swarm --test pipeline_cli shipped"
    ); // The shipped fleet file names exactly those nodes, ports, models and slots.
    let fleet = swarm::Fleet::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sim/fleet.yaml"),
    )
    .unwrap();
    let named: Vec<(String, String, String, u32)> = fleet
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.url.clone(), n.model.clone(), n.slots))
        .collect();
    let served: Vec<(String, String, String, u32)> = expected
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.clone(),
                format!("http://127.0.0.1:{}", n.port),
                n.model.clone(),
                n.slots,
            )
        })
        .collect();
    assert_eq!(named, served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swarm_run_with_url_builds_the_spec_on_the_shipped_scenario() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sim/gradebook.yaml");
    let mut scenario =
        swarm::sim::Scenario::from_yaml(&std::fs::read_to_string(&path).unwrap(), "shipped")
            .unwrap();
    // Any free port here (the file's fixed ports may be taken on a test machine); only the
    // first node serves, as `--url` gives one.
    scenario.nodes.truncate(1);
    scenario.nodes[0].port = 0;
    let sim = SimFleet::start(scenario.clone(), "127.0.0.1")
        .await
        .unwrap();
    let url = sim.url(&scenario.nodes[0].name).unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/gradebook/spec.md");
    let app = dir.path().join("app");
    let output = tokio::task::spawn_blocking(move || {
        swarm()
            .arg("run")
            .arg(&spec)
            .args(["--url", &url])
            .arg("--out")
            .arg(&app)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (code, stdout, stderr) = text(&output);
    assert!(stderr.contains("one node, every role"), "{stderr}");
    assert!(stderr.contains("serving sim-fast"), "{stderr}");
    assert!(stdout.contains("verdict: PASS"), "{stdout}\n{stderr}");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!sim.served().is_empty());
}

#[test]
fn without_a_fleet_and_without_servers_it_says_how_to_start_one() {
    let busy: Vec<&str> = swarm::settings::DISCOVERY_URLS
        .iter()
        .copied()
        .filter(|url| std::net::TcpStream::connect(url.trim_start_matches("http://")).is_ok())
        .collect();
    if !busy.is_empty() {
        eprintln!("SKIPPED: something listens on {busy:?}, so discovery would find it");
        return;
    }
    let (code, stderr) = run_without_fleet(demo::SPEC);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no model server reachable")
            && stderr.contains("llama-server")
            && stderr.contains("--fleet FILE"),
        "{stderr}"
    );
    assert_hint_flags_exist("run", &stderr);
}

#[test]
fn swarm_knobs_lists_the_registry_with_values_and_sources() {
    let (code, stdout, _) = text(
        &swarm()
            .arg("knobs")
            .env("SWARM_PLAN_DRAFTS", "5")
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0);
    for knob in swarm::knobs::REGISTRY {
        assert!(stdout.contains(knob.name), "{} missing", knob.name);
    }
    let drafts = stdout
        .lines()
        .find(|l| l.starts_with("plan.drafts"))
        .unwrap();
    assert!(
        drafts.contains("5 (env)") && drafts.contains("1..=8"),
        "{drafts}"
    );
    let (code, _, stderr) = text(
        &swarm()
            .arg("knobs")
            .env("SWARM_FIX_ROUNDS", "99")
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("outside its safe range 0..=10"), "{stderr}");
}

#[test]
fn without_bubblewrap_verify_refuses_unless_unsealed_runs_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.md");
    std::fs::write(&spec, demo::SPEC).unwrap();
    let good = dir.path().join("good");
    write_app(&good, demo::FINAL[4].2);
    let verify = || {
        let mut command = swarm();
        command
            .env("SWARM_SANDBOX_NO_BWRAP", "1")
            .env_remove("SWARM_SANDBOX_ALLOW_UNSEALED")
            .arg("verify")
            .arg(&good)
            .arg("--spec")
            .arg(&spec);
        command
    };
    let (code, stdout, stderr) = text(&verify().output().unwrap());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("refusing to run generated code unsealed")
            && stderr.contains("host-files-hidden")
            && stderr.contains("sandbox.allow_unsealed=true"),
        "{stderr}"
    );
    assert!(!stdout.contains("verdict"), "nothing ran: {stdout}");
    let (code, stdout, stderr) = text(
        &verify()
            .args(["--knob", "sandbox.allow_unsealed=true"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("runs UNSEALED"), "{stderr}");
    assert!(stdout.contains("verdict: PASS"), "{stdout}");
}

#[test]
fn a_fixture_that_escapes_the_app_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    write_app(&app, demo::FINAL[4].2);
    let escaped = dir.path().join("escaped.txt");
    for (name, path) in [
        ("relative", "../../escaped.txt".to_string()),
        ("absolute", escaped.display().to_string()),
    ] {
        let spec = dir.path().join(format!("{name}.md"));
        std::fs::write(
            &spec,
            format!("# t\n\n## Acceptance\n\n```console\n$ cat x\n```\n\n```text file={path}\nboom\n```\n"),
        )
        .unwrap();
        for command in ["verify", "run"] {
            let mut invocation = swarm();
            invocation.arg(command);
            if command == "verify" {
                invocation.arg(&app).arg("--spec").arg(&spec);
            } else {
                invocation
                    .arg(&spec)
                    .arg("--out")
                    .arg(dir.path().join("out"));
            }
            let (code, _, stderr) = text(&invocation.output().unwrap());
            assert_eq!(code, 2, "{command} {name}: {stderr}");
            assert!(
                stderr.contains(&format!("the fixture `file={path}` is refused")),
                "{command} {name}: {stderr}"
            );
        }
    }
    assert!(!escaped.exists());
    assert!(!dir.path().join("out").exists(), "run started anyway");
}

/// Runs `command` with stdout on a pipe whose reader is already gone (`| head -1` once head
/// has exited): (exit status, stderr).
fn into_a_closed_pipe(mut command: Command) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = command
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let mut knobs = swarm();
    knobs.arg("knobs");
    let (status, stderr) = into_a_closed_pipe(knobs);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}");
}

/// A Rust app: smoke builds and tests it with cargo in the sandbox (the compiler's error is the
/// finding), review cannot read it yet and says so; a machine without cargo makes smoke and
/// acceptance inconclusive, never red.
#[test]
fn a_rust_app_is_built_tested_and_reviewed_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        app.join("src/main.rs"),
        "fn main() {\n    println!(\"hi\");\n}\n",
    )
    .unwrap();
    let spec = dir.path().join("hello.md");
    std::fs::write(
        &spec,
        "# hello\n\nLanguage: Rust\n\n## Acceptance\n\n```console\n$ cargo run --quiet --offline\nhi\n```\n",
    )
    .unwrap();
    let output = swarm()
        .arg("verify")
        .arg(&app)
        .arg("--spec")
        .arg(&spec)
        .output()
        .unwrap();
    let (code, stdout, stderr) = text(&output);
    assert_ne!(code, 1, "never red: {stdout}\n{stderr}");
    assert!(code == 0 || code == 3, "{stdout}\n{stderr}");
    let line = |gate: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(gate))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("review").contains("pass") && line("review").contains("1 Rust file(s) reviewed"),
        "{stdout}"
    );
    if !swarm::sandbox::seal::host_has("rustc") {
        assert!(line("smoke").contains("inconclusive"), "{stdout}");
        eprintln!("SKIPPED the rest: no rustc on this machine, so nothing can build the app");
        return;
    }
    // The sandbox admits the Rust toolchain read-only: smoke builds and tests the crate, the
    // acceptance command builds and runs it, and they decide.
    assert!(
        line("smoke").contains("pass") && line("smoke").contains("cargo test"),
        "{stdout}"
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let verify = || {
        text(
            &swarm()
                .arg("verify")
                .arg(&app)
                .arg("--spec")
                .arg(&spec)
                .output()
                .unwrap(),
        )
    };
    let main = |code: &str| std::fs::write(app.join("src/main.rs"), code).unwrap();
    main("fn main() {\n    println!(\"bye\");\n}\n");
    let (code, stdout, _) = verify();
    assert_eq!(code, 1, "a wrong answer is a real red: {stdout}");
    // A compile error is the compiler's finding, at its file and line.
    main("fn main() {\n    println!(\"{}\", totl);\n}\n");
    let (code, stdout, _) = verify();
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("finding smoke/compile_error src/main.rs:2 [Fail]"),
        "{stdout}"
    );
    // A module never declared is unwired (cargo does not compile it); a `todo!()` body is a
    // stub: the review fails while the app still builds and answers.
    main("fn main() {\n    println!(\"hi\");\n}\nfn later() -> u32 {\n    todo!()\n}\n");
    std::fs::write(
        app.join("src/report.rs"),
        "pub fn summary() -> u32 {\n    3\n}\n",
    )
    .unwrap();
    let (code, stdout, _) = verify();
    assert_eq!(code, 1, "{stdout}");
    assert!(line_of(&stdout, "smoke").contains("pass"), "{stdout}");
    assert!(
        stdout.contains("finding review/unwired_module src/report.rs:1 [Fail]")
            && stdout.contains("finding review/stub src/main.rs:5 [Fail]"),
        "{stdout}"
    );
}

fn line_of(stdout: &str, gate: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with(gate))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_typescript_app_is_compiled_type_checked_and_tested_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    let write =
        |file: &str, code: &str| swarm::fsutil::write_inside(&app, file, code.as_bytes()).unwrap();
    write(
        "src/lib.ts",
        "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
    );
    write(
        "cli.ts",
        "import { add } from \"./src/lib.js\";\nconsole.log(add(Number(process.argv[2]), Number(process.argv[3])));\n",
    );
    let good_test = "import { test } from \"node:test\";\nimport * as assert from \"node:assert/strict\";\nimport { add } from \"./src/lib.js\";\ntest(\"adds\", () => {\n  assert.equal(add(2, 3), 5);\n});\n";
    write("lib.test.ts", good_test);
    let spec = dir.path().join("add.md");
    std::fs::write(
        &spec,
        "# add\n\nLanguage: TypeScript\n\n## Acceptance\n\n```console\n$ node dist/cli.js 2 3\n5\n```\n",
    )
    .unwrap();
    let verify = |typescript: Option<&Path>| {
        let mut command = swarm();
        command.arg("verify").arg(&app).arg("--spec").arg(&spec);
        if let Some(root) = typescript {
            command.env(swarm::toolchain::TYPESCRIPT_ENV, root);
        }
        text(&command.output().unwrap())
    };
    let line = |stdout: &str, gate: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(gate))
            .unwrap_or_default()
            .to_string()
    };
    // Without the compiler: inconclusive, saying how to install it; never red.
    let nowhere = dir.path().join("no-typescript");
    let (code, stdout, stderr) = verify(Some(&nowhere));
    assert_ne!(code, 1, "never red: {stdout}\n{stderr}");
    assert!(
        line(&stdout, "smoke").contains("inconclusive")
            && line(&stdout, "smoke").contains("prepare-typescript.sh"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "acceptance").contains("inconclusive"),
        "{stdout}"
    );
    if let Err(why) = swarm::toolchain::TypeScript::locate() {
        assert!(
            std::env::var_os(swarm::testing::CI_ENV).is_none(),
            "CI installs the TypeScript compiler (.ci/prepare-typescript.sh), yet: {why}"
        );
        eprintln!("SKIPPED the rest: {why}");
        return;
    }
    if !swarm::sandbox::seal::host_has("node") {
        eprintln!("SKIPPED the rest: no node on this machine");
        return;
    }
    // With it: the app compiles, its test passes, and `node dist/cli.js` runs what smoke built.
    let (code, stdout, stderr) = verify(None);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        line(&stdout, "smoke").contains("pass")
            && line(&stdout, "smoke").contains("1 test(s) passed"),
        "{stdout}"
    );
    // A type error is the compiler's finding at its file and line.
    write(
        "src/lib.ts",
        "export function add(a: number, b: number): number {\n  const total: number = \"a\" + b;\n  return total;\n}\n",
    );
    let (code, stdout, _) = verify(None);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("finding smoke/compile_error src/lib.ts:2 [Fail]"),
        "{stdout}"
    );
    assert!(stdout.contains("TS2322"), "{stdout}");
    // A failing test is a finding naming the test.
    write(
        "src/lib.ts",
        "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
    );
    write(
        "lib.test.ts",
        &good_test.replace("add(2, 3), 5", "add(2, 2), 5"),
    );
    let (code, stdout, _) = verify(None);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("smoke/test_failure"), "{stdout}");
    assert!(stdout.contains("the app's tests fail: adds"), "{stdout}");
    // A wrong answer is a red from acceptance.
    write("lib.test.ts", good_test);
    write("cli.ts", "console.log(\"6\");\n");
    let (code, stdout, _) = verify(None);
    assert_eq!(code, 1, "{stdout}");
    assert!(line(&stdout, "acceptance").contains("fail"), "{stdout}");
    assert!(line(&stdout, "smoke").contains("pass"), "{stdout}");
    // A module only its test imports is unwired; a body that only throws is a stub.
    write(
        "cli.ts",
        "import { add } from \"./src/lib.js\";\nconsole.log(add(Number(process.argv[2]), Number(process.argv[3])));\n",
    );
    write(
        "src/report.ts",
        "export function summary(): number {\n  throw new Error(\"not implemented\");\n}\n",
    );
    write("report.test.ts", "import { test } from \"node:test\";\nimport { summary } from \"./src/report.js\";\ntest(\"exists\", () => { summary; });\n");
    let (code, stdout, _) = verify(None);
    assert_eq!(code, 1, "{stdout}");
    assert!(line(&stdout, "acceptance").contains("pass"), "{stdout}");
    assert!(
        stdout.contains("finding review/unwired_module src/report.ts:1 [Fail]")
            && stdout.contains("only tests import it")
            && stdout.contains("finding review/stub src/report.ts:1 [Fail]"),
        "{stdout}"
    );
    // An npm package that is not installed cannot be had offline: inconclusive, never red.
    std::fs::remove_file(app.join("src/report.ts")).unwrap();
    std::fs::remove_file(app.join("report.test.ts")).unwrap();
    write(
        "cli.ts",
        "import chalk from \"chalk\";\nimport { add } from \"./src/lib.js\";\nconsole.log(chalk, add(2, 3));\n",
    );
    let (code, stdout, _) = verify(None);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        line(&stdout, "acceptance").contains("inconclusive") && stdout.contains("(chalk)"),
        "{stdout}"
    );
}
