//! How well a run used its fleet, read back from its events: BUILD's occupancy and its
//! makespan against the bound of the plan's DAG with the durations observed, the whole
//! invocation's occupancy, and the share of prompt tokens the servers served from cache.

use super::{Event, Phase, PhaseStatus, Record};
use crate::agent::AgentEvent;
use crate::fleet::sched::{Dag, LowerBound, TaskSpec};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A run's scheduling figures (each None when the run had nothing to measure it on).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleFigures {
    /// Worker slot-seconds held during BUILD ÷ (BUILD's wall × worker slots).
    pub build_occupancy: Option<f64>,
    /// BUILD's wall, seconds.
    pub build_makespan_s: Option<f64>,
    /// The lower bound of the plan's DAG with each task's observed seconds: the larger of
    /// its critical path and all of it spread over the worker slots.
    pub build_bound_s: Option<f64>,
    /// Worker slot-seconds held over the invocation ÷ (its wall × worker slots).
    pub run_occupancy: Option<f64>,
    /// Prompt tokens of every model reply in the run.
    pub prompt_tokens: u64,
    /// Of those, served from the server's prompt cache (as the servers said).
    pub cached_tokens: u64,
    /// Prompt tokens of BUILD and FIX workers (not scouts, planners or the contract).
    #[serde(default)]
    pub worker_prompt_tokens: u64,
    /// Of those, served from cache.
    #[serde(default)]
    pub worker_cached_tokens: u64,
    /// Warm-up requests that filled an idle slot's cache with the workers' prefix.
    #[serde(default)]
    pub warm_ups: u64,
    /// Their prompt tokens.
    #[serde(default)]
    pub warm_up_prompt_tokens: u64,
    /// Of those, already cached.
    #[serde(default)]
    pub warm_up_cached_tokens: u64,
    /// CPU seconds the swarm's own process used over the invocation (every thread; the
    /// commands it ran are not in it). Embedded in the gym, other runs in the same process
    /// count too.
    #[serde(default)]
    pub process_cpu_s: Option<f64>,
    /// The invocation's wall, seconds.
    #[serde(default)]
    pub wall_s: Option<f64>,
}

impl ScheduleFigures {
    /// BUILD's makespan ÷ its bound.
    pub fn makespan_over_bound(&self) -> Option<f64> {
        match (self.build_makespan_s, self.build_bound_s) {
            (Some(m), Some(b)) if b > 0.0 => Some(m / b),
            _ => None,
        }
    }

    /// Cached ÷ prompt tokens.
    pub fn cache_hit(&self) -> Option<f64> {
        (self.prompt_tokens > 0).then(|| self.cached_tokens as f64 / self.prompt_tokens as f64)
    }

    /// Workers' cached ÷ prompt tokens.
    pub fn worker_cache_hit(&self) -> Option<f64> {
        (self.worker_prompt_tokens > 0)
            .then(|| self.worker_cached_tokens as f64 / self.worker_prompt_tokens as f64)
    }

    /// Workers' and warm-ups' cached ÷ prompt tokens: the share of every prefill done for
    /// the workers' sake that the cache spared (warm-ups move prefill to idle slots; they
    /// do not make it free).
    pub fn worker_cache_hit_with_warm_ups(&self) -> Option<f64> {
        let prompt = self.worker_prompt_tokens + self.warm_up_prompt_tokens;
        (prompt > 0).then(|| {
            (self.worker_cached_tokens + self.warm_up_cached_tokens) as f64 / prompt as f64
        })
    }

    /// The process's CPU ÷ the invocation's wall: what orchestrating the fleet costs.
    pub fn cpu_share(&self) -> Option<f64> {
        match (self.process_cpu_s, self.wall_s) {
            (Some(cpu), Some(wall)) if wall > 0.0 => Some(cpu / wall),
            _ => None,
        }
    }

    /// One line for the end of `swarm run`.
    pub fn line(&self) -> String {
        let percent = |x: Option<f64>| {
            x.map(|x| format!("{:.0}%", x * 100.0))
                .unwrap_or_else(|| "—".into())
        };
        format!(
            "fleet use: BUILD occupancy {}, BUILD makespan {} ÷ bound {} = {}, run occupancy {}, prompt tokens from cache {} ({} of {}; workers {}{}); swarm process CPU {} of wall ({})",
            percent(self.build_occupancy),
            seconds(self.build_makespan_s),
            seconds(self.build_bound_s),
            self.makespan_over_bound()
                .map(|r| format!("{r:.2}×"))
                .unwrap_or_else(|| "—".into()),
            percent(self.run_occupancy),
            percent(self.cache_hit()),
            self.cached_tokens,
            self.prompt_tokens,
            percent(self.worker_cache_hit()),
            if self.warm_ups > 0 {
                format!(
                    ", {} with {} warm-up(s) of {} tokens",
                    percent(self.worker_cache_hit_with_warm_ups()),
                    self.warm_ups,
                    self.warm_up_prompt_tokens
                )
            } else {
                String::new()
            },
            self.cpu_share()
                .map(|x| format!("{:.1}%", x * 100.0))
                .unwrap_or_else(|| "—".into()),
            seconds(self.process_cpu_s),
        )
    }
}

fn seconds(value: Option<f64>) -> String {
    match value {
        Some(s) if s < 10.0 => format!("{s:.1} s"),
        Some(s) => format!("{s:.0} s"),
        None => "—".into(),
    }
}

/// The figures of the records since `since_ms` (this invocation), for `plan`, on a fleet
/// of `worker_slots` worker slots.
pub fn measure(
    records: &[Record],
    plan: Option<&Plan>,
    worker_slots: u32,
    since_ms: u64,
) -> ScheduleFigures {
    let records: Vec<&Record> = records.iter().filter(|r| r.t >= since_ms).collect();
    let slots = f64::from(worker_slots.max(1));
    let mut figures = ScheduleFigures::default();
    // Worker runs as (task, start, end) in ms.
    let runs: Vec<(&str, u64, u64)> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::TaskEnded { task, wall_ms, .. } => {
                Some((task.as_str(), r.t.saturating_sub(*wall_ms), r.t))
            }
            _ => None,
        })
        .collect();
    for r in &records {
        if let Event::WarmUp {
            prompt_tokens,
            cached_tokens,
            error: None,
            ..
        } = &r.event
        {
            figures.warm_ups += 1;
            figures.warm_up_prompt_tokens += prompt_tokens;
            figures.warm_up_cached_tokens += cached_tokens.min(prompt_tokens);
        }
        if let Event::Agent {
            task,
            agent:
                AgentEvent::Reply {
                    tokens_in,
                    cached_tokens,
                    ..
                },
            ..
        } = &r.event
        {
            let cached = cached_tokens.unwrap_or(0).min(*tokens_in);
            figures.prompt_tokens += tokens_in;
            figures.cached_tokens += cached;
            if plan.is_some_and(|p| p.tasks.iter().any(|t| &t.id == task)) {
                figures.worker_prompt_tokens += tokens_in;
                figures.worker_cached_tokens += cached;
            }
        }
    }
    let held = |from: u64, to: u64| -> f64 {
        runs.iter()
            .map(|(_, s, e)| (*e).min(to).saturating_sub((*s).max(from)) as f64 / 1000.0)
            .sum()
    };
    if let (Some(first), Some(last)) = (records.first(), records.last()) {
        let wall = last.t.saturating_sub(first.t) as f64 / 1000.0;
        if wall > 0.0 && !runs.is_empty() {
            figures.run_occupancy = Some((held(first.t, last.t) / (wall * slots)).min(1.0));
        }
    }
    let build = |status: PhaseStatus| {
        records.iter().rev().find_map(|r| match &r.event {
            Event::Phase {
                phase: Phase::Build,
                status: s,
                ..
            } if *s == status => Some(r.t),
            _ => None,
        })
    };
    let (Some(start), Some(end)) = (build(PhaseStatus::Started), build(PhaseStatus::Finished))
    else {
        return figures;
    };
    if end <= start {
        return figures;
    }
    let wall = (end - start) as f64 / 1000.0;
    figures.build_makespan_s = Some(wall);
    figures.build_occupancy = Some((held(start, end) / (wall * slots)).min(1.0));
    if let Some(plan) = plan {
        let mut seconds: BTreeMap<&str, f64> = BTreeMap::new();
        for (task, s, e) in runs.iter().filter(|(_, s, e)| *s >= start && *e <= end) {
            *seconds.entry(task).or_default() += (e - s) as f64 / 1000.0;
        }
        figures.build_bound_s = observed_bound(plan, &seconds, slots);
    }
    figures
}

/// The bound of `plan` with each task taking its observed seconds (tasks that did not run
/// in BUILD count for nothing).
fn observed_bound(plan: &Plan, seconds: &BTreeMap<&str, f64>, slots: f64) -> Option<f64> {
    let index: BTreeMap<&str, usize> = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let took = |i: usize| {
        seconds
            .get(plan.tasks[i].id.as_str())
            .copied()
            .unwrap_or(0.0)
    };
    let total: f64 = (0..plan.tasks.len()).map(took).sum();
    if total <= 0.0 {
        return None;
    }
    let dag = Dag::new(
        plan.tasks
            .iter()
            .map(|t| TaskSpec {
                work: 1.0,
                deps: t
                    .depends_on
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect(),
                hard: false,
            })
            .collect(),
    )
    .ok()?;
    Some(
        LowerBound {
            critical_path: dag.critical_path(took),
            work_over_capacity: total / slots,
        }
        .value(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Outcome;
    use crate::plan::{Difficulty, PlanTask};

    fn at(t: u64, event: Event) -> Record {
        Record { t, event }
    }

    fn ended(task: &str, wall_ms: u64) -> Event {
        Event::TaskEnded {
            task: task.into(),
            node: "n".into(),
            slot: Some(0),
            outcome: Outcome::Done,
            summary: String::new(),
            actions: 1,
            tokens_in: 0,
            tokens_out: 0,
            wall_ms,
            error_kind: None,
        }
    }

    fn phase(status: PhaseStatus) -> Event {
        Event::Phase {
            phase: Phase::Build,
            status,
            reason: String::new(),
        }
    }

    fn reply(tokens_in: u64, cached: Option<u64>) -> Event {
        Event::Agent {
            task: "a".into(),
            node: "n".into(),
            agent: AgentEvent::Reply {
                tokens_in,
                tokens_out: 10,
                cached_tokens: cached,
                tokens_per_second: None,
                first_byte_ms: 1,
                total_ms: 2,
                tool_calls: 0,
                recovered_from_text: false,
            },
        }
    }

    #[test]
    fn a_chain_then_a_pair_is_measured_against_its_bound() {
        // Plan: a, then b and c on a. Two worker slots. BUILD from 0 to 30 s: a 10 s, then b
        // 10 s and c 20 s side by side. Bound: critical path a + c = 30 s; work 40 ÷ 2 = 20.
        let task = |id: &str, deps: &[&str]| PlanTask {
            id: id.into(),
            title: id.into(),
            files: vec![],
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            difficulty: Difficulty::Medium,
            description: String::new(),
        };
        let plan = Plan {
            entry: "python3 app.py".into(),
            stores_data: false,
            language: Default::default(),
            tasks: vec![task("a", &[]), task("b", &["a"]), task("c", &["a"])],
        };
        let records = vec![
            at(0, phase(PhaseStatus::Started)),
            at(10_000, ended("a", 10_000)),
            at(12_000, reply(1000, Some(900))),
            at(13_000, reply(1000, None)),
            at(20_000, ended("b", 10_000)),
            at(30_000, ended("c", 20_000)),
            at(30_000, phase(PhaseStatus::Finished)),
        ];
        let figures = measure(&records, Some(&plan), 2, 0);
        assert_eq!(figures.build_makespan_s, Some(30.0));
        assert_eq!(figures.build_bound_s, Some(30.0));
        assert_eq!(figures.makespan_over_bound(), Some(1.0));
        // 40 slot-seconds held of 60 offered.
        let occupancy = figures.build_occupancy.unwrap_or(0.0);
        assert!((occupancy - 40.0 / 60.0).abs() < 1e-9, "{occupancy}");
        assert_eq!((figures.prompt_tokens, figures.cached_tokens), (2000, 900));
        assert_eq!(figures.worker_cache_hit(), Some(0.45));
        assert_eq!(figures.cache_hit(), Some(0.45));
        let line = figures.line();
        assert!(line.contains("1.00×") && line.contains("45%"), "{line}");
        assert!(line.contains("CPU — of wall"), "{line}");
        assert!(!line.contains("warm-up"), "{line}");
        // A warm-up of 1000 tokens (none cached before) counts beside the workers' 2000.
        let mut warmed = records.clone();
        warmed.insert(
            1,
            at(
                1_000,
                Event::WarmUp {
                    node: "n".into(),
                    slot: 1,
                    stage: "build".into(),
                    prompt_tokens: 1000,
                    cached_tokens: 0,
                    ms: 500,
                    error: None,
                },
            ),
        );
        let warm = measure(&warmed, Some(&plan), 2, 0);
        assert_eq!((warm.warm_ups, warm.warm_up_prompt_tokens), (1, 1000));
        assert_eq!(warm.worker_cache_hit(), Some(0.45));
        assert_eq!(warm.worker_cache_hit_with_warm_ups(), Some(0.3));
        assert!(
            warm.line()
                .contains("workers 45%, 30% with 1 warm-up(s) of 1000 tokens"),
            "{}",
            warm.line()
        );
        let timed = ScheduleFigures {
            process_cpu_s: Some(1.5),
            wall_s: Some(300.0),
            ..figures.clone()
        };
        assert_eq!(timed.cpu_share(), Some(0.005));
        assert!(
            timed.line().contains("CPU 0.5% of wall (1.5 s)"),
            "{}",
            timed.line()
        );
        // Records before this invocation are left out; no BUILD, no BUILD figures.
        let none = measure(&records, Some(&plan), 2, 40_000);
        assert_eq!(none, ScheduleFigures::default());
        assert!(none.line().contains("BUILD occupancy —"));
    }
}
