//! `swarm-gym generate` on a scripted brain (swarm-sim): four drafts in turn — a reply that
//! is not a task, a copy of `smoke/wordfreq`, a task whose reference fails its own checks,
//! and a sound two-turn task. Only the last is kept; each rejection is counted with its
//! reason; the kept task passes `tasks check` on its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use std::path::{Path, PathBuf};
use swarm::sim::{Reply, Rule, Scenario, SimFleet, When};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn draft_rule(name: &str, content: String) -> Rule {
    Rule {
        name: Some(name.into()),
        node: None,
        when: When {
            schema: Some(gym::generate::DRAFT_SCHEMA_NAME.into()),
            ..When::default()
        },
        reply: Reply {
            content: Some(content),
            ..Reply::default()
        },
        fault: Default::default(),
        times: Some(1),
    }
}

fn greet(shout: bool) -> String {
    let mut code = String::from("import sys\n\nargs = sys.argv[1:]\n");
    if shout {
        code.push_str("loud = '--shout' in args\nargs = [a for a in args if a != '--shout']\n");
    } else {
        code.push_str("loud = False\n");
    }
    code.push_str("if len(args) != 1:\n    print('usage: greet.py [--shout] NAME', file=sys.stderr)\n    sys.exit(2)\ntext = f'Hello, {args[0]}!'\nprint(text.upper() if loud else text)\n");
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_sound_new_task_is_kept_and_every_rejection_has_its_reason() {
    let wordfreq =
        std::fs::read_to_string(repo_root().join("tasks/smoke/wordfreq/spec.md")).unwrap();
    let copy = json!({
        "id": "word-counter", "spec": wordfreq, "hidden_requirements": [],
        "turns": [{"checks": [{"file_exists": "wordfreq.py"}], "reference_files": [{"path": "wordfreq.py", "content": "print(1)\n"}]}]
    });
    let unsound = json!({
        "id": "hello", "spec": "Write hello.py that prints a greeting.", "hidden_requirements": ["The greeting is exact."],
        "turns": [{"checks": [{"console": "$ python3 hello.py\nHello\n"}], "reference_files": [{"path": "hello.py", "content": "print('Hi')\n"}]}]
    });
    let sound = json!({
        "id": "Greet", "spec": "# greet\n\nWrite `greet.py NAME`, which prints `Hello, NAME!`; without exactly one name it prints a usage line on stderr and exits 2.\n",
        "hidden_requirements": ["The usage error goes to stderr, never stdout."],
        "turns": [
            {"checks": [
                {"console": "$ python3 greet.py Ada\nHello, Ada!\n"},
                {"console": "$ python3 greet.py\n? 2\n"}
            ], "reference_files": [{"path": "greet.py", "content": greet(false)}]},
            {"request": "Add `--shout`: `python3 greet.py --shout Ada` prints `HELLO, ADA!`.",
             "checks": [
                {"console": "$ python3 greet.py --shout Ada\nHELLO, ADA!\n"},
                {"console": "$ python3 greet.py Ada\nHello, Ada!\n"}
             ], "reference_files": [{"path": "greet.py", "content": greet(true)}]}
        ]
    });
    let dir = tempfile::tempdir().unwrap();
    let (_sim, fleet) = brain_fleet(
        vec![
            draft_rule("not a task", "Here is a great idea for a task!".into()),
            draft_rule("a copy", copy.to_string()),
            draft_rule("unsound", unsound.to_string()),
            draft_rule("sound", sound.to_string()),
        ],
        dir.path(),
    )
    .await;
    let out = dir.path().join("generated");
    let existing = repo_root().join("tasks");
    let output = generate(
        &fleet,
        &out,
        &existing,
        &[
            "--archetype",
            "heavy-spec",
            "--persona",
            "A teacher who wants exact output.",
            "--n",
            "1",
            "--max-drafts",
            "5",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stderr}\n{stdout}");
    assert_eq!(output.status.code(), Some(0), "{stderr}\n{stdout}");
    assert!(stdout.starts_with("kept 1 of 4 draft(s)"), "{stdout}");
    assert!(stdout.contains("rejected 1: duplicate"), "{stdout}");
    assert!(
        stdout.contains("rejected 1: its checks are not sound"),
        "{stdout}"
    );
    assert!(stdout.contains("rejected 1: unusable reply"), "{stdout}");
    assert!(stderr.contains("like smoke/wordfreq"), "{stderr}");
    assert!(stderr.contains("fails on the reference"), "{stderr}");
    assert!(out.join("greet/task.yaml").is_file());
    assert!(out.join(".rejected/hello-3/REJECTED.txt").is_file());
    // Every rejection, an unusable reply included, leaves its folder with its reason.
    let rejected: Vec<String> = std::fs::read_dir(out.join(".rejected"))
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().join("REJECTED.txt").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert!(
        rejected.iter().any(|name| name.starts_with("unusable-")),
        "{rejected:?}"
    );

    // The kept task stands on its own: `tasks check` proves it again.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(["tasks", "check"])
        .arg(&out)
        .output()
        .unwrap();
    let checked = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{checked}");
    assert!(
        checked.contains("1 task(s) valid, 0 invalid, 0 malformed"),
        "{checked}"
    );
    // Its progress counts the tasks with the time since the start.
    let progress = String::from_utf8_lossy(&check.stderr);
    assert!(progress.contains("[1/1 0:00] checking "), "{progress}");
    let task = gym::load_task(&out.join("greet")).unwrap();
    assert_eq!(task.turns.len(), 2);
    assert_eq!(task.persona, "A teacher who wants exact output.");
}

/// A scripted brain answering with `rules`, and its fleet file under `dir`.
async fn brain_fleet(rules: Vec<Rule>, dir: &Path) -> (SimFleet, PathBuf) {
    let scenario = Scenario {
        nodes: vec![gym::demo::sim_node("brain", "sim-brain")],
        rules,
        default_reply: None,
    };
    let sim = SimFleet::start(scenario, "127.0.0.1").await.unwrap();
    let fleet = dir.join("fleet.yaml");
    std::fs::write(
        &fleet,
        format!(
            "nodes:\n  - {{name: brain, url: '{}', model: sim-brain, roles: [brain]}}\n",
            sim.nodes[0].url
        ),
    )
    .unwrap();
    (sim, fleet)
}

/// `swarm-gym generate` with `args`, on `fleet`, into `out`, avoiding the tasks under
/// `existing`.
async fn generate(
    fleet: &Path,
    out: &Path,
    existing: &Path,
    args: &[&str],
) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"));
    command
        .arg("generate")
        .args(args)
        .arg("--fleet")
        .arg(fleet)
        .arg("--out")
        .arg(out)
        .arg("--existing")
        .arg(existing)
        .env("SWARM_CONFIG", "/dev/null");
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continued_app_starts_from_a_project_that_passed_and_only_from_one() {
    let dir = tempfile::tempdir().unwrap();
    // A results file: row 1 passed and its snapshot is kept; row 2 failed.
    let results = dir.path().join("results/results.csv");
    let store = gym::ResultsStore::open(&results).unwrap();
    let passed_code = format!("# PASSED-IN-AN-EARLIER-RUN\n{}", greet(false));
    for (turn, verdict) in [(1, "pass"), (2, "fail")] {
        let turn_dir = format!("runs/r1/smoke/greet/r1/turn{turn}");
        swarm::fsutil::write_inside(
            &dir.path().join("results").join(&turn_dir),
            "project/greet.py",
            passed_code.as_bytes(),
        )
        .unwrap();
        let mut row: gym::ResultRow = serde_json::from_value(json!({
            "run_id": "r1", "experiment": "", "timestamp": "2026-12-04T00:00:00Z", "commit": "c",
            "suite": "smoke", "task": "greet", "manifest_hash": "h", "turn": turn, "replicate": 1,
            "sut": "single", "builder_model": "m", "brain_model": "", "judge_model": "", "fleet": "f",
            "knobs_hash": "k", "knobs": "{}", "checks": null, "swarm": null, "cluster": null,
            "diagnostics": null, "requirements": null, "code_quality": null, "bugs": null,
            "overall": null, "hidden_verdict": verdict, "claimed_verdict": "done", "wall_seconds": 1.0,
            "tokens_in": 1, "tokens_out": 1, "malformed_replies": 0, "tool_errors": 0,
            "context_overflows": 0, "occupancy": null, "stalls": 0, "errors": 0,
            "transcript": format!("{turn_dir}/transcript.jsonl"), "events": format!("{turn_dir}/events.jsonl")
        }))
        .unwrap();
        row.turn = turn;
        store.append(&row).unwrap();
    }
    // The brain answers only when the prompt shows the passed project.
    let draft = json!({
        "id": "shout", "spec": "# greet, louder\n\nAdd `--shout` to greet.py: `python3 greet.py --shout Ada` prints `HELLO, ADA!`; everything else stays as it is.\n",
        "hidden_requirements": ["Without --shout nothing changes."],
        "start_files": [{"path": "invented.py", "content": "print('ignored')\n"}],
        "turns": [{"checks": [
            {"console": "$ python3 greet.py --shout Ada\nHELLO, ADA!\n"},
            {"console": "$ python3 greet.py Ada\nHello, Ada!\n"}
        ], "reference_files": [{"path": "greet.py", "content": greet(true)}]}]
    });
    let mut rule = draft_rule("continue", draft.to_string());
    rule.when.contains = Some("PASSED-IN-AN-EARLIER-RUN".into());
    let (_sim, fleet) = brain_fleet(vec![rule], dir.path()).await;
    let out = dir.path().join("generated");
    let results_arg = results.to_string_lossy().into_owned();
    let base = [
        "--persona",
        "A teacher.",
        "--from-results",
        results_arg.as_str(),
    ];
    // Only continue-existing continues an app, and only a row that passed.
    let wrong_kind = generate(
        &fleet,
        &out,
        &out,
        &[&["--archetype", "heavy-spec"][..], &base].concat(),
    )
    .await;
    assert_eq!(wrong_kind.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong_kind.stderr).contains("needs --archetype continue-existing")
    );
    let failed_row = generate(
        &fleet,
        &out,
        &out,
        &[
            &["--archetype", "continue-existing", "--row", "2"][..],
            &base,
        ]
        .concat(),
    )
    .await;
    assert_eq!(failed_row.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&failed_row.stderr).contains("did not pass its hidden checks"));
    // The newest passing row: its project is the task's start, proven like any task's.
    let output = generate(
        &fleet,
        &out,
        &out,
        &[&["--archetype", "continue-existing"][..], &base].concat(),
    )
    .await;
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert_eq!(
        std::fs::read_to_string(out.join("shout/start/greet.py")).unwrap(),
        passed_code
    );
    assert!(!out.join("shout/start/invented.py").exists(), "{said}");
    let origin: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("shout/origin.json")).unwrap())
            .unwrap();
    assert_eq!(
        (origin["row"].as_u64(), origin["task"].as_str()),
        (Some(1), Some("greet"))
    );
    let task = gym::load_task(&out.join("shout")).unwrap();
    assert_eq!(task.archetype, gym::Archetype::ContinueExisting);
}
