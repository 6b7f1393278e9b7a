//! The agent loop as a library: context budget under a small window, events, owned files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use swarm::agent::{run_agent, ActionMode, AgentConfig, AgentEvent, Outcome, Workspace};
use swarm::llm::{ClientConfig, LlmClient};
use swarm::sim::{Scenario, SimFleet};

#[tokio::test]
async fn old_tool_results_are_shortened_before_the_window_overflows() {
    // The model reads a 9 kB file four times in a 4k-token window, then finishes. Without
    // shortening the prompt would pass the window on the third read.
    let yaml = r#"
nodes: [{name: a, tokens_per_second: 20000, context_length: 4096}]
rules:
  - when: {turn: 5}
    reply: {action: {tool: done, args: {summary: read it all}}}
  - reply: {action: {tool: read_file, args: {path: big.txt}}}
"#;
    let fleet = SimFleet::start(Scenario::from_yaml(yaml, "t").unwrap(), "127.0.0.1")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.txt"), "line of text\n".repeat(700)).unwrap();
    let workspace = Workspace::new(dir.path()).unwrap();
    let client = LlmClient::new(ClientConfig::new(fleet.nodes[0].url.clone())).unwrap();
    let mut config = AgentConfig::new("sim-model", ActionMode::Json);
    config.context_length = Some(4096);
    config.max_reply_tokens = 256;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink_events = events.clone();
    let sink: swarm::agent::EventSink =
        Arc::new(move |event: &AgentEvent| sink_events.lock().unwrap().push(event.clone()));
    let report = run_agent(&client, &workspace, &config, "read big.txt", &sink).await;
    assert_eq!(report.outcome, Outcome::Done, "{report:?}");
    assert_eq!(report.context_overflows, 0);
    assert!(report.context_shortenings > 0);
    let events = events.lock().unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, AgentEvent::ContextShortened { .. })));
    assert!(matches!(
        events.last(),
        Some(AgentEvent::Finished {
            outcome: Outcome::Done,
            ..
        })
    ));
}

#[tokio::test]
async fn writes_outside_owned_files_are_refused() {
    let yaml = r#"
nodes: [{name: a, tokens_per_second: 20000}]
rules:
  - when: {turn: 1}
    reply: {action: {tool: write_file, args: {path: other.py, content: x}}}
  - when: {turn: 2}
    reply: {action: {tool: write_file, args: {path: mine.py, content: y}}}
  - reply: {action: {tool: done, args: {summary: s}}}
"#;
    let fleet = SimFleet::start(Scenario::from_yaml(yaml, "t").unwrap(), "127.0.0.1")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workspace = Workspace::new(dir.path())
        .unwrap()
        .with_owned_files(["mine.py".to_string()]);
    let client = LlmClient::new(ClientConfig::new(fleet.nodes[0].url.clone())).unwrap();
    let report = run_agent(
        &client,
        &workspace,
        &AgentConfig::new("m", ActionMode::Json),
        "t",
        &swarm::agent::no_events(),
    )
    .await;
    let log: Vec<(String, bool, bool)> = report
        .actions
        .iter()
        .map(|a| (a.tool.clone(), a.ok, a.wrote))
        .collect();
    assert_eq!(
        log,
        vec![
            ("write_file".into(), false, false),
            ("write_file".into(), true, true),
            ("done".into(), true, false)
        ]
    );
    assert!(!dir.path().join("other.py").exists());
}
