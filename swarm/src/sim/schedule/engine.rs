//! The discrete-event simulation: virtual time, one event at a time. A task holds one of its
//! node's slots (a permit) from dispatch to its end; its requests go one after another, with
//! its tools' time between them. A request costs the node's overhead, the prefill of what
//! the server slot that serves it does not already hold (the longest common prefix with that
//! slot's last prompt), and the decoding of its reply; the requests on one node share its
//! throughput. With affinity a task's requests go to the server slot of its permit (what
//! `id_slot` does); without, the server gives each request its least recently used idle
//! slot. Nodes stall (no progress; noticed after the stall timeout, when the node's tasks go
//! back to the queue and it sits out until the stall ends) or die (its tasks go back at
//! once). The scheduler decides after every event, seeing only estimates.

use super::fleet::{Calibration, Fault, NodeModel};
use super::workload::Workload;
use crate::fleet::sched::{Estimator, NodeView, Scheduler};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Instant;

/// How requests reach the servers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// A task's requests stay on its slot (`id_slot` + `cache_prompt`).
    pub affinity: bool,
    /// Every slot holds the stable prefix before BUILD starts (warmed while planning).
    pub prewarm: bool,
    /// Seconds without a token before a stalled node's tasks are taken back.
    pub stall_timeout: f64,
    /// The scheduler is told each task's true size (its solo seconds on the fastest node, in
    /// units of the mean medium task) instead of its difficulty class: an oracle no real run
    /// has, to measure what the classes cost.
    pub true_sizes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            affinity: true,
            prewarm: true,
            stall_timeout: 30.0,
            true_sizes: false,
        }
    }
}

/// What decides placement.
pub enum Driver<'a> {
    /// The scheduler, deciding online from estimates.
    Online(&'a Scheduler),
    /// A fixed plan: each task's node and each node's order (HEFT's).
    Fixed {
        /// Node of each task.
        node_of: &'a [usize],
        /// Tasks of each node in the order they start.
        order: &'a [Vec<usize>],
    },
}

/// What one simulation measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Seconds until the last task ended.
    pub makespan: f64,
    /// Slot-seconds held by tasks.
    pub busy_slot_seconds: f64,
    /// Slot-seconds the fleet offered (each node's slots while it was not dead).
    pub offered_slot_seconds: f64,
    /// Prompt tokens sent.
    pub prompt_tokens: u64,
    /// Of those, served from a slot's cache.
    pub cached_tokens: u64,
    /// Requests served.
    pub requests: u64,
    /// Tasks taken back from a stalled or dead node.
    pub reroutes: u32,
    /// Scheduling decisions made.
    pub decisions: u64,
    /// Wall-clock seconds spent inside the scheduler.
    pub decide_seconds: f64,
}

impl Measured {
    /// Busy ÷ offered slot-seconds.
    pub fn occupancy(&self) -> f64 {
        if self.offered_slot_seconds > 0.0 {
            self.busy_slot_seconds / self.offered_slot_seconds
        } else {
            0.0
        }
    }

    /// Cached ÷ prompt tokens.
    pub fn cache_share(&self) -> f64 {
        if self.prompt_tokens > 0 {
            self.cached_tokens as f64 / self.prompt_tokens as f64
        } else {
            0.0
        }
    }
}

/// Why a simulation could not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stuck(pub String);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    RequestsDone { node: usize, version: u64 },
    ToolsDone { task: usize, epoch: u64 },
    FaultStarts { node: usize },
    StallNoticed { node: usize },
    StallEnds { node: usize },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Event {
    at: f64,
    seq: u64,
    kind: Kind,
}

impl Eq for Event {}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        // Earliest first in a max-heap.
        other
            .at
            .total_cmp(&self.at)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What a server slot holds in its cache.
#[derive(Debug, Clone, Copy, Default)]
struct Held {
    /// The plan whose stable prefix it holds.
    prefix: Option<u32>,
    task: Option<usize>,
    /// Tokens of that task's conversation after the prefix.
    conversation: u64,
    last_used: f64,
}

#[derive(Debug, Clone, Copy)]
struct Request {
    task: usize,
    server_slot: usize,
    /// Solo seconds left.
    left: f64,
}

struct NodeState {
    model: NodeModel,
    active: Vec<Request>,
    last: f64,
    version: u64,
    stalled: bool,
    dead_at: Option<f64>,
    down_until: f64,
    permits: Vec<Option<usize>>,
    cache: Vec<Held>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    Waiting,
    Running {
        node: usize,
        permit: usize,
        since: f64,
    },
    Done,
}

struct TaskState {
    status: Status,
    next_request: usize,
    epoch: u64,
    missing: usize,
    last_failed: Option<usize>,
}

struct Sim<'a> {
    work: &'a Workload,
    cal: Calibration,
    options: Options,
    nodes: Vec<NodeState>,
    tasks: Vec<TaskState>,
    events: BinaryHeap<Event>,
    seq: u64,
    now: f64,
    estimator: Estimator,
    measured: Measured,
    done: usize,
    cursor: Vec<usize>,
    /// Seconds each running task has spent in requests (what an agent report counts).
    model_seconds: Vec<f64>,
    /// When each task's current request went out.
    sent_at: Vec<f64>,
}

/// Runs `work` on `fleet` under `driver`; `bound` (seconds) places the faults in time.
pub fn simulate(
    work: &Workload,
    fleet: &[NodeModel],
    cal: Calibration,
    options: Options,
    driver: &Driver,
    bound: f64,
) -> Result<Measured, Stuck> {
    let mut sim = Sim {
        work,
        cal,
        options,
        nodes: fleet
            .iter()
            .map(|m| NodeState {
                model: m.clone(),
                active: Vec::new(),
                last: 0.0,
                version: 0,
                stalled: false,
                dead_at: None,
                down_until: 0.0,
                permits: vec![None; m.slots as usize],
                cache: vec![Held::default(); m.slots as usize],
            })
            .collect(),
        tasks: (0..work.dag.len())
            .map(|i| TaskState {
                status: Status::Waiting,
                next_request: 0,
                epoch: 0,
                missing: work.dag.task(i).deps.len(),
                last_failed: None,
            })
            .collect(),
        events: BinaryHeap::new(),
        seq: 0,
        now: 0.0,
        estimator: Estimator::new(fleet.len()),
        measured: Measured {
            makespan: 0.0,
            busy_slot_seconds: 0.0,
            offered_slot_seconds: 0.0,
            prompt_tokens: 0,
            cached_tokens: 0,
            requests: 0,
            reroutes: 0,
            decisions: 0,
            decide_seconds: 0.0,
        },
        done: 0,
        cursor: vec![0; fleet.len()],
        model_seconds: vec![0.0; work.dag.len()],
        sent_at: vec![0.0; work.dag.len()],
    };
    if options.prewarm {
        // While planning runs, each slot is warmed with one plan's prefix, the plans taking
        // turns over the fleet's slots.
        let plans = work.plan_of.iter().max().map_or(1, |p| p + 1);
        let mut next = 0;
        for node in &mut sim.nodes {
            for held in &mut node.cache {
                held.prefix = Some(next % plans);
                next += 1;
            }
        }
    }
    for (i, node) in fleet.iter().enumerate() {
        if let Some(fault) = node.fault {
            let at = match fault {
                Fault::Stall { at, .. } | Fault::Die { at } => at * bound,
            };
            sim.push(at, Kind::FaultStarts { node: i });
        }
    }
    if options.prewarm {
        // Warming a slot is a real request: its timings tell each node's generation speed
        // before BUILD starts.
        for (i, node) in fleet.iter().enumerate() {
            sim.estimator.observe_generation(i, node.decode_tps);
        }
    }
    sim.decide(driver);
    while sim.done < sim.tasks.len() {
        let Some(event) = sim.events.pop() else {
            return Err(Stuck(format!(
                "{} of {} tasks could not run: no node left to take them",
                sim.tasks.len() - sim.done,
                sim.tasks.len()
            )));
        };
        sim.now = event.at;
        sim.handle(event.kind);
        sim.decide(driver);
    }
    sim.measured.makespan = sim.now;
    sim.measured.offered_slot_seconds = sim
        .nodes
        .iter()
        .map(|n| n.permits.len() as f64 * n.dead_at.unwrap_or(sim.now).min(sim.now))
        .sum();
    Ok(sim.measured)
}

impl Sim<'_> {
    fn push(&mut self, at: f64, kind: Kind) {
        self.seq += 1;
        self.events.push(Event {
            at,
            seq: self.seq,
            kind,
        });
    }

    /// Brings a node's requests up to now.
    fn advance(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        let k = node.active.len();
        if k > 0 && !node.stalled {
            let progress = (self.now - node.last) / (1.0 + self.cal.share * (k as f64 - 1.0));
            for r in &mut node.active {
                r.left -= progress;
            }
        }
        node.last = self.now;
    }

    /// Plans the node's next request completion.
    fn reschedule(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        node.version += 1;
        let k = node.active.len();
        if k == 0 || node.stalled {
            return;
        }
        let soonest = node
            .active
            .iter()
            .map(|r| r.left)
            .fold(f64::INFINITY, f64::min);
        let at = self.now + soonest.max(0.0) * (1.0 + self.cal.share * (k as f64 - 1.0));
        let version = node.version;
        self.push(at, Kind::RequestsDone { node: n, version });
    }

    fn conversation_before(&self, task: usize, request: usize) -> u64 {
        let c = &self.work.truth[task];
        u64::from(c.task_prompt)
            + (0..request)
                .map(|j| u64::from(c.replies[j]) + u64::from(c.tool_outputs[j]))
                .sum::<u64>()
    }

    fn start_request(&mut self, task: usize) {
        let Status::Running {
            node: n, permit, ..
        } = self.tasks[task].status
        else {
            return;
        };
        let request = self.tasks[task].next_request;
        let conversation = self.conversation_before(task, request);
        let prefix = u64::from(self.work.prefix_tokens);
        let node = &self.nodes[n];
        let server_slot = if self.options.affinity {
            permit
        } else {
            let serving: Vec<usize> = node.active.iter().map(|r| r.server_slot).collect();
            (0..node.cache.len())
                .filter(|s| !serving.contains(s))
                .min_by(|a, b| {
                    node.cache[*a]
                        .last_used
                        .total_cmp(&node.cache[*b].last_used)
                })
                .unwrap_or(permit)
        };
        let held = node.cache[server_slot];
        let plan = self.work.plan_of.get(task).copied().unwrap_or(0);
        let cached = if held.prefix == Some(plan) {
            prefix
                + if held.task == Some(task) {
                    held.conversation.min(conversation)
                } else {
                    0
                }
        } else {
            0
        };
        let prompt = prefix + conversation;
        let reply = u64::from(self.work.truth[task].replies[request]);
        let seconds = node
            .model
            .request_seconds(&self.cal, prompt - cached, reply);
        self.measured.prompt_tokens += prompt;
        self.measured.cached_tokens += cached;
        self.measured.requests += 1;
        self.sent_at[task] = self.now;
        self.advance(n);
        let node = &mut self.nodes[n];
        node.cache[server_slot] = Held {
            prefix: Some(plan),
            task: Some(task),
            conversation,
            last_used: self.now,
        };
        node.active.push(Request {
            task,
            server_slot,
            left: seconds,
        });
        self.reschedule(n);
    }

    fn handle(&mut self, kind: Kind) {
        match kind {
            Kind::RequestsDone { node, version } => {
                if self.nodes[node].version != version {
                    return;
                }
                self.advance(node);
                let (finished, left): (Vec<Request>, Vec<Request>) =
                    self.nodes[node].active.iter().partition(|r| r.left <= 1e-9);
                self.nodes[node].active = left;
                for request in finished {
                    self.request_done(node, request);
                }
                self.reschedule(node);
            }
            Kind::ToolsDone { task, epoch } => {
                if self.tasks[task].epoch == epoch {
                    self.start_request(task);
                }
            }
            Kind::FaultStarts { node } => match self.nodes[node].model.fault {
                Some(Fault::Die { .. }) => {
                    self.advance(node);
                    self.nodes[node].dead_at = Some(self.now);
                    self.take_back(node);
                }
                Some(Fault::Stall { seconds, .. }) => {
                    self.advance(node);
                    self.nodes[node].stalled = true;
                    self.reschedule(node);
                    let ends = self.now + seconds;
                    self.push(ends, Kind::StallEnds { node });
                    if seconds > self.options.stall_timeout {
                        let noticed = self.now + self.options.stall_timeout;
                        self.push(noticed, Kind::StallNoticed { node });
                        self.nodes[node].down_until = ends;
                    }
                }
                None => {}
            },
            Kind::StallNoticed { node } => self.take_back(node),
            Kind::StallEnds { node } => {
                self.advance(node);
                self.nodes[node].stalled = false;
                self.reschedule(node);
            }
        }
    }

    fn request_done(&mut self, n: usize, request: Request) {
        let task = request.task;
        self.model_seconds[task] += self.now - self.sent_at[task];
        let index = self.tasks[task].next_request;
        let conversation = self.conversation_before(task, index);
        let reply = self.work.truth[task].replies[index];
        let decode = self.nodes[n].model.decode_tps;
        self.estimator.observe_generation(n, decode);
        let held = &mut self.nodes[n].cache[request.server_slot];
        held.conversation = conversation + u64::from(reply);
        held.last_used = self.now;
        self.tasks[task].next_request += 1;
        if self.tasks[task].next_request < self.work.truth[task].replies.len() {
            let epoch = self.tasks[task].epoch;
            let at = self.now + self.cal.tool_s;
            self.push(at, Kind::ToolsDone { task, epoch });
            return;
        }
        let Status::Running { permit, since, .. } = self.tasks[task].status else {
            return;
        };
        self.nodes[n].permits[permit] = None;
        self.measured.busy_slot_seconds += self.now - since;
        let model_seconds = std::mem::take(&mut self.model_seconds[task]);
        self.estimator.observe_task(
            n,
            self.work.dag.task(task).work,
            self.now - since,
            model_seconds,
        );
        self.tasks[task].status = Status::Done;
        self.done += 1;
        for &succ in self.work.dag.successors(task) {
            self.tasks[succ].missing -= 1;
        }
    }

    /// A node's tasks go back to the queue (they keep their finished requests: the worktree
    /// keeps what was written).
    fn take_back(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        node.active.clear();
        node.version += 1;
        let held: Vec<(usize, usize)> = node
            .permits
            .iter_mut()
            .enumerate()
            .filter_map(|(p, t)| t.take().map(|t| (p, t)))
            .collect();
        for (_, task) in held {
            if let Status::Running { since, .. } = self.tasks[task].status {
                self.measured.busy_slot_seconds += self.now - since;
            }
            let state = &mut self.tasks[task];
            state.status = Status::Waiting;
            state.epoch += 1;
            state.last_failed = Some(n);
            self.model_seconds[task] = 0.0;
            self.measured.reroutes += 1;
        }
    }

    fn ready(&self) -> Vec<usize> {
        (0..self.tasks.len())
            .filter(|t| self.tasks[*t].status == Status::Waiting && self.tasks[*t].missing == 0)
            .collect()
    }

    fn start(&mut self, task: usize, node: usize) -> bool {
        let Some(permit) = self.nodes[node].permits.iter().position(Option::is_none) else {
            return false;
        };
        self.nodes[node].permits[permit] = Some(task);
        self.tasks[task].status = Status::Running {
            node,
            permit,
            since: self.now,
        };
        self.start_request(task);
        true
    }

    fn usable(&self, n: usize) -> bool {
        let node = &self.nodes[n];
        node.dead_at.is_none() && self.now >= node.down_until
    }

    fn decide(&mut self, driver: &Driver) {
        let ready = self.ready();
        if ready.is_empty() {
            return;
        }
        match driver {
            Driver::Online(scheduler) => self.decide_online(scheduler, &ready),
            Driver::Fixed { node_of, order } => {
                let mut started = true;
                while started {
                    started = false;
                    for n in 0..self.nodes.len() {
                        let Some(&task) = order[n].get(self.cursor[n]) else {
                            continue;
                        };
                        if node_of[task] == n
                            && self.tasks[task].status == Status::Waiting
                            && self.tasks[task].missing == 0
                            && self.usable(n)
                            && self.start(task, n)
                        {
                            self.cursor[n] += 1;
                            started = true;
                        }
                    }
                }
            }
        }
    }

    fn decide_online(&mut self, scheduler: &Scheduler, ready: &[usize]) {
        let views: Vec<NodeView> = (0..self.nodes.len())
            .map(|n| {
                let node = &self.nodes[n];
                let busy = node
                    .permits
                    .iter()
                    .flatten()
                    .map(|t| match self.tasks[*t].status {
                        Status::Running { since, .. } => self.estimator.remaining(
                            n,
                            self.work.dag.task(*t).work,
                            self.now - since,
                        ),
                        _ => 0.0,
                    })
                    .collect();
                NodeView {
                    speed: self.estimator.speed(n),
                    slots: node.model.slots,
                    available_in: if node.dead_at.is_some() {
                        None
                    } else {
                        Some((node.down_until - self.now).max(0.0))
                    },
                    busy,
                    share: self.cal.share,
                }
            })
            .collect();
        let avoid = |t: usize| self.tasks[t].last_failed;
        let clock = Instant::now();
        let decided = scheduler.decide(ready, &views, &avoid);
        self.measured.decide_seconds += clock.elapsed().as_secs_f64();
        self.measured.decisions += 1;
        for d in decided.start {
            self.start(d.task, d.node);
        }
    }
}
