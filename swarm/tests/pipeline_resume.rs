//! A pipeline run killed after its first merge resumes from git: killed before the merge's
//! event, with a torn log tail, or with the log lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use swarm::demo;
use swarm::pipeline::{self, read_log, Event};
use swarm::sim::SimFleet;
use swarm::verify::Verdict;

mod common;
use common::*;

/// How a run is stopped after its first build merge, for the resume tests.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// Killed between the merge commit and its `merged` event.
    BeforeTheEvent,
    /// Killed while writing that event: a torn line ending inside a UTF-8 character.
    TornTail,
    /// The log is gone entirely.
    LostLog,
}

/// Runs the demo to its end, rewinds it to the state `stop` leaves (git at the first build
/// merge, the log cut accordingly, no verdict), resumes it on a fresh fleet, and returns the
/// merged task, the verdict, and the events the resume wrote.
async fn resume_after(stop: Stop) -> (String, Verdict, Vec<Event>, std::path::PathBuf) {
    let ran = run_demo(Vec::new(), &[]).await;
    assert_eq!(
        ran.outcome.verdict,
        Verdict::Pass,
        "the unkilled run passes"
    );
    let out = ran.outcome.out.clone();
    let run_dir = ran.outcome.run_dir.clone();
    let run_id = run_dir.file_name().unwrap().to_string_lossy().into_owned();
    let merges = pipeline::git::merges_of_run(&out, &run_id).await.unwrap();
    let first = merges.iter().find(|m| m.stage == "build").unwrap().clone();
    pipeline::git::git(&out, &["reset", "-q", "--hard", &first.commit])
        .await
        .unwrap();
    let log_path = run_dir.join("events.jsonl");
    let log = std::fs::read(&log_path).unwrap();
    let lines: Vec<&[u8]> = log.split(|b| *b == b'\n').collect();
    let at = lines
        .iter()
        .position(|line| {
            let text = String::from_utf8_lossy(line);
            text.contains("\"event\":\"merged\"") && text.contains(&first.commit)
        })
        .unwrap();
    let mut kept: Vec<u8> = lines[..at].join(&b'\n');
    kept.push(b'\n');
    match stop {
        Stop::BeforeTheEvent => std::fs::write(&log_path, &kept).unwrap(),
        Stop::TornTail => {
            kept.extend_from_slice(&lines[at][..lines[at].len() / 2]);
            kept.extend_from_slice(b"\"note\":\"\xe2\x82");
            std::fs::write(&log_path, &kept).unwrap();
        }
        Stop::LostLog => std::fs::remove_file(&log_path).unwrap(),
    }
    std::fs::remove_file(run_dir.join("verdict.json")).unwrap();
    let scenario = demo::scenario();
    let sim = SimFleet::start(scenario.clone(), "127.0.0.1")
        .await
        .unwrap();
    let before = read_log(&log_path).map(|r| r.len()).unwrap_or(0);
    let outcome = pipeline::resume(
        &out,
        Some(demo::fleet_of(&sim, &scenario)),
        Arc::new(|_| {}),
    )
    .await
    .unwrap();
    let events: Vec<Event> = read_log(&log_path)
        .unwrap()
        .into_iter()
        .skip(before)
        .map(|r| r.event)
        .collect();
    // Keep the directory alive for the caller's checks.
    let kept_dir = ran._dir.keep();
    (first.task, outcome.verdict, events, kept_dir)
}

fn assert_resumed_from_git(stop: Stop, task: &str, verdict: Verdict, events: &[Event]) {
    assert_eq!(
        verdict,
        Verdict::Pass,
        "{stop:?}: the resumed run ends as the unkilled one"
    );
    assert!(
        dispatches(events, task).is_empty(),
        "{stop:?}: {task} was merged before the stop and dispatched again"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::MergeRecovered { task: t, stage, .. } if t == task && stage == "build")),
        "{stop:?}: the log was not brought to agree with git"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::BuildPlanned { tasks, merged_before } if *merged_before == 1 && *tasks > 1)),
        "{stop:?}: progress must count the merged task: {events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_between_a_merge_and_its_event_resumes_from_git() {
    let (task, verdict, events, dir) = resume_after(Stop::BeforeTheEvent).await;
    assert_resumed_from_git(Stop::BeforeTheEvent, &task, verdict, &events);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_torn_log_tail_is_set_aside_and_the_run_resumes_from_git() {
    let (task, verdict, events, dir) = resume_after(Stop::TornTail).await;
    assert_resumed_from_git(Stop::TornTail, &task, verdict, &events);
    let torn = walk_for(&dir, "events.jsonl.torn");
    assert!(torn.is_some(), "the torn line was not moved aside");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_log_resumes_from_git() {
    let (task, verdict, events, dir) = resume_after(Stop::LostLog).await;
    assert_resumed_from_git(Stop::LostLog, &task, verdict, &events);
    std::fs::remove_dir_all(dir).unwrap();
}

fn walk_for(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if entry.file_name() == name {
            return Some(path);
        }
        if path.is_dir() {
            if let Some(found) = walk_for(&path, name) {
                return Some(found);
            }
        }
    }
    None
}
