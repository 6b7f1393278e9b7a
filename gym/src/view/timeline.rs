//! A turn's events as a timeline: one lane per node slot, a bar per worker task (BUILD and
//! FIX, from `task_ended`: its slot, its end and its wall time), the pipeline's phases as a
//! band above, idle time as the gaps. Events from before slots were recorded place a task on
//! the lowest lane of its node free at its start. The single agent's turn has one lane with a
//! bar per model request. Occupancy is the bars' seconds over the lanes' seconds from the first
//! bar's start to the last bar's end.

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
        let start = self.bars.iter().map(|b| b.start).min()?;
        let end = self.bars.iter().map(|b| b.end).max()?;
        let offered = (end.saturating_sub(start)) as f64 * self.lanes.len() as f64;
        let busy: u64 = self.bars.iter().map(|b| b.end - b.start).sum();
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
    // (node, slot or none, start, end, label, outcome)
    let mut runs: Vec<(String, Option<usize>, u64, u64, String, String)> = events
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
            )
        })
        .collect();
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
    for (node, slot, start, end, label, outcome) in runs {
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
                    class=(if bar.outcome == "done" { "bar" } else { "bar bar-bad" }) {
                    title { (bar.label) " — " (bar.outcome) ", " (seconds(bar.end - bar.start)) }
                }
            }
            text x=(LABEL) y=(height - 6.0) class="axis" { "0 s" }
            text x=(WIDTH - 60.0) y=(height - 6.0) class="axis" { (seconds(timeline.span)) }
        }
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
