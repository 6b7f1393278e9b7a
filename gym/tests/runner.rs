//! The runner end to end on swarm-sim: a careful scripted model (replaying the tasks'
//! reference solutions) and a sloppy one (claims done without writing), the rows they
//! produce, and resuming after a crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gym::{load_task, run_suite, suite_task_dirs, RunConfig, RunEvent, Sut, Task};
use pretty_assertions::assert_eq;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use swarm::fleet::Fleet;
use swarm::sim::{NodeSpec, Reply, Rule, Scenario, ScriptedCall, SimFleet, When};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn node() -> NodeSpec {
    NodeSpec {
        name: "sim".into(),
        model: "sim-careful".into(),
        tokens_per_second: 50_000.0,
        prefill_tokens_per_second: 1_000_000.0,
        slots: 4,
        context_length: 32_768,
        supports_tools: true,
        port: 0,
    }
}

/// (task, turn, hidden verdict, claimed verdict, checks, swarm) of one row.
type Outline = (String, u32, String, String, Option<f64>, Option<f64>);

fn action(tool: &str, args: serde_json::Value) -> Reply {
    Reply {
        action: Some(ScriptedCall {
            tool: tool.into(),
            args,
        }),
        ..Reply::default()
    }
}

/// A judge that gives 9 for requirements, 8 for code quality with no finding to back the
/// deduction (so it is restored to 10), and 10 for bugs.
fn judge_rule() -> Rule {
    Rule {
        name: Some("judge".into()),
        node: None,
        when: When {
            schema: Some("judge_verdict".into()),
            ..When::default()
        },
        reply: Reply {
            json: Some(json!({
                "requirements": {"score": 9, "findings": []},
                "code_quality": {"score": 8, "findings": []},
                "bugs": {"score": 10, "findings": []},
            })),
            ..Reply::default()
        },
        fault: Default::default(),
        times: None,
    }
}

fn smoke_tasks() -> Vec<Task> {
    suite_task_dirs(&repo_root().join("tasks/smoke"))
        .unwrap()
        .iter()
        .map(|d| load_task(d).unwrap())
        .collect()
}

async fn start(rules: Vec<Rule>, default_reply: Option<Reply>) -> (SimFleet, Fleet) {
    let scenario = Scenario {
        nodes: vec![node()],
        rules,
        default_reply,
    };
    let sim = SimFleet::start(scenario, "127.0.0.1").await.unwrap();
    let fleet = Fleet::from_yaml(
        &format!(
            "nodes:\n  - {{name: sim, url: '{}', model: sim-careful, slots: 4}}\n",
            sim.nodes[0].url
        ),
        "test",
    )
    .unwrap();
    (sim, fleet)
}

fn config(tasks: Vec<Task>, fleet: Fleet, results: PathBuf) -> RunConfig {
    let mut knobs = swarm::knobs::Knobs::default();
    knobs
        .set(
            "build.max_actions",
            "10",
            swarm::knobs::Source::Flag,
            "test",
        )
        .unwrap();
    RunConfig {
        concurrency: 2,
        judge_samples: 1,
        knobs,
        ..RunConfig::new(tasks, Sut::Single, fleet, "test", results)
    }
}

fn quiet() -> Arc<dyn Fn(&RunEvent) + Send + Sync> {
    Arc::new(|_| {})
}

/// The single agent replaying the references of a Rust or TypeScript suite (the smoke tasks,
/// the multi-module app): every turn is
/// built, compiled, graded by its hidden checks and passes; diagnostics reads the language.
async fn careful_single_agent_on(suite: &str) {
    if suite.ends_with("-ts") {
        if let Err(why) = swarm::toolchain::TypeScript::locate() {
            assert!(
                std::env::var_os(swarm::testing::CI_ENV).is_none(),
                "CI installs the TypeScript compiler, yet: {why}"
            );
            eprintln!("SKIPPED: {why}");
            return;
        }
    }
    let tasks: Vec<Task> = suite_task_dirs(&repo_root().join("tasks").join(suite))
        .unwrap()
        .iter()
        .map(|d| load_task(d).unwrap())
        .collect();
    let turns: usize = tasks.iter().map(|t| t.turns.len()).sum();
    let mut rules = vec![judge_rule()];
    rules.extend(gym::demo::careful_rules(&tasks, None));
    let (_sim, fleet) = start(rules, None).await;
    let dir = tempfile::tempdir().unwrap();
    let summary = run_suite(
        config(tasks, fleet, dir.path().join("results.csv")),
        quiet(),
    )
    .await
    .unwrap();
    assert_eq!(summary.rows.len(), turns, "{suite}");
    for row in &summary.rows {
        assert_eq!(
            (row.hidden_verdict.as_str(), row.checks, row.diagnostics),
            ("pass", Some(10.0), Some(10.0)),
            "{suite}/{} turn {}",
            row.task,
            row.turn
        );
    }
}

#[tokio::test]
async fn a_careful_single_agent_passes_the_rust_suites() {
    careful_single_agent_on("smoke-rust").await;
    careful_single_agent_on("apps-rust").await;
}

#[tokio::test]
async fn a_careful_single_agent_passes_the_typescript_suites() {
    careful_single_agent_on("smoke-ts").await;
    careful_single_agent_on("apps-ts").await;
}

#[tokio::test]
async fn a_careful_model_passes_every_turn_of_the_smoke_suite() {
    let tasks = smoke_tasks();
    let mut rules = vec![judge_rule()];
    rules.extend(gym::demo::careful_rules(&tasks, None));
    let (_sim, fleet) = start(rules, None).await;
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.csv");
    let summary = run_suite(config(tasks, fleet, results.clone()), quiet())
        .await
        .unwrap();
    assert_eq!(summary.abandoned, Vec::<String>::new());
    let mut seen: Vec<Outline> = summary
        .rows
        .iter()
        .map(|r| {
            (
                r.task.clone(),
                r.turn,
                r.hidden_verdict.clone(),
                r.claimed_verdict.clone(),
                r.checks,
                r.swarm,
            )
        })
        .collect();
    seen.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let expected: Vec<_> = ["todo", "units", "wordfreq"]
        .iter()
        .flat_map(|task| {
            (1..=2).map(move |turn| {
                (
                    task.to_string(),
                    turn,
                    "pass".to_string(),
                    "done".to_string(),
                    Some(10.0),
                    Some(10.0),
                )
            })
        })
        .collect();
    assert_eq!(seen, expected);
    let (stored, bad) = gym::read_rows(&results).unwrap();
    assert_eq!((stored.len(), bad.len()), (6, 0));
    for row in &stored {
        // The only node judges too (no other exists); its unbacked deduction is restored.
        assert_eq!(
            (row.requirements, row.code_quality, row.bugs),
            (Some(9.0), Some(10.0), Some(10.0))
        );
        assert_eq!(row.judge_model, "sim-careful");
        assert!(dir.path().join(&row.transcript).is_file());
        assert!(dir.path().join(&row.events).is_file());
        assert!(row.diagnostics.unwrap() >= 8.0, "{row:?}");
    }
    // Rows of one replicate are stored in turn order, though turn 1 is graded while turn 2
    // builds.
    for task in ["todo", "units", "wordfreq"] {
        let turns: Vec<u32> = stored
            .iter()
            .filter(|r| r.task == task)
            .map(|r| r.turn)
            .collect();
        assert_eq!(turns, vec![1, 2], "{task}");
    }
    // Turn 1's grading ran beside turn 2's build, so less than all of the grading was exposed;
    // the last turn's grading always is.
    assert!(
        summary.grading_alone_seconds > 0.0
            && summary.grading_alone_seconds < summary.grading_seconds,
        "{}",
        summary.grading_line().unwrap_or_default()
    );
    // The fleet's occupancy over the run: the rows' model-busy time over 4 slots × the wall.
    let busy: f64 = stored
        .iter()
        .map(|r| r.occupancy.unwrap_or(0.0) * r.wall_seconds)
        .sum();
    assert_eq!(summary.slots, 4);
    assert!(
        busy > 0.0 && (summary.busy_seconds - busy).abs() < 1e-6,
        "{busy} vs {}",
        summary.busy_seconds
    );
    let occupancy = summary.occupancy().unwrap_or(0.0);
    assert!(occupancy > 0.0 && occupancy <= 1.0, "{occupancy}");
    assert!(summary
        .occupancy_line()
        .is_some_and(|l| l.contains("x 4 worker slot(s)")));
}

#[tokio::test]
async fn a_model_that_claims_done_without_writing_is_caught_as_a_false_green() {
    let tasks: Vec<Task> = smoke_tasks()
        .into_iter()
        .filter(|t| t.id == "wordfreq")
        .collect();
    let (_sim, fleet) = start(
        Vec::new(),
        Some(action("done", json!({"summary": "all done, tested"}))),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let summary = run_suite(
        config(tasks, fleet, dir.path().join("results.csv")),
        quiet(),
    )
    .await
    .unwrap();
    // `show` says why first: the failed hidden checks with their evidence, before the scores.
    let shown = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(["show", "1", "--results"])
        .arg(dir.path().join("results.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert_eq!(shown.status.code(), Some(0), "{text}");
    let failed = text.find("did not pass").unwrap_or(usize::MAX);
    let scores = text.find("hidden fail | claimed done").unwrap_or(0);
    assert!(failed < scores, "{text}");
    assert!(text.contains("\n  FAIL "), "{text}");
    for row in &summary.rows {
        assert_eq!(
            (
                row.hidden_verdict.as_str(),
                row.claimed_verdict.as_str(),
                row.swarm
            ),
            ("fail", "done", Some(0.0)),
            "{row:?}"
        );
        assert_eq!(row.diagnostics, Some(0.0), "nothing was written");
        assert!(row.overall.unwrap() < 2.0, "{row:?}");
        // Its judge answers with an action, not a verdict: those dimensions stay missing.
        assert_eq!(
            (row.requirements, row.code_quality, row.bugs),
            (None, None, None)
        );
        assert_eq!(row.judge_model, "");
    }
}

#[tokio::test]
async fn a_dead_builder_node_is_a_clear_error_not_a_row() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fleet = Fleet::from_yaml(
        &format!("nodes:\n  - {{name: gone, url: 'http://127.0.0.1:{port}', model: m}}\n"),
        "test",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = run_suite(
        config(smoke_tasks(), fleet, dir.path().join("r.csv")),
        quiet(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no worker node of the fleet answers: gone"),
        "{err}"
    );
}

#[tokio::test]
async fn a_swarm_fleet_without_a_planner_is_refused_once_before_any_task() {
    // The node answers (it is the scripted fleet) but only builds: the swarm needs a planner.
    let (sim, _) = start(vec![judge_rule()], None).await;
    let fleet = Fleet::from_yaml(
        &format!(
            "nodes:\n  - {{name: sim, url: '{}', model: sim-careful, slots: 4, roles: [worker]}}\n",
            sim.nodes[0].url
        ),
        "test",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("r.csv");
    let events = Arc::new(std::sync::Mutex::new(0usize));
    let counted = events.clone();
    let mut config = config(smoke_tasks(), fleet, results.clone());
    config.sut = Sut::Swarm;
    let err = run_suite(
        config,
        Arc::new(move |_: &RunEvent| {
            if let Ok(mut n) = counted.lock() {
                *n += 1;
            }
        }),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the fleet has no node with the role `planner`"),
        "{err}"
    );
    // Refused before any turn started or was retried, and no row written.
    assert_eq!(*events.lock().unwrap(), 0);
    assert!(sim.served().is_empty(), "{:?}", sim.served());
    assert!(gym::read_rows(&results)
        .map(|(r, _)| r.is_empty())
        .unwrap_or(true));
}

/// A two-turn task whose second turn adds a file that needs the first one.
fn pair_task(root: &Path) -> PathBuf {
    let dir = root.join("suite/pair");
    let write = |path: &str, content: &str| {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, content).unwrap();
    };
    write("spec.md", "Write a.py that prints A.\n");
    write(
        "reference/turn1/a.py",
        "def letter():\n    return 'A'\n\n\nif __name__ == '__main__':\n    print(letter())\n",
    );
    write(
        "reference/turn2/a.py",
        "def letter():\n    return 'A'\n\n\nif __name__ == '__main__':\n    print(letter())\n",
    );
    write(
        "reference/turn2/b.py",
        "from a import letter\n\nprint(letter() + 'B')\n",
    );
    write(
        "task.yaml",
        "id: pair\narchetype: heavy-spec\npersona: tester\nturns:\n  - reference: reference/turn1\n    checks:\n      - console: |\n          $ python3 a.py\n          A\n  - request: Add b.py that prints AB using a.py.\n    reference: reference/turn2\n    checks:\n      - console: |\n          $ python3 b.py\n          AB\n",
    );
    dir
}

/// The pair task under `root/suite`, served by one careful scripted node; the fleet file.
async fn pair_fleet(root: &Path) -> (SimFleet, PathBuf) {
    let task = load_task(&pair_task(root)).unwrap();
    let (sim, fleet_config) = start(
        gym::demo::careful_rules(std::slice::from_ref(&task), None),
        None,
    )
    .await;
    drop(fleet_config);
    let fleet_file = root.join("fleet.yaml");
    std::fs::write(
        &fleet_file,
        format!(
            "nodes:\n  - {{name: sim, url: '{}', model: sim-careful}}\n",
            sim.nodes[0].url
        ),
    )
    .unwrap();
    (sim, fleet_file)
}

/// `swarm-gym run` of `root/suite` on `fleet_file` into `results`, with `extra` arguments.
async fn gym_run(
    root: &Path,
    fleet_file: &Path,
    results: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"));
    command
        .args(["run", "--suite"])
        .arg(root.join("suite"))
        .arg("--fleet")
        .arg(fleet_file)
        .arg("--results")
        .arg(results)
        .args(extra)
        .envs(env.iter().copied())
        .current_dir(root);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn resume_after_a_crash_continues_from_the_last_graded_turn() {
    let root = tempfile::tempdir().unwrap();
    let (_sim, fleet_file) = pair_fleet(root.path()).await;
    let results = root.path().join("out/results.csv");
    let run = |resume: bool| {
        let extra: &'static [&'static str] = if resume { &["--resume"] } else { &[] };
        gym_run(root.path(), &fleet_file, &results, extra, &[])
    };
    let first = run(false).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let complete = std::fs::read_to_string(&results).unwrap();
    assert_eq!(complete.lines().count(), 3, "header and two rows");
    // The machine died after turn 1's row, halfway through writing turn 2's.
    let lines: Vec<&str> = complete.lines().collect();
    std::fs::write(
        &results,
        format!("{}\n{}\n{}", lines[0], lines[1], &lines[2][..40]),
    )
    .unwrap();
    let second = run(true).await;
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        stdout.contains("1 row(s) appended, 1 turn(s) skipped"),
        "{stdout}"
    );
    let (rows, bad) = gym::read_rows(&results).unwrap();
    assert_eq!(bad.len(), 0);
    let verdicts: Vec<(u32, String)> = rows
        .iter()
        .map(|r| (r.turn, r.hidden_verdict.clone()))
        .collect();
    // Turn 2 only wrote b.py: it passes only if a.py came back from turn 1's snapshot.
    assert_eq!(
        verdicts,
        vec![(1, "pass".to_string()), (2, "pass".to_string())]
    );
    assert!(root.path().join("out/results.csv.partial").exists());
}

/// A brain that rewrites turn 2 of the pair task: once keeping the concrete terms, once not.
fn brain_rule(request: &str, times: Option<u32>) -> Rule {
    Rule {
        name: Some("brain".into()),
        node: None,
        when: When {
            schema: Some("user_turn".into()),
            ..When::default()
        },
        reply: Reply {
            json: Some(json!({ "request": request })),
            ..Reply::default()
        },
        fault: Default::default(),
        times,
    }
}

#[tokio::test]
async fn the_simulated_user_rewords_requests_but_cannot_drop_requirements() {
    let root = tempfile::tempdir().unwrap();
    let task_dir = pair_task(root.path());
    // Give the goal a concrete term the simulated user must keep.
    let yaml = std::fs::read_to_string(task_dir.join("task.yaml"))
        .unwrap()
        .replace(
            "Add b.py that prints AB using a.py.",
            "Add `b.py` that prints AB using a.py.",
        );
    std::fs::write(task_dir.join("task.yaml"), yaml).unwrap();
    let task = load_task(&task_dir).unwrap();
    let mut rules = vec![
        brain_rule(
            "Nice, a.py works! Now please write `b.py` that prints AB using a.py.",
            Some(1),
        ),
        brain_rule("Great. Now add the second script please.", None),
    ];
    // The careful model answers the reworded request too: it keys on the start of the scripted one.
    let mut careful = gym::demo::careful_rules(std::slice::from_ref(&task), None);
    for rule in careful
        .iter_mut()
        .filter(|r| r.name.as_deref().is_some_and(|n| n.contains("turn 2")))
    {
        rule.when.contains = Some("b.py".into());
    }
    rules.extend(careful);
    let (_sim, fleet) = start(rules, None).await;
    let dir = tempfile::tempdir().unwrap();
    let mut run = config(vec![task], fleet, dir.path().join("results.csv"));
    run.replicates = 2;
    run.simulate_user = true;
    run.concurrency = 1;
    let summary = run_suite(run, quiet()).await.unwrap();
    let mut second_turns: Vec<&gym::ResultRow> =
        summary.rows.iter().filter(|r| r.turn == 2).collect();
    second_turns.sort_by_key(|r| r.timestamp.clone());
    // First replicate: the brain kept `b.py`, its request was used. Second: it dropped it.
    let brains: Vec<&str> = second_turns
        .iter()
        .map(|r| r.brain_model.as_str())
        .collect();
    assert_eq!(
        brains.iter().filter(|b| **b == "sim-careful").count(),
        1,
        "{brains:?}"
    );
    assert_eq!(
        brains.iter().filter(|b| b.is_empty()).count(),
        1,
        "{brains:?}"
    );
    for row in &summary.rows {
        let request_file = dir
            .path()
            .join(&row.events)
            .parent()
            .unwrap()
            .join("request.json");
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(request_file).unwrap()).unwrap();
        if row.brain_model.is_empty() {
            assert_eq!(record["request"], record["scripted"]);
        } else {
            assert_eq!(
                record["request"],
                "Nice, a.py works! Now please write `b.py` that prints AB using a.py."
            );
        }
    }
}

#[tokio::test]
async fn resume_reruns_exactly_the_missing_turns_and_keeps_no_stale_later_turn() {
    let root = tempfile::tempdir().unwrap();
    let (_sim, fleet_file) = pair_fleet(root.path()).await;
    let results = root.path().join("out/results.csv");
    let run = |extra: &'static [&'static str]| {
        let mut args = vec!["--replicates", "2"];
        args.extend_from_slice(extra);
        let (root, fleet_file, results) = (root.path(), fleet_file.clone(), results.clone());
        async move { gym_run(root, &fleet_file, &results, &args, &[]).await }
    };
    let first = run(&[]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let complete = std::fs::read_to_string(&results).unwrap();
    let lines: Vec<&str> = complete.lines().collect();
    assert_eq!(lines.len(), 5, "header and four rows");
    // The first row (turn 1 of whichever replicate ran first: the two run in either order)
    // was cut inside its quoted knobs field, and the machine went on appending: a plain CSV
    // reader lets that open quote swallow the rows after it.
    let (before, _) = gym::read_rows(&results).unwrap();
    assert_eq!(before[0].turn, 1);
    let cut_replicate = before[0].replicate;
    let cut_at = lines[1].find("\"{").unwrap() + 8;
    std::fs::write(
        &results,
        format!(
            "{}\n{}\n{}\n{}\n{}\n",
            lines[0],
            &lines[1][..cut_at],
            lines[2],
            lines[3],
            lines[4]
        ),
    )
    .unwrap();
    let (rows, bad) = gym::read_rows(&results).unwrap();
    assert_eq!(rows.len(), 3, "no valid row is lost to the cut one");
    assert_eq!(
        bad.iter().map(|b| b.line).collect::<Vec<_>>(),
        vec![2],
        "{bad:?}"
    );

    // Without --resume the same run would add duplicates: refused.
    let again = run(&[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("already holds 3 row(s)") && stderr.contains("--resume"),
        "{stderr}"
    );

    let second = run(&["--resume"]).await;
    let stdout = String::from_utf8_lossy(&second.stdout);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    // The cut replicate lost turn 1: its turn 2 was built on it, so both are re-run; the
    // other replicate is complete and skipped.
    assert!(
        stdout.contains("2 row(s) appended, 2 turn(s) skipped"),
        "{stdout}"
    );
    assert!(stderr.contains("turn(s) [2] moved to"), "{stderr}");
    let (rows, bad) = gym::read_rows(&results).unwrap();
    assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![2]);
    let mut turns: Vec<(u32, u32, String)> = rows
        .iter()
        .map(|r| (r.replicate, r.turn, r.hidden_verdict.clone()))
        .collect();
    turns.sort();
    let pass = || "pass".to_string();
    assert_eq!(
        turns,
        vec![
            (1, 1, pass()),
            (1, 2, pass()),
            (2, 1, pass()),
            (2, 2, pass())
        ],
        "each turn once, the re-run conversation whole"
    );
    let (aside, _) = gym::read_rows(&root.path().join("out/results.csv.superseded")).unwrap();
    assert_eq!(
        aside
            .iter()
            .map(|r| (r.replicate, r.turn))
            .collect::<Vec<_>>(),
        vec![(cut_replicate, 2)]
    );
}

#[tokio::test]
async fn without_bubblewrap_a_run_is_refused_unless_accepted_and_the_rows_say_so() {
    let root = tempfile::tempdir().unwrap();
    let (_sim, fleet_file) = pair_fleet(root.path()).await;
    let results = root.path().join("out/results.csv");
    let env = [
        ("SWARM_CONFIG", "/dev/null"),
        ("SWARM_SANDBOX_NO_BWRAP", "1"),
        ("SWARM_SANDBOX_ALLOW_UNSEALED", "0"),
    ];
    let run =
        |extra: &'static [&'static str]| gym_run(root.path(), &fleet_file, &results, extra, &env);
    let refused = run(&[]).await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to run generated code unsealed")
            && stderr.contains("host-processes-hidden")
            && stderr.contains("sandbox.allow_unsealed=true"),
        "{stderr}"
    );
    assert!(!results.exists() || gym::read_rows(&results).unwrap().0.is_empty());

    let accepted = run(&["--knob", "sandbox.allow_unsealed=true"]).await;
    let stderr = String::from_utf8_lossy(&accepted.stderr);
    assert!(accepted.status.success(), "{stderr}");
    assert!(stderr.contains("runs UNSEALED"), "{stderr}");
    let (rows, _) = gym::read_rows(&results).unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let knobs: serde_json::Value = serde_json::from_str(&row.knobs).unwrap();
        assert!(
            knobs["sandbox"]
                .as_str()
                .is_some_and(|s| s.starts_with("unsealed (missing: no-network")),
            "{knobs}"
        );
    }
}
