//! swarm-gym's command line: bad input to the research commands is refused with a clear
//! error and exit 2, printing no result; help lists every command.
#![allow(clippy::unwrap_used, clippy::expect_used)]

fn gym(args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(args)
        .env("SWARM_CONFIG", "/dev/null")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn bad_input_to_the_research_commands_gets_a_clear_error_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(&plan, "fleet: f.yaml\nsuites: [smoke]\nreplicate: 2\n").unwrap();
    let not_results = dir.path().join("other.csv");
    std::fs::write(&not_results, "a,b\n1,2\n").unwrap();
    let missing = dir.path().join("missing.csv");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["nightly", "--plan", "/nonexistent/plan.yaml"],
            "cannot read the plan /nonexistent/plan.yaml",
        ),
        (
            vec!["nightly", "--plan", plan.to_str().unwrap()],
            "unknown field `replicate`",
        ),
        (
            vec![
                "nightly",
                "--plan",
                plan.to_str().unwrap(),
                "--night",
                "yesterday",
            ],
            "--night `yesterday` is not a date",
        ),
        (
            vec![
                "nightly",
                "--plan",
                plan.to_str().unwrap(),
                "--night",
                "2026-13-45",
            ],
            "--night `2026-13-45` is not a date",
        ),
        (
            vec![
                "run",
                "--suite",
                "smoke",
                "--fleet",
                "f.yaml",
                "--replicates",
                "0",
            ],
            "--replicates",
        ),
        (
            vec![
                "ab",
                "--suite",
                "smoke",
                "--fleet",
                "f.yaml",
                "--a",
                "model=x",
                "--b",
                "model=y",
                "--replicates",
                "0",
            ],
            "--replicates",
        ),
        (
            vec![
                "report",
                "--html",
                "--out",
                dir.path().to_str().unwrap(),
                not_results.to_str().unwrap(),
            ],
            "not a swarm-gym results file",
        ),
        (
            vec![
                "tune",
                "--results",
                missing.to_str().unwrap(),
                "--fleet",
                "f.yaml",
            ],
            "missing.csv",
        ),
        (
            vec![
                "generate",
                "--archetype",
                "epic",
                "--persona",
                "p",
                "--fleet",
                "f.yaml",
            ],
            "expected heavy-spec, minimal-spec or continue-existing",
        ),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = gym(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?} printed a result: {stdout}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn help_lists_the_commands() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for command in [
        "tasks", "run", "show", "study", "nightly", "report", "generate", "tune",
    ] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn a_report_into_a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.csv");
    let numeric = [
        "turn",
        "replicate",
        "wall_seconds",
        "tokens_in",
        "tokens_out",
        "malformed_replies",
        "tool_errors",
        "context_overflows",
        "stalls",
        "errors",
    ];
    let row = |arm: &str, checks: &str, verdict: &str| {
        gym::results::COLUMNS
            .iter()
            .map(|column| match *column {
                "experiment" => format!("ab1:{arm}"),
                "suite" => "s".into(),
                "task" => "t".into(),
                "checks" | "overall" => checks.into(),
                "hidden_verdict" => verdict.into(),
                "builder_model" => format!("model-{arm}"),
                "turn" | "replicate" => "1".into(),
                other if numeric.contains(&other) => "0".into(),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    std::fs::write(
        &results,
        format!(
            "{}\n{}\n{}\n",
            gym::results::COLUMNS.join(","),
            row("A", "10", "pass"),
            row("B", "5", "fail")
        ),
    )
    .unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .arg("report")
        .arg(&results)
        .env("SWARM_CONFIG", "/dev/null")
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGPIPE),
        "{:?} {stderr}",
        output.status
    );
}

#[test]
fn run_says_a_dead_fleet_before_proving_any_task() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fleet = dir.path().join("fleet.yaml");
    std::fs::write(
        &fleet,
        format!("nodes:\n  - {{name: gone, url: 'http://127.0.0.1:{port}', model: m}}\n"),
    )
    .unwrap();
    let suite = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/smoke");
    let results = dir.path().join("r.csv");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(["run", "--suite", suite.to_str().unwrap()])
        .args(["--fleet", fleet.to_str().unwrap()])
        .args(["--results", results.to_str().unwrap()])
        .env("SWARM_CONFIG", "/dev/null")
        // Proofs not cached: proving would take seconds per task before the fleet was seen.
        .env("SWARM_GYM_PROOFS", "off")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no worker node of the fleet answers: gone"),
        "{stderr}"
    );
    assert!(!stderr.contains("usable ("), "no task was proven: {stderr}");
    assert!(!results.exists());
}
