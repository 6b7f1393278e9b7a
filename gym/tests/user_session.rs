//! The simulated user on swarm-sim, scripted: every persona of the pool plays a session, and
//! one session walks every move (feature, fix, tests, refactor, change of direction, stop).
//! What the brain is shown, the checks it writes and what becomes of them (proven,
//! unproven, discarded), and how they grade, are asserted from the rows and `user.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gym::session::personas::pool;
use gym::{load_task, run_suite, RunConfig, RunEvent, Sut, Task};
use pretty_assertions::assert_eq;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use swarm::fleet::Fleet;
use swarm::sim::{Reply, Rule, Scenario, ScriptedCall, SimFleet, When};

/// A two-turn task (a.py prints A; b.py prints AB) whose persona is `persona`.
fn pair_task(root: &Path, persona: &str) -> Task {
    let dir = root.join(format!("suite/pair-{persona}"));
    let write = |path: &str, content: &str| {
        swarm::fsutil::write_inside(&dir, path, content.as_bytes()).unwrap();
    };
    write("spec.md", "Write a.py that prints A.\n");
    let a = "def letter():\n    return 'A'\n\n\nif __name__ == '__main__':\n    print(letter())\n";
    write("reference/turn1/a.py", a);
    write("reference/turn2/a.py", a);
    write(
        "reference/turn2/b.py",
        "from a import letter\n\nprint(letter() + 'B')\n",
    );
    write(
        "task.yaml",
        &format!("id: pair-{persona}\narchetype: heavy-spec\npersona: {persona}\nturns:\n  - reference: reference/turn1\n    checks:\n      - console: |\n          $ python3 a.py\n          A\n  - request: Add b.py that prints AB using a.py.\n    reference: reference/turn2\n    checks:\n      - console: |\n          $ python3 b.py\n          AB\n"),
    );
    load_task(&dir).unwrap()
}

fn rule(name: &str, when: When, reply: Reply) -> Rule {
    Rule {
        name: Some(name.into()),
        node: None,
        when,
        reply,
        fault: Default::default(),
        times: None,
    }
}

fn brain(name: &str, contains: Option<&str>, answer: serde_json::Value) -> Rule {
    rule(
        name,
        When {
            schema: Some("user_move".into()),
            contains: contains.map(String::from),
            ..When::default()
        },
        Reply {
            json: Some(answer),
            ..Reply::default()
        },
    )
}

/// The brain rewording the task's second turn.
fn reword() -> Rule {
    rule(
        "reword",
        When {
            schema: Some("user_turn".into()),
            ..When::default()
        },
        Reply {
            json: Some(json!({"request": "Add b.py that prints AB using a.py."})),
            ..Reply::default()
        },
    )
}

/// swarm-sim serving `nodes` with `rules`.
async fn start_sim(nodes: Vec<swarm::sim::NodeSpec>, rules: Vec<Rule>) -> SimFleet {
    let scenario = Scenario {
        nodes,
        rules,
        default_reply: None,
    };
    SimFleet::start(scenario, "127.0.0.1").await.unwrap()
}

/// Runs `tasks` with the simulated user on `fleet` (no mutants, one judge sample), `lanes`
/// at once and up to `max_turns` turns; returns the summary and every event.
async fn session_run(
    tasks: Vec<Task>,
    fleet: Fleet,
    results: &Path,
    lanes: usize,
    max_turns: usize,
) -> (gym::RunSummary, Vec<RunEvent>) {
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = events.clone();
    let config = RunConfig {
        concurrency: lanes,
        judge_samples: 1,
        simulate_user: true,
        max_turns,
        test_depth: graders::TestDepthOptions {
            mutants: 0,
            ..Default::default()
        },
        ..RunConfig::new(tasks, Sut::Single, fleet, "test", results)
    };
    let summary = run_suite(
        config,
        Arc::new(move |event: &RunEvent| log.lock().unwrap().push(event.clone())),
    )
    .await
    .unwrap();
    let events = events.lock().unwrap().clone();
    (summary, events)
}

/// The builder answering an open request that starts with `key`: writes `files`, then done.
fn builder(key: &str, files: &[(&str, &str)]) -> Vec<Rule> {
    let action = |tool: &str, args: serde_json::Value| Reply {
        action: Some(ScriptedCall {
            tool: tool.into(),
            args,
        }),
        ..Reply::default()
    };
    let mut rules: Vec<Rule> = files
        .iter()
        .enumerate()
        .map(|(index, (path, content))| {
            rule(
                &format!("{key} writes {path}"),
                When {
                    contains: Some(key.into()),
                    turn: Some(index as u32 + 1),
                    ..When::default()
                },
                action("write_file", json!({"path": path, "content": content})),
            )
        })
        .collect();
    rules.push(rule(
        &format!("{key} done"),
        When {
            contains: Some(key.into()),
            turn: Some(files.len() as u32 + 1),
            ..When::default()
        },
        action("done", json!({"summary": "done"})),
    ));
    rules
}

fn move_reply(
    chosen: &str,
    request: &str,
    checks: &[&str],
    reference: &[(&str, &str)],
) -> serde_json::Value {
    let reference: Vec<serde_json::Value> = reference
        .iter()
        .map(|(path, content)| json!({"path": path, "content": content}))
        .collect();
    json!({"move": chosen, "reason": format!("the {chosen} I want"), "request": request, "checks": checks, "reference": reference})
}

/// The demanding product manager walks every move, one a turn; every other persona stops as
/// soon as the task's own turns are done.
fn scenario(tasks: &[Task]) -> Vec<Rule> {
    let pm = "A product manager with a launch date";
    let mut rules = vec![
        reword(),
        brain(
            "stop after the change",
            Some("Turn 7 (change_direction)"),
            move_reply("stop", "", &[], &[]),
        ),
        brain(
            "change direction",
            Some("Turn 6 (refactor)"),
            move_reply(
                "change_direction",
                "CHANGE: c.py should print Z now.",
                &["$ python3 c.py\nZ\n"],
                &[("c.py", "print('Z')\n")],
            ),
        ),
        brain(
            "refactor",
            Some("Turn 5 (tests)"),
            move_reply(
                "refactor",
                "REFACTOR: put c.py's letter in a function letter_c().",
                &["$ grep -c 'def letter_c' c.py\n1\n", "$ python3 c.py\nC\n"],
                &[(
                    "c.py",
                    "def letter_c():\n    return 'C'\n\n\nprint(letter_c())\n",
                )],
            ),
        ),
        brain(
            "tests",
            Some("Turn 4 (fix)"),
            move_reply(
                "tests",
                "TESTS: add check_c.py that prints ok when c.py prints C.",
                &["$ python3 check_c.py\nok\n"],
                &[],
            ),
        ),
        brain(
            "fix",
            Some("Turn 3 (feature)"),
            move_reply(
                "fix",
                "FIX: a.py must keep printing A.",
                &["$ python3 a.py\nA\n", "$ cat /etc/hostname\n[..]\n"],
                &[],
            ),
        ),
        brain(
            "feature",
            Some(pm),
            move_reply(
                "feature",
                "FEATURE: add c.py that prints C.",
                &["$ python3 c.py\nC\n", "no command here"],
                &[("c.py", "print('C')\n")],
            ),
        ),
        brain("others stop", None, move_reply("stop", "", &[], &[])),
    ];
    rules.extend(builder("FEATURE: add c.py", &[("c.py", "print('C')\n")]));
    rules.extend(builder("FIX: a.py must", &[]));
    rules.extend(builder(
        "TESTS: add check_c.py",
        &[(
            "check_c.py",
            "import subprocess\nout = subprocess.run(['python3', 'c.py'], capture_output=True, text=True).stdout\nprint('ok' if out.strip() == 'C' else 'no')\n",
        )],
    ));
    rules.extend(builder(
        "REFACTOR: put c.py",
        &[(
            "c.py",
            "def letter_c():\n    return 'C'\n\n\nprint(letter_c())\n",
        )],
    ));
    rules.extend(builder("CHANGE: c.py should", &[("c.py", "print('Z')\n")]));
    rules.extend(gym::demo::careful_rules(tasks, None));
    rules
}

/// (turn, move, hidden verdict, checks proven, unproven, discarded) of a row.
type Outline<'a> = (u32, &'a str, &'a str, Option<u32>, Option<u32>, Option<u32>);

#[tokio::test]
async fn every_persona_plays_a_session_and_every_move_is_built_graded_and_recorded() {
    let root = tempfile::tempdir().unwrap();
    let personas = pool();
    let tasks: Vec<Task> = personas
        .iter()
        .map(|p| pair_task(root.path(), &p.id))
        .collect();
    let sim = start_sim(
        vec![gym::demo::sim_node("sim", "sim-careful")],
        scenario(&tasks),
    )
    .await;
    let fleet = Fleet::from_yaml(
        &format!(
            "nodes:\n  - {{name: sim, url: '{}', model: sim-careful, slots: 4}}\n",
            sim.nodes[0].url
        ),
        "test",
    )
    .unwrap();
    let results = root.path().join("out/results.csv");
    let (summary, events) = session_run(tasks, fleet, &results, 2, 8).await;
    assert!(summary.abandoned.is_empty(), "{:?}", summary.abandoned);
    let (rows, bad) = gym::read_rows(&results).unwrap();
    assert!(bad.is_empty());
    // Every persona played its own session, and every row says so.
    let played: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.persona.as_str()).collect();
    let ids: std::collections::BTreeSet<&str> = personas.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(played, ids);
    assert!(rows.iter().all(|r| r.session == "simulated"));
    let pm: Vec<&gym::ResultRow> = {
        let mut pm: Vec<_> = rows
            .iter()
            .filter(|r| r.persona == "demanding-pm")
            .collect();
        pm.sort_by_key(|r| r.turn);
        pm
    };
    let outline: Vec<Outline<'_>> = pm
        .iter()
        .map(|r| {
            (
                r.turn,
                r.user_move.as_str(),
                r.hidden_verdict.as_str(),
                r.checks_proven,
                r.checks_unproven,
                r.checks_discarded,
            )
        })
        .collect();
    assert_eq!(
        outline,
        vec![
            (1, "", "pass", Some(1), Some(0), Some(0)),
            (2, "", "pass", Some(1), Some(0), Some(0)),
            // Proven on its reference, built: a pass. The block with no command is discarded.
            (3, "feature", "pass", Some(1), Some(0), Some(1)),
            // One check already passes before the turn, one reads outside the app: nothing
            // is left to decide the turn.
            (4, "fix", "inconclusive", Some(0), Some(0), Some(2)),
            // No reference, so unproven: it passes, and still never makes a pass alone.
            (5, "tests", "inconclusive", Some(0), Some(1), Some(0)),
            // The grep fails before and passes on the reference; `python3 c.py` already passed.
            (6, "refactor", "pass", Some(1), Some(0), Some(1)),
            (7, "change_direction", "pass", Some(1), Some(0), Some(0)),
        ]
    );
    // The other four stopped after the task's two turns.
    assert_eq!(rows.len(), 7 + 2 * (personas.len() - 1));
    assert_eq!(pm[4].checks, Some(10.0), "an unproven pass still scores");
    // What the user saw, chose and had discarded is kept beside the turn.
    let turn_dir = |turn: u32| {
        root.path()
            .join("out")
            .join(&pm[0].events)
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join(format!("turn{turn}"))
    };
    let record = |turn: u32| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(turn_dir(turn).join("user.json")).unwrap())
            .unwrap()
    };
    // Every turn's request.json names the persona and the seed that drew it.
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(turn_dir(1).join("request.json")).unwrap())
            .unwrap();
    assert_eq!(request["persona"], "demanding-pm");
    assert!(request["session_seed"].is_u64(), "{request}");
    let fix = record(4);
    assert_eq!(fix["persona"]["id"], "demanding-pm");
    let reasons: Vec<&str> = fix["vetted"]["discarded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("already passes before the turn"))
            && reasons.iter().any(|r| r.contains("outside the app")),
        "{reasons:?}"
    );
    let tried = fix["saw"]["tried"].to_string();
    assert!(
        tried.contains("python3 c.py") && tried.contains("(exit 0)"),
        "{tried}"
    );
    assert!(fix["saw"]["noticed"]
        .as_str()
        .unwrap()
        .contains("did what you asked"));
    assert_eq!(record(8)["proposal"]["move"], "stop");
    // The brain is shown the spec, its persona and what `saw` holds: never a hidden check.
    for turn in 3..=8 {
        let saw = record(turn)["saw"].to_string();
        assert!(
            !saw.contains("python3 b.py"),
            "turn {turn}: a hidden check leaked: {saw}"
        );
    }
    drop(sim);
    // The tally: moves, and what became of the checks.
    let user = &summary.user;
    assert_eq!(user.moves.get("stop"), Some(&5));
    for chosen in ["feature", "fix", "tests", "refactor", "change_direction"] {
        assert_eq!(
            user.moves.get(chosen),
            Some(&1),
            "{chosen}: {:?}",
            user.moves
        );
    }
    assert_eq!((user.proven, user.unproven, user.discarded), (3, 1, 4));
    let line = user.line().unwrap();
    eprintln!("{line}");
    assert!(
        line.contains("4 discarded (2 already passes; 1 malformed; 1 outside the app)"),
        "{line}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, RunEvent::UserMove { chosen, .. } if chosen == "change_direction")));
}

/// The user's next move waits for what the hidden checks showed, not for the judges: with a
/// judge three seconds slow, the move after turn 2 is chosen before turn 2's row is stored,
/// and the rows still come in turn order.
#[tokio::test]
async fn the_user_moves_on_what_the_checks_showed_while_the_judge_still_works() {
    let root = tempfile::tempdir().unwrap();
    let tasks = vec![pair_task(root.path(), "pragmatic")];
    let verdict = json!({
        "requirements": {"score": 7, "findings": []},
        "code_quality": {"score": 7, "findings": []},
        "bugs": {"score": 7, "findings": []},
    });
    let mut slow_judge = rule(
        "a slow judge",
        When {
            schema: Some(graders::judge::JUDGE_SCHEMA_NAME.into()),
            ..When::default()
        },
        Reply {
            json: Some(verdict),
            ..Reply::default()
        },
    );
    slow_judge.fault.first_byte_delay_ms = Some(3_000);
    slow_judge.fault.keepalive_ms = Some(250);
    let mut rules = vec![
        slow_judge,
        reword(),
        brain("stop", None, move_reply("stop", "", &[], &[])),
    ];
    rules.extend(gym::demo::careful_rules(&tasks, None));
    let nodes = vec![
        gym::demo::sim_node("sim", "sim-careful"),
        gym::demo::sim_node("judge", "sim-judge"),
    ];
    let sim = start_sim(nodes, rules).await;
    let fleet = Fleet::from_yaml(
        &format!(
            "nodes:\n  - {{name: sim, url: '{}', model: sim-careful, slots: 4, roles: [worker, brain]}}\n  - {{name: judge, url: '{}', model: sim-judge, slots: 4, roles: [judge]}}\n",
            sim.nodes[0].url, sim.nodes[1].url
        ),
        "test",
    )
    .unwrap();
    let results = root.path().join("out/results.csv");
    let (_, events) = session_run(tasks, fleet, &results, 1, 4).await;
    let at = |wanted: &dyn Fn(&RunEvent) -> bool| events.iter().position(wanted).unwrap();
    let graded = |n: u32| at(&|e| matches!(e, RunEvent::TurnGraded { turn, .. } if *turn == n));
    let moved = at(&|e| matches!(e, RunEvent::UserMove { turn: 3, .. }));
    assert!(
        moved < graded(2),
        "the move after turn 2 waited for its judge"
    );
    assert!(graded(1) < graded(2));
    let (rows, bad) = gym::read_rows(&results).unwrap();
    assert!(bad.is_empty());
    let turns: Vec<u32> = rows.iter().map(|r| r.turn).collect();
    assert_eq!(turns, vec![1, 2], "rows in turn order");
    // The judge did score the turn it was slow on.
    assert!(rows.iter().all(|r| r.requirements.is_some()), "{rows:?}");
    // And the user saw how turn 2 went: its checks passed.
    let user: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root.path()
                .join("out")
                .join(&rows[1].events)
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join("turn3/user.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        user["saw"]["noticed"],
        "When you tried it, it did what you asked."
    );
}
