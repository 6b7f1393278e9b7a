//! What the pipeline tests share: the bundled demo run on a swarm-sim fleet, with extra
//! scripted rules and knobs, and readers of its events.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use swarm::demo;
use swarm::knobs::{Knobs, Source};
use swarm::pipeline::{self, read_log, Event, Record, RunOptions, RunOutcome};
use swarm::sim::{Reply, Rule, ScriptedCall, SimFleet};
use swarm::spec::parse_spec;

pub struct Ran {
    pub outcome: RunOutcome,
    pub events: Vec<Event>,
    pub _dir: tempfile::TempDir,
}

pub fn knobs(values: &[&str]) -> Knobs {
    let mut knobs = Knobs::default();
    for value in values {
        let (name, text) = value.split_once('=').unwrap();
        knobs.set(name, text, Source::Flag, "test").unwrap();
    }
    knobs
}

pub async fn run_demo(first_rules: Vec<Rule>, knob_values: &[&str]) -> Ran {
    let mut scenario = demo::scenario();
    let mut rules = first_rules;
    rules.extend(scenario.rules);
    scenario.rules = rules;
    let sim = SimFleet::start(scenario.clone(), "127.0.0.1")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        spec: parse_spec(demo::SPEC, "spec.md", false).unwrap(),
        fleet: demo::fleet_of(&sim, &scenario),
        knobs: knobs(knob_values),
        out: dir.path().join("app"),
        derive_acceptance: false,
    };
    let outcome = pipeline::run(options, Arc::new(|_| {})).await.unwrap();
    let events = read_log(&outcome.run_dir.join("events.jsonl"))
        .unwrap()
        .into_iter()
        .map(|r: Record| r.event)
        .collect();
    Ran {
        outcome,
        events,
        _dir: dir,
    }
}

pub fn scripted(
    name: &str,
    marker: &str,
    turn: Option<u32>,
    tool: &str,
    args: serde_json::Value,
    times: Option<u32>,
) -> Rule {
    let mut rule = demo::rule(
        name,
        marker,
        turn,
        Reply {
            action: Some(ScriptedCall {
                tool: tool.into(),
                args,
            }),
            ..Reply::default()
        },
    );
    rule.times = times;
    rule
}

pub fn merged(events: &[Event], stage: &str) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Merged { task, stage: s, .. } if s == stage => Some(task.clone()),
            _ => None,
        })
        .collect()
}

pub fn dispatches(events: &[Event], task: &str) -> Vec<(String, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Dispatch {
                task: t,
                node,
                attempt,
                ..
            } if t == task => Some((node.clone(), *attempt)),
            _ => None,
        })
        .collect()
}

pub fn app_passes(ran: &Ran) {
    // Not the pipeline's word for it: run the app here.
    let out = &ran.outcome.out;
    let dir = tempfile::tempdir().unwrap();
    swarm::fsutil::copy_tree(out, dir.path()).unwrap();
    std::fs::write(
        dir.path().join("scores.csv"),
        "student,subject,points\nann,x,90\nbo,x,59\n",
    )
    .unwrap();
    let output = std::process::Command::new("python3")
        .args(["cli.py", "report", "scores.csv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "ann 90.0 A\nbo 59.0 F\n"
    );
}
