//! The bundled example for `swarm demo`: the `gradebook` spec (a command-line app of five
//! modules) and a swarm-sim scenario of three nodes of different speeds whose SCRIPTED
//! replies take the pipeline through every phase — three scouts, three plan drafts (one
//! cyclic, rejected with the cycle named), the contract, five build tasks, a verification that
//! catches a drifted call (`cli.py` passes an extra argument to `student_averages`), a
//! targeted fix, and a passing verification. The files written and the commands run are
//! real; the models are not.

use crate::fleet::{Fleet, Node};
use crate::sim::{Fault, NodeSpec, Reply, Rule, Scenario, ScriptedCall, SimFleet, When};
use serde_json::{json, Value};

/// The spec.
pub const SPEC: &str = include_str!("../demo/gradebook/spec.md");
const PLAN_WIDE: &str = include_str!("../demo/gradebook/plan-wide.json");
const PLAN_CHAIN: &str = include_str!("../demo/gradebook/plan-chain.json");
const PLAN_CYCLIC: &str = include_str!("../demo/gradebook/plan-cyclic.json");

/// The contract stubs, by file.
pub const STUBS: [(&str, &str); 5] = [
    (
        "records.py",
        include_str!("../demo/gradebook/stubs/records.py"),
    ),
    ("stats.py", include_str!("../demo/gradebook/stubs/stats.py")),
    (
        "loader.py",
        include_str!("../demo/gradebook/stubs/loader.py"),
    ),
    (
        "report.py",
        include_str!("../demo/gradebook/stubs/report.py"),
    ),
    ("cli.py", include_str!("../demo/gradebook/stubs/cli.py")),
];

/// The working modules, by task id and file.
pub const FINAL: [(&str, &str, &str); 5] = [
    (
        "records",
        "records.py",
        include_str!("../demo/gradebook/final/records.py"),
    ),
    (
        "stats",
        "stats.py",
        include_str!("../demo/gradebook/final/stats.py"),
    ),
    (
        "loader",
        "loader.py",
        include_str!("../demo/gradebook/final/loader.py"),
    ),
    (
        "report",
        "report.py",
        include_str!("../demo/gradebook/final/report.py"),
    ),
    (
        "cli",
        "cli.py",
        include_str!("../demo/gradebook/final/cli.py"),
    ),
];

fn action(tool: &str, args: Value) -> Reply {
    Reply {
        action: Some(ScriptedCall {
            tool: tool.into(),
            args,
        }),
        ..Reply::default()
    }
}

/// `cli.py` as the demo's worker first writes it: it passes an extra argument to
/// `student_averages`, whose frozen signature takes one (interface drift).
pub fn drifted_cli() -> String {
    FINAL[4].2.replace(
        "averages = student_averages(scores)\n",
        "averages = student_averages(scores, \"points\")\n",
    )
}

/// A rule answering requests that contain `marker` at conversation turn `turn`.
pub fn rule(name: &str, marker: &str, turn: Option<u32>, reply: Reply) -> Rule {
    Rule {
        name: Some(name.into()),
        node: None,
        when: When {
            contains: Some(marker.into()),
            turn,
            ..When::default()
        },
        reply,
        fault: Fault::default(),
        times: None,
    }
}

/// A rule that writes `content` to `path`.
pub fn write(name: &str, marker: &str, turn: u32, path: &str, content: &str) -> Rule {
    rule(
        name,
        marker,
        Some(turn),
        action("write_file", json!({"path": path, "content": content})),
    )
}

/// A rule that calls `done`.
pub fn done(name: &str, marker: &str, turn: u32, summary: &str) -> Rule {
    rule(
        name,
        marker,
        Some(turn),
        action("done", json!({"summary": summary})),
    )
}

fn plan_rule(name: &str, plan: &str, times: Option<u32>) -> Rule {
    let value: Value = serde_json::from_str(plan).unwrap_or(Value::Null);
    Rule {
        name: Some(name.into()),
        node: None,
        when: When {
            schema: Some(crate::plan::PLAN_SCHEMA_NAME.into()),
            ..When::default()
        },
        reply: Reply {
            json: Some(value),
            ..Reply::default()
        },
        fault: Fault::default(),
        times,
    }
}

/// The scripted rules of the whole run, in match order.
pub fn rules() -> Vec<Rule> {
    let mut rules = vec![
        rule(
            "scout libraries: check python",
            "SCOUT LENS: libraries",
            Some(1),
            action("run", json!({"command": "python3 --version"})),
        ),
        done("scout libraries: notes", "SCOUT LENS: libraries", 2, "Python 3 is installed; csv parsing needs only str.split; use the standard library."),
        done("scout edge cases: notes", "SCOUT LENS: edge_cases", 1, "blank lines skipped; header skipped; non-numeric points -> exit 2 with the line number; missing file -> exit 1; points outside 0..100 rejected."),
        done("scout module split: notes", "SCOUT LENS: module_split", 1, "records (Score, parse_line), loader (load_scores), stats (average, letter), report (averages, lines), cli (main)."),
        plan_rule("plan draft: cyclic", PLAN_CYCLIC, Some(1)),
        plan_rule("plan draft: a chain", PLAN_CHAIN, Some(1)),
        plan_rule("plan draft: wide and flat", PLAN_WIDE, None),
    ];
    for (index, (path, content)) in STUBS.iter().enumerate() {
        rules.push(write(
            &format!("contract: {path}"),
            "CONTRACT TASK",
            index as u32 + 1,
            path,
            content,
        ));
    }
    rules.push(done(
        "contract: done",
        "CONTRACT TASK",
        STUBS.len() as u32 + 1,
        "stubs for all five modules",
    ));
    for (task, path, content) in FINAL {
        let marker = format!("TASK ID: {task}");
        let written = if task == "cli" {
            drifted_cli()
        } else {
            content.to_string()
        };
        rules.push(write(
            &format!("build {task}: write {path}"),
            &marker,
            1,
            path,
            &written,
        ));
        rules.push(done(
            &format!("build {task}: done"),
            &marker,
            2,
            &format!("{path} implemented"),
        ));
    }
    let fix = "FIX TASK: cli";
    rules.push(write(
        "fix cli: rewrite the call",
        fix,
        1,
        "cli.py",
        FINAL[4].2,
    ));
    rules.push(rule(
        "fix cli: run the failing command",
        fix,
        Some(2),
        action(
            "run",
            json!({"command": "python3 cli.py best scores.csv || true"}),
        ),
    ));
    rules.push(done(
        "fix cli: done",
        fix,
        3,
        "student_averages takes one argument; the call now matches its contract",
    ));
    rules
}

/// Three nodes of different speeds: `fast` (two slots, native tool calls), `medium` and
/// `slow` (one slot each, JSON actions).
pub fn nodes() -> Vec<NodeSpec> {
    let node = |name: &str, tps: f64, slots: u32, tools: bool| NodeSpec {
        name: name.into(),
        model: format!("sim-{name}"),
        tokens_per_second: tps,
        prefill_tokens_per_second: 200_000.0,
        slots,
        context_length: 32_768,
        supports_tools: tools,
        port: 0,
    };
    vec![
        node("fast", 3000.0, 2, true),
        node("medium", 1200.0, 1, false),
        node("slow", 500.0, 1, false),
    ]
}

/// The demo scenario.
pub fn scenario() -> Scenario {
    Scenario {
        nodes: nodes(),
        rules: rules(),
        default_reply: Some(action(
            "done",
            json!({"summary": "nothing scripted for this request"}),
        )),
    }
}

/// The first port of the shipped scenario (`examples/sim/gradebook.yaml`); its nodes take
/// this one and the next two.
pub const SHIPPED_PORT: u16 = 8091;

/// The scenario shipped for trying `swarm run` without a model server: the demo's, each node
/// on a fixed port from [`SHIPPED_PORT`], so `--url http://127.0.0.1:8091` (one node) or
/// `--fleet examples/sim/fleet.yaml` (all three) reach it.
pub fn shipped_scenario() -> Scenario {
    let mut scenario = scenario();
    for (port, node) in (SHIPPED_PORT..).zip(scenario.nodes.iter_mut()) {
        node.port = port;
    }
    scenario
}

/// [`shipped_scenario`] as the YAML file it is shipped as.
pub fn shipped_scenario_yaml() -> String {
    format!(
        "# The swarm demo's scripted fleet (SIMULATED: scripted replies, real files and commands).\n\
         # Serve it:   swarm-sim serve examples/sim/gradebook.yaml\n\
         # Build:      swarm run swarm/demo/gradebook/spec.md --url http://127.0.0.1:{SHIPPED_PORT}\n\
         # Written from swarm::demo::shipped_scenario() (SWARM_BLESS=1 on the test that checks it).\n{}",
        serde_yaml_ng::to_string(&shipped_scenario()).unwrap_or_default()
    )
}

/// The fleet file for a running simulated fleet: every node has every role.
pub fn fleet_of(sim: &SimFleet, scenario: &Scenario) -> Fleet {
    Fleet {
        nodes: scenario
            .nodes
            .iter()
            .filter_map(|spec| {
                Some(Node {
                    name: spec.name.clone(),
                    url: sim.url(&spec.name)?.to_string(),
                    model: spec.model.clone(),
                    slots: spec.slots,
                    roles: Vec::new(),
                    api_key_env: None,
                    action_mode: crate::agent::ActionMode::Auto,
                    sampling: Default::default(),
                })
            })
            .collect(),
    }
}
