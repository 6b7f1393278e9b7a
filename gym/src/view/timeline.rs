//! A turn's events as a timeline: one lane per node slot, a bar per worker task (BUILD and
//! FIX, from `task_ended`: its slot, its end and its wall time), a lighter bar per model
//! request of the work before BUILD (scouts, plan drafts, the contract: from their agents'
//! replies) and a grey one per warm-up of a slot, the pipeline's phases as a band above, idle
//! time as the gaps. Bars without a recorded slot go on the lowest lane of their node free at
//! their start. The single agent's turn has one lane with a bar per model request. Occupancy
//! is the task bars' seconds over the lanes' seconds from the first task bar's start to the
//! last one's end (BUILD and FIX, as `swarm run` counts it).

use maud::{html, Markup};
use std::collections::BTreeMap;

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Lane index.
    pub lane: usize,
    /// Start, ms since the first event.
    pub start: u64,
    /// End, ms since the first event.
    pub end: u64,
    /// What ran.
    pub label: String,
    /// done, or how it ended.
    pub outcome: String,
    /// What the bar is.
    pub kind: BarKind,
}

/// What a bar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// A worker's task (BUILD, FIX), or the single agent's request.
    Task,
    /// A model request of the work before BUILD (scout, plan draft, contract).
    Planning,
    /// A slot's prompt cache warmed.
    WarmUp,
}

/// One phase of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseBand {
    /// scout, plan, contract, build, verify, fix…
    pub name: String,
    /// Start, ms since the first event.
    pub start: u64,
    /// End, ms since the first event.
    pub end: u64,
}

/// The whole picture.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// `node · slot k` names, in lane order.
    pub lanes: Vec<String>,
    /// Bars.
    pub bars: Vec<Bar>,
    /// Phases.
    pub phases: Vec<PhaseBand>,
    /// ms from the first event to the last.
    pub span: u64,
}

impl Timeline {
    /// Bars' time over the lanes' time between the first bar's start and the last bar's end.
    pub fn occupancy(&self) -> Option<f64> {
        let tasks = || self.bars.iter().filter(|b| b.kind == BarKind::Task);
        let start = tasks().map(|b| b.start).min()?;
        let end = tasks().map(|b| b.end).max()?;
        let offered = (end.saturating_sub(start)) as f64 * self.lanes.len() as f64;
        let busy: u64 = tasks().map(|b| b.end - b.start).sum();
        (offered > 0.0).then(|| (busy as f64 / offered).min(1.0))
    }
}

/// Builds the timeline from a turn's events (the pipeline's records, or the single agent's).
pub fn build(events: &[serde_json::Value]) -> Timeline {
    let times: Vec<u64> = events.iter().filter_map(|e| e["t"].as_u64()).collect();
    let Some(&first) = times.iter().min() else {
        return Timeline::default();
    };
    let last = times.iter().copied().max().unwrap_or(first);
    let at = |t: u64| t.saturating_sub(first);
    let mut slots_of: BTreeMap<String, usize> = BTreeMap::new();
    for event in events.iter().filter(|e| e["event"] == "node") {
        let node = event["node"].as_str().unwrap_or("?").to_string();
        let slots = event["detail"]
            .as_str()
            .and_then(|d| d.split(" slot(s)").next()?.rsplit(' ').next()?.parse().ok())
            .unwrap_or(1usize);
        slots_of.insert(node, slots.max(1));
    }
    let mut phases = Vec::new();
    let mut open: BTreeMap<String, u64> = BTreeMap::new();
    for event in events.iter().filter(|e| e["event"] == "phase") {
        let name = event["phase"].as_str().unwrap_or("?").to_string();
        let t = at(event["t"].as_u64().unwrap_or(first));
        if event["status"] == "started" {
            open.insert(name, t);
        } else if let Some(start) = open.remove(&name) {
            phases.push(PhaseBand {
                name,
                start,
                end: t,
            });
        }
    }
    for (name, start) in open {
        phases.push(PhaseBand {
            name: format!("{name} (unfinished)"),
            start,
            end: at(last),
        });
    }
    // (node, slot or none, start, end, label, outcome, kind)
    type Run = (String, Option<usize>, u64, u64, String, String, BarKind);
    let mut runs: Vec<Run> = events
        .iter()
        .filter(|e| e["event"] == "task_ended")
        .map(|e| {
            let end = at(e["t"].as_u64().unwrap_or(first));
            let wall = e["wall_ms"].as_u64().unwrap_or(0);
            (
                e["node"].as_str().unwrap_or("?").to_string(),
                e["slot"].as_u64().map(|s| s as usize),
                end.saturating_sub(wall),
                end,
                e["task"].as_str().unwrap_or("?").to_string(),
                e["outcome"].as_str().unwrap_or("?").to_string(),
                BarKind::Task,
            )
        })
        .collect();
    if !runs.is_empty() {
        // The pipeline's work before BUILD: each request of an agent whose task never
        // ended as a worker task (scouts, drafts, the contract), and every warm-up.
        let ended: std::collections::BTreeSet<String> = runs.iter().map(|r| r.4.clone()).collect();
        for e in events {
            let Some(end) = e["t"].as_u64().map(at) else {
                continue;
            };
            let node = e["node"].as_str().unwrap_or("?").to_string();
            if e["event"] == "agent" && e["agent"]["event"] == "reply" {
                let task = e["task"].as_str().unwrap_or("?");
                if !ended.contains(task) {
                    let total = e["agent"]["total_ms"].as_u64().unwrap_or(0);
                    runs.push((
                        node,
                        None,
                        end.saturating_sub(total),
                        end,
                        format!("{task}: request, {} tokens out", e["agent"]["tokens_out"]),
                        "done".to_string(),
                        BarKind::Planning,
                    ));
                }
            } else if e["event"] == "warm_up" {
                let ms = e["ms"].as_u64().unwrap_or(0);
                runs.push((
                    node,
                    e["slot"].as_u64().map(|s| s as usize),
                    end.saturating_sub(ms),
                    end,
                    format!(
                        "warm-up ({}), {} prompt tokens",
                        e["stage"].as_str().unwrap_or("?"),
                        e["prompt_tokens"]
                    ),
                    if e["error"].is_string() {
                        "failed"
                    } else {
                        "done"
                    }
                    .to_string(),
                    BarKind::WarmUp,
                ));
            }
        }
    }
    if runs.is_empty() {
        // The single agent: each model request is a bar on one lane.
        runs = events
            .iter()
            .filter(|e| e["agent"]["event"] == "reply" || e["event"] == "reply")
            .filter_map(|e| {
                let reply = if e["agent"].is_object() {
                    &e["agent"]
                } else {
                    e
                };
                let end = at(e["t"].as_u64()?);
                let total = reply["total_ms"].as_u64().unwrap_or(0);
                Some((
                    e["node"].as_str().unwrap_or("agent").to_string(),
                    Some(0),
                    end.saturating_sub(total),
                    end,
                    format!("request: {} tokens out", reply["tokens_out"]),
                    "done".to_string(),
                    BarKind::Task,
                ))
            })
            .collect();
    }
    runs.sort_by_key(|r| (r.2, r.3));
    // Lanes: every slot of every node seen, in node order.
    for run in &runs {
        let slots = slots_of.entry(run.0.clone()).or_insert(1);
        if let Some(slot) = run.1 {
            *slots = (*slots).max(slot + 1);
        }
    }
    let mut lanes = Vec::new();
    let mut first_lane: BTreeMap<String, usize> = BTreeMap::new();
    for (node, slots) in &slots_of {
        first_lane.insert(node.clone(), lanes.len());
        for slot in 0..*slots {
            lanes.push(format!("{node} · slot {slot}"));
        }
    }
    let mut busy_until = vec![0u64; lanes.len()];
    let mut bars = Vec::new();
    for (node, slot, start, end, label, outcome, kind) in runs {
        let base = first_lane.get(&node).copied().unwrap_or(0);
        let count = slots_of.get(&node).copied().unwrap_or(1);
        let lane = match slot {
            Some(slot) => base + slot,
            None => (base..base + count)
                .find(|l| busy_until[*l] <= start)
                .unwrap_or(base),
        };
        busy_until[lane] = busy_until[lane].max(end);
        bars.push(Bar {
            lane,
            start,
            end,
            label,
            outcome,
            kind,
        });
    }
    Timeline {
        lanes,
        bars,
        phases,
        span: at(last),
    }
}

/// The timeline as SVG (no script; each bar's title says what ran and how long).
pub fn svg(timeline: &Timeline) -> Markup {
    const WIDTH: f64 = 960.0;
    const LABEL: f64 = 170.0;
    const LANE: f64 = 20.0;
    const TOP: f64 = 28.0;
    let span = timeline.span.max(1) as f64;
    let x = |t: u64| LABEL + (WIDTH - LABEL - 10.0) * t as f64 / span;
    let height = TOP + LANE * timeline.lanes.len() as f64 + 24.0;
    html! {
        svg class="timeline" xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height)
            viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label="timeline" {
            @for phase in &timeline.phases {
                rect x=(x(phase.start)) y="2" width=((x(phase.end) - x(phase.start)).max(1.0))
                    height="18" class=(format!("phase phase-{}", phase.name.split(' ').next().unwrap_or(""))) {
                    title { (phase.name) ": " (seconds(phase.end - phase.start)) }
                }
                text x=(x(phase.start) + 2.0) y="15" class="phase-label" { (phase.name) }
            }
            @for (index, lane) in timeline.lanes.iter().enumerate() {
                @let y = TOP + LANE * index as f64;
                rect x=(LABEL) y=(y) width=(WIDTH - LABEL - 10.0) height=(LANE - 4.0) class="lane" {}
                text x="4" y=(y + 12.0) class="lane-label" { (lane) }
            }
            @for bar in &timeline.bars {
                @let y = TOP + LANE * bar.lane as f64;
                rect x=(x(bar.start)) y=(y) width=((x(bar.end) - x(bar.start)).max(1.5)) height=(LANE - 4.0)
                    class=(bar_class(bar)) {
                    title { (bar.label) " — " (bar.outcome) ", " (seconds(bar.end - bar.start)) }
                }
            }
            text x=(LABEL) y=(height - 6.0) class="axis" { "0 s" }
            text x=(WIDTH - 60.0) y=(height - 6.0) class="axis" { (seconds(timeline.span)) }
        }
    }
}

fn bar_class(bar: &Bar) -> &'static str {
    match (bar.kind, bar.outcome == "done") {
        (_, false) => "bar bar-bad",
        (BarKind::Task, true) => "bar",
        (BarKind::Planning, true) => "bar bar-planning",
        (BarKind::WarmUp, true) => "bar bar-warm",
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn tasks_land_on_their_slots_and_idle_time_lowers_occupancy() {
        let events = vec![
            json!({"t": 1000, "event": "node", "node": "n1", "detail": "serving m, 2 slot(s)"}),
            json!({"t": 1000, "event": "phase", "phase": "build", "status": "started"}),
            json!({"t": 3000, "event": "task_ended", "task": "a", "node": "n1", "slot": 1, "wall_ms": 2000, "outcome": "done"}),
            json!({"t": 2000, "event": "task_ended", "task": "b", "node": "n1", "wall_ms": 1000, "outcome": "failed"}),
            json!({"t": 3000, "event": "phase", "phase": "build", "status": "finished"}),
        ];
        let timeline = build(&events);
        assert_eq!(timeline.lanes, ["n1 · slot 0", "n1 · slot 1"]);
        assert_eq!(
            timeline
                .bars
                .iter()
                .map(|b| (b.label.as_str(), b.lane, b.start, b.end))
                .collect::<Vec<_>>(),
            [("b", 0, 0, 1000), ("a", 1, 0, 2000)]
        );
        assert_eq!(timeline.phases[0].name, "build");
        // 3 s of bars over 2 lanes × 2 s.
        assert_eq!(timeline.occupancy(), Some(0.75));
        let drawn = svg(&timeline).into_string();
        assert!(drawn.contains("bar bar-bad"));
        assert!(drawn.contains("n1 · slot 1"));
    }

    #[test]
    fn planning_requests_and_warm_ups_get_bars_that_do_not_count_as_occupancy() {
        let events = vec![
            json!({"t": 0, "event": "node", "node": "n1", "detail": "serving m, 2 slot(s)"}),
            json!({"t": 500, "event": "agent", "task": "scout:libraries", "node": "n1", "agent": {"event": "reply", "total_ms": 500, "tokens_out": 9}}),
            json!({"t": 400, "event": "agent", "task": "contract", "node": "n1", "agent": {"event": "reply", "total_ms": 300, "tokens_out": 5}}),
            json!({"t": 1000, "event": "warm_up", "node": "n1", "slot": 1, "stage": "build", "prompt_tokens": 900, "cached_tokens": 0, "ms": 200}),
            json!({"t": 3000, "event": "agent", "task": "a", "node": "n1", "agent": {"event": "reply", "total_ms": 100, "tokens_out": 2}}),
            json!({"t": 3000, "event": "task_ended", "task": "a", "node": "n1", "slot": 0, "wall_ms": 2000, "outcome": "done"}),
        ];
        let timeline = build(&events);
        let bars: Vec<(&str, usize, BarKind)> = timeline
            .bars
            .iter()
            .map(|b| (b.label.split(':').next().unwrap_or(""), b.lane, b.kind))
            .collect();
        // Scout and contract overlap, so they take both lanes; the worker task's own requests
        // are inside its bar, not bars of their own.
        assert_eq!(
            bars,
            [
                ("scout", 0, BarKind::Planning),
                ("contract", 1, BarKind::Planning),
                ("warm-up (build), 900 prompt tokens", 1, BarKind::WarmUp),
                ("a", 0, BarKind::Task),
            ]
        );
        // Only the task counts: 2 s over 2 lanes x 2 s.
        assert_eq!(timeline.occupancy(), Some(0.5));
        let drawn = svg(&timeline).into_string();
        assert!(drawn.contains("bar bar-planning") && drawn.contains("bar bar-warm"));
    }

    #[test]
    fn the_single_agent_gets_a_bar_per_request_and_no_events_give_an_empty_picture() {
        let events = vec![
            json!({"t": 100, "agent": {"event": "started"}}),
            json!({"t": 600, "agent": {"event": "reply", "total_ms": 400, "tokens_out": 7}}),
        ];
        let timeline = build(&events);
        assert_eq!(timeline.lanes, ["agent · slot 0"]);
        assert_eq!(timeline.bars[0].start, 100);
        assert_eq!(build(&[]), Timeline::default());
    }
}
