//! The whole pipeline on swarm-sim fleets (scripted replies; real git, real Python, the real
//! sandbox): the bundled demo, and the ways weak models and flaky fleets go wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use std::sync::Arc;
use swarm::demo;
use swarm::pipeline::{self, read_log, Event, RunOptions};
use swarm::sim::{Fault, Reply, SimFleet};
use swarm::spec::parse_spec;
use swarm::verify::Verdict;

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_goes_through_every_phase_and_its_drift_is_caught_and_fixed() {
    let ran = run_demo(Vec::new(), &[]).await;
    let events = &ran.events;
    assert_eq!(ran.outcome.verdict, Verdict::Pass, "{}", ran.outcome.reason);
    // Three scouts on three different nodes.
    let scouts: Vec<(String, bool)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Scout { node, ok, .. } => Some((node.clone(), *ok)),
            _ => None,
        })
        .collect();
    assert_eq!(scouts.len(), 3);
    let nodes: std::collections::BTreeSet<&String> = scouts.iter().map(|s| &s.0).collect();
    assert_eq!(nodes.len(), 3, "{scouts:?}");
    // Three drafts: the cyclic one rejected with its cycle named, the widest chosen.
    let rejected: Vec<&Vec<String>> = events
        .iter()
        .filter_map(|e| match e {
            Event::PlanDraft {
                valid: false,
                problems,
                ..
            } => Some(problems),
            _ => None,
        })
        .collect();
    assert_eq!(
        rejected,
        vec![&vec![
            "the dependencies form a cycle: cli → loader → records → cli".to_string()
        ]]
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::PlanChosen {
            width: 2,
            depth: 3,
            tasks: 5,
            ..
        }
    )));
    assert!(events.iter().any(
        |e| matches!(e, Event::Contract { status, signatures: 9, .. } if status == "committed")
    ));
    assert_eq!(merged(events, "build").len(), 5);
    // The drifted call was found by two gates, both pointing at cli.py, owned by task cli.
    let round0: Vec<(String, String, Option<String>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Finding {
                round: 0,
                finding,
                owner,
            } => Some((
                finding.kind.name().to_string(),
                finding.file.clone(),
                owner.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        round0,
        vec![
            ("call_arity".into(), "cli.py".into(), Some("cli".into())),
            ("entry_crash".into(), "cli.py".into(), Some("cli".into())),
        ]
    );
    assert_eq!(merged(events, "fix-1"), vec!["cli"]);
    assert_eq!(ran.outcome.stats.fix_rounds, 1);
    // Every frozen signature is still there, with its body implemented.
    let contracts: pipeline::Contracts = serde_json::from_str(
        &std::fs::read_to_string(ran.outcome.run_dir.join("contracts.json")).unwrap(),
    )
    .unwrap();
    for signature in &contracts.signatures {
        let source = std::fs::read_to_string(ran.outcome.out.join(&signature.file)).unwrap();
        let now = swarm::pyast::signatures_of(&signature.file, &source).unwrap();
        let found = now.iter().find(|s| s.name == signature.name).unwrap();
        assert_eq!(found.text, signature.text);
        assert!(!found.stub, "{} is still a stub", signature.name);
    }
    for file in ["plan.json", "scouts.json", "verdict.json", "run.json"] {
        assert!(ran.outcome.run_dir.join(file).is_file(), "{file}");
    }
    app_passes(&ran);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_signature_change_is_sent_back_and_fixed() {
    let drifted = "def average(values: list, digits: int) -> float:\n    return round(sum(values) / len(values), digits) if values else 0.0\n\n\ndef letter(avg: float) -> str:\n    return 'A' if avg >= 90 else 'B' if avg >= 80 else 'C' if avg >= 70 else 'D' if avg >= 60 else 'F'\n";
    let ran = run_demo(
        vec![scripted(
            "stats drifts",
            "TASK ID: stats",
            Some(1),
            "write_file",
            json!({"path": "stats.py", "content": drifted}),
            Some(1),
        )],
        &[],
    )
    .await;
    let sent: Vec<&Vec<String>> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            Event::SentBack { task, reasons } if task == "stats" => Some(reasons),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1);
    assert!(sent[0][0].contains("the frozen signature `def average(values: list) -> float` was changed to `def average(values: list, digits: int) -> float`"), "{sent:?}");
    assert_eq!(dispatches(&ran.events, "stats").len(), 2);
    assert_eq!(ran.outcome.verdict, Verdict::Pass, "{}", ran.outcome.reason);
    assert!(std::fs::read_to_string(ran.outcome.out.join("stats.py"))
        .unwrap()
        .contains("def average(values: list) -> float:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fake_done_is_sent_back_by_the_check_and_refused_by_the_judge() {
    let fake = || {
        vec![scripted(
            "loader claims done",
            "TASK ID: loader",
            Some(1),
            "done",
            json!({"summary": "all done and tested"}),
            Some(1),
        )]
    };
    // Judge gate off: the build check catches it after the worker ends.
    let ran = run_demo(fake(), &["judge.reject_empty_done=false"]).await;
    assert!(ran.events.iter().any(|e| matches!(e, Event::SentBack { task, reasons } if task == "loader" && reasons[0].starts_with("none of your files changed"))));
    assert_eq!(ran.outcome.verdict, Verdict::Pass, "{}", ran.outcome.reason);
    // Judge gate on: the done is refused inside the run and the worker goes on to write.
    let ran = run_demo(fake(), &[]).await;
    assert!(ran.events.iter().any(|e| matches!(e, Event::Judge { task, rule, decision, .. } if task == "loader" && rule == "empty_done" && decision == "refused_done")));
    assert_eq!(ran.outcome.verdict, Verdict::Pass, "{}", ran.outcome.reason);
    let judged = ran
        .events
        .iter()
        .filter(|e| matches!(e, Event::Judge { .. }))
        .count();
    assert_eq!(ran.outcome.stats.judge_interventions, judged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_looping_worker_is_stopped_and_its_task_dispatched_again() {
    let ran = run_demo(
        vec![scripted(
            "records loops",
            "TASK ID: records",
            None,
            "list_files",
            json!({"path": "."}),
            Some(3),
        )],
        &[],
    )
    .await;
    assert!(ran.events.iter().any(|e| matches!(e, Event::Judge { task, rule, decision, .. } if task == "records" && rule == "repeat" && decision == "stopped")));
    let sent = dispatches(&ran.events, "records");
    assert_eq!(
        sent.iter().map(|d| d.1).collect::<Vec<_>>(),
        vec![1, 2],
        "{sent:?}"
    );
    // The task failed, not its node: the retry goes wherever the scheduler expects it to
    // finish first, preferring the slot that holds its prompt (only a node that failed is
    // avoided: see a_node_that_dies_mid_task_loses_it_and_nothing_is_lost).
    assert_eq!(ran.outcome.verdict, Verdict::Pass, "{}", ran.outcome.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_valid_plan_ends_in_a_clear_failure_after_one_repair_round() {
    let mut scenario = demo::scenario();
    scenario
        .rules
        .retain(|r| r.when.schema.is_none() || r.name.as_deref() == Some("plan draft: cyclic"));
    for rule in scenario.rules.iter_mut() {
        rule.times = None;
    }
    let sim = SimFleet::start(scenario.clone(), "127.0.0.1")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        spec: parse_spec(demo::SPEC, "spec.md", false).unwrap(),
        fleet: demo::fleet_of(&sim, &scenario),
        knobs: knobs(&["scout.enabled=false"]),
        out: dir.path().join("app"),
        derive_acceptance: false,
    };
    let outcome = pipeline::run(options, Arc::new(|_| {})).await.unwrap();
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.reason.starts_with("no valid plan after 2 round(s)"),
        "{}",
        outcome.reason
    );
    assert!(
        outcome
            .reason
            .contains("cycle: cli → loader → records → cli"),
        "{}",
        outcome.reason
    );
    assert_eq!(outcome.stats.drafts, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_dies_mid_task_loses_it_and_nothing_is_lost() {
    // The connection is cut mid-reply on the first try and on both of the client's retries:
    // to the pipeline the node is dead.
    let mut dying = scripted(
        "report's node dies",
        "TASK ID: report",
        Some(1),
        "write_file",
        json!({"path": "report.py", "content": demo::FINAL[3].2}),
        Some(3),
    );
    dying.fault = Fault {
        drop_after_tokens: Some(3),
        ..Fault::default()
    };
    let ran = run_demo(vec![dying], &[]).await;
    let rerouted: Vec<&String> = ran
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Rerouted { task, from, .. } if task == "report" => Some(from),
            _ => None,
        })
        .collect();
    assert_eq!(rerouted.len(), 1);
    assert!(ran
        .events
        .iter()
        .any(|e| matches!(e, Event::NodeDown { node, .. } if node == rerouted[0])));
    let sent = dispatches(&ran.events, "report");
    assert_eq!(sent.len(), 2);
    assert_ne!(&sent[1].0, rerouted[0], "the task went to another node");
    assert_eq!(merged(&ran.events, "build").len(), 5, "every task merged");
    assert_eq!(ran.outcome.verdict, Verdict::Pass, "{}", ran.outcome.reason);
    assert_eq!(ran.outcome.stats.rerouted, 1);
    app_passes(&ran);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_silent_node_loses_its_task_but_a_slow_streaming_one_is_never_cut() {
    // Planning on `fast`; two workers: `medium` and a `slow` one streaming 30 tokens/s.
    let mut scenario = demo::scenario();
    scenario.nodes[2].tokens_per_second = 30.0;
    let mut stalling = scripted(
        "records' node goes silent",
        "TASK ID: records",
        Some(1),
        "write_file",
        json!({"path": "records.py", "content": demo::FINAL[0].2}),
        Some(1),
    );
    stalling.fault = Fault {
        stall_after_tokens: Some(2),
        ..Fault::default()
    };
    let mut rules = vec![stalling];
    rules.extend(scenario.rules);
    scenario.rules = rules;
    let sim = SimFleet::start(scenario.clone(), "127.0.0.1")
        .await
        .unwrap();
    let mut fleet = demo::fleet_of(&sim, &scenario);
    fleet.nodes[0].roles = vec![swarm::fleet::Role::Planner, swarm::fleet::Role::Scout];
    fleet.nodes[1].roles = vec![swarm::fleet::Role::Worker];
    fleet.nodes[2].roles = vec![swarm::fleet::Role::Worker];
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        spec: parse_spec(demo::SPEC, "spec.md", false).unwrap(),
        fleet,
        knobs: knobs(&[
            "node.stall_timeout_s=2",
            "scout.enabled=false",
            "node.cooldown_s=1",
        ]),
        out: dir.path().join("app"),
        derive_acceptance: false,
    };
    let outcome = pipeline::run(options, Arc::new(|_| {})).await.unwrap();
    let events: Vec<Event> = read_log(&outcome.run_dir.join("events.jsonl"))
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    let ended: Vec<(String, String, u64, Option<String>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::TaskEnded {
                task,
                node,
                wall_ms,
                error_kind,
                ..
            } => Some((
                task.clone(),
                node.clone(),
                *wall_ms,
                error_kind.map(|k| k.name().to_string()),
            )),
            _ => None,
        })
        .collect();
    let stalled: Vec<&(String, String, u64, Option<String>)> = ended
        .iter()
        .filter(|e| e.3.as_deref() == Some("stalled"))
        .collect();
    assert_eq!(stalled.len(), 1, "{ended:?}");
    assert_eq!(stalled[0].0, "records");
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Rerouted { task, .. } if task == "records")));
    // Work on `slow` streamed for longer than the 2 s stall limit and was never cut.
    let slow_runs: Vec<&(String, String, u64, Option<String>)> =
        ended.iter().filter(|e| e.1 == "slow").collect();
    assert!(slow_runs.iter().any(|e| e.2 > 2000), "{ended:?}");
    assert!(slow_runs.iter().all(|e| e.3.is_none()), "{ended:?}");
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(outcome.stats.stalls, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_existing_repository_on_another_branch_keeps_its_files_and_branch() {
    let scenario = demo::scenario();
    let sim = SimFleet::start(scenario.clone(), "127.0.0.1")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app");
    std::fs::create_dir_all(&out).unwrap();
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(&out)
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{:?}", output);
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    git(&["init", "-q", "-b", "master"]);
    std::fs::write(out.join("NOTES.md"), "the user's own file\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "mine"]);
    std::fs::write(out.join("draft.txt"), "uncommitted work\n").unwrap();
    let options = RunOptions {
        spec: parse_spec(demo::SPEC, "spec.md", false).unwrap(),
        fleet: demo::fleet_of(&sim, &scenario),
        knobs: knobs(&["scout.enabled=false"]),
        out: out.clone(),
        derive_acceptance: false,
    };
    let outcome = pipeline::run(options, Arc::new(|_| {})).await.unwrap();
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.reason);
    assert_eq!(git(&["rev-parse", "--abbrev-ref", "HEAD"]), "master");
    let log = git(&["log", "--format=%s"]);
    assert!(
        log.contains("merge build cli")
            && log.contains("swarm: project as found")
            && log.ends_with("mine"),
        "{log}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("draft.txt")).unwrap(),
        "uncommitted work\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("NOTES.md")).unwrap(),
        "the user's own file\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unusable_acceptance_derivation_is_tried_twice_fails_clearly_and_its_tokens_count() {
    let mut scenario = demo::scenario();
    let mut garbage = demo::rule(
        "acceptance: cut short",
        "has no acceptance commands",
        None,
        Reply {
            content: Some("{\"commands\": [{\"command\": \"python3 app.py".into()),
            ..Reply::default()
        },
    );
    garbage.times = None;
    scenario.rules.insert(0, garbage);
    let sim = SimFleet::start(scenario.clone(), "127.0.0.1")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let without = demo::SPEC
        .split("## Acceptance")
        .next()
        .unwrap()
        .to_string();
    let options = RunOptions {
        spec: parse_spec(&without, "spec.md", true).unwrap(),
        fleet: demo::fleet_of(&sim, &scenario),
        knobs: knobs(&["scout.enabled=false"]),
        out: dir.path().join("app"),
        derive_acceptance: true,
    };
    let outcome = pipeline::run(options, Arc::new(|_| {})).await.unwrap();
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome
            .reason
            .starts_with("no acceptance commands could be derived: "),
        "{}",
        outcome.reason
    );
    // Both tries cost tokens, and they are counted (the gym's rows report them).
    assert!(
        outcome.stats.tokens_in > 0 && outcome.stats.tokens_out > 0,
        "{:?}",
        outcome.stats
    );
    assert_eq!(
        outcome.stats.tasks_total, 0,
        "nothing was built without a way to prove it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_worker_slots_are_warmed_and_workers_then_find_their_prefix_cached() {
    let warm = run_demo(Vec::new(), &[]).await;
    let cold = run_demo(Vec::new(), &["sched.prewarm=false"]).await;
    assert_eq!(
        warm.outcome.verdict,
        Verdict::Pass,
        "{}",
        warm.outcome.reason
    );
    let warm_ups: Vec<(&str, u64, bool)> = warm
        .events
        .iter()
        .filter_map(|e| match e {
            Event::WarmUp {
                stage,
                prompt_tokens,
                error,
                ..
            } => Some((stage.as_str(), *prompt_tokens, error.is_none())),
            _ => None,
        })
        .collect();
    eprintln!("warm-ups: {warm_ups:?}");
    // During CONTRACT every worker slot but the contract's own is warmed with the spec;
    // at the start of BUILD the slots the first dispatch left free get the contracts too.
    assert!(warm_ups.iter().any(|w| w.0 == "contract"), "{warm_ups:?}");
    assert!(warm_ups.iter().any(|w| w.0 == "build"), "{warm_ups:?}");
    assert!(warm_ups.iter().all(|w| w.1 > 0 && w.2), "{warm_ups:?}");
    assert!(!cold
        .events
        .iter()
        .any(|e| matches!(e, Event::WarmUp { .. })));
    let (w, c) = (&warm.outcome.schedule, &cold.outcome.schedule);
    eprintln!("warm: {}\ncold: {}", w.line(), c.line());
    assert!(
        w.worker_cached_tokens > c.worker_cached_tokens,
        "warm {} vs cold {}",
        w.line(),
        c.line()
    );
    // Scripted replies are never spent on a warm-up: the same app, the same verdict.
    assert_eq!(
        cold.outcome.verdict,
        Verdict::Pass,
        "{}",
        cold.outcome.reason
    );
    // The same tasks merged (in whatever order the two runs' timing gave).
    let sorted = |ran: &common::Ran| {
        let mut tasks = merged(&ran.events, "build");
        tasks.sort();
        tasks
    };
    assert_eq!(sorted(&warm), sorted(&cold));
}

/// The demo with `loader.py` first written with a drifted call (an extra argument to
/// `parse_line`) and `report` slow to finish: while report still runs and cli waits on it,
/// slots sit idle, and an early look at the app merged so far catches the drift.
fn drifted_loader_rules() -> Vec<swarm::sim::Rule> {
    let good = demo::FINAL[2].2;
    let drifted = good.replace(
        "parse_line(line, number)",
        "parse_line(line, number, \"csv\")",
    );
    assert_ne!(good, drifted);
    let mut slow_report = demo::done(
        "report: slow done",
        "TASK ID: report",
        2,
        "report.py implemented",
    );
    slow_report.fault = Fault {
        first_byte_delay_ms: Some(4_000),
        keepalive_ms: Some(250),
        ..Fault::default()
    };
    vec![
        demo::write(
            "loader: drifted",
            "TASK ID: loader",
            1,
            "loader.py",
            &drifted,
        ),
        slow_report,
        demo::write("fix loader", "FIX TASK: loader", 1, "loader.py", good),
        demo::done(
            "fix loader: done",
            "FIX TASK: loader",
            2,
            "parse_line takes two arguments",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_slot_fixes_a_merged_task_s_drift_while_build_still_runs() {
    let early = run_demo(drifted_loader_rules(), &[]).await;
    assert_eq!(
        early.outcome.verdict,
        Verdict::Pass,
        "{}",
        early.outcome.reason
    );
    let events = &early.events;
    for event in events {
        if let Event::PreReview { .. } = event {
            eprintln!("{event:?}");
        }
    }
    assert_eq!(merged(events, "early-build"), vec!["loader"]);
    let at = |wanted: &dyn Fn(&Event) -> bool| events.iter().position(wanted).unwrap();
    let looked = at(&|e| matches!(e, Event::PreReview { fixes, .. } if fixes == &["loader"]));
    let fixed = at(
        &|e| matches!(e, Event::Merged { task, stage, .. } if task == "loader" && stage == "early-build"),
    );
    let report_merged = at(
        &|e| matches!(e, Event::Merged { task, stage, .. } if task == "report" && stage == "build"),
    );
    let verify_started = at(&|e| {
        matches!(
            e,
            Event::Phase {
                phase: pipeline::Phase::Verify,
                status: pipeline::PhaseStatus::Started,
                ..
            }
        )
    });
    // Caught and fixed while report was still being built, long before VERIFY.
    assert!(looked < fixed && fixed < report_merged && report_merged < verify_started);
    // VERIFY then finds only cli's drift (the demo's own), not loader's.
    let owners: Vec<Option<String>> = events
        .iter()
        .filter_map(|e| match e {
            Event::Finding {
                round: 0, owner, ..
            } => Some(owner.clone()),
            _ => None,
        })
        .collect();
    assert!(
        !owners.is_empty() && owners.iter().all(|o| o.as_deref() == Some("cli")),
        "{owners:?}"
    );
    assert_eq!(merged(events, "fix-1"), vec!["cli"]);
    let stats = &early.outcome.stats;
    assert_eq!((stats.early_fixes, stats.early_fixes_merged), (1, 1));
    assert!(stats.early_reviews >= 1);
    app_passes(&early);

    // Without early looks the same drift waits for VERIFY and costs a fix task there.
    let late = run_demo(drifted_loader_rules(), &["sched.prereview=false"]).await;
    assert_eq!(
        late.outcome.verdict,
        Verdict::Pass,
        "{}",
        late.outcome.reason
    );
    assert!(!late
        .events
        .iter()
        .any(|e| matches!(e, Event::PreReview { .. })));
    assert!(merged(&late.events, "early-build").is_empty());
    let mut fixed_late = merged(&late.events, "fix-1");
    fixed_late.sort();
    assert_eq!(fixed_late, vec!["cli", "loader"]);
    assert_eq!(late.outcome.stats.early_reviews, 0);
}
