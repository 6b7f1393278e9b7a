//! The pipeline's commands of the `swarm` binary: `run`, `resume`, `verify`, `knobs`, `demo`.
//! Progress goes to stderr; stdout ends with the verdict and the paths.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

use swarm::fleet::Fleet;
use swarm::knobs::{self, Knobs, REGISTRY};
use swarm::llm::probe;
use swarm::pipeline::{self, RunOptions, RunOutcome};
use swarm::sandbox::Sandbox;
use swarm::settings::{self, DISCOVERY_URLS};
use swarm::spec::{parse_spec, render_acceptance};
use swarm::verify::{self, Verdict, VerifyOptions, VerifyReport};

pub use crate::progress::progress;

/// `swarm run`.
#[derive(Args)]
pub struct RunArgs {
    /// The spec (Markdown with an `## Acceptance` section).
    pub spec: PathBuf,
    #[command(flatten)]
    pub fleet: FleetFlags,
    /// Where the app goes (a git repository; default ./swarm-out/SPEC-NAME).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Let the planner propose acceptance commands when the spec has none.
    #[arg(long)]
    pub derive_acceptance: bool,
    /// Most rounds of targeted fixes (the knob fix.rounds).
    #[arg(long)]
    pub fix_rounds: Option<u32>,
    /// Set a knob, NAME=VALUE (repeatable; `swarm knobs` lists them).
    #[arg(long = "knob")]
    pub knobs: Vec<String>,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `swarm resume`.
#[derive(Args)]
pub struct ResumeArgs {
    /// The app directory of the killed run.
    pub dir: PathBuf,
    /// A fleet to use instead of the recorded one (--fleet FILE, or --url URL [--model ID]).
    #[command(flatten)]
    pub fleet: FleetFlags,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `swarm verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The app directory.
    pub dir: PathBuf,
    /// The spec whose acceptance commands are the golden check.
    #[arg(long)]
    pub spec: PathBuf,
    /// The app's entry command (its file is compiled, not imported).
    #[arg(long)]
    pub entry: Option<String>,
    /// Set a knob, NAME=VALUE (verify.smoke, verify.review, verify.command_timeout_s).
    #[arg(long = "knob")]
    pub knobs: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Keep a Rust app's build here between verifications (its copy in app/, cargo's build in
    /// target/; created if missing): dependencies are compiled once, the app every time.
    #[arg(long, value_name = "DIR")]
    pub rust_cache: Option<PathBuf>,
}

fn exit_for(verdict: Verdict) -> ExitCode {
    match verdict {
        Verdict::Pass => ExitCode::SUCCESS,
        Verdict::Fail => ExitCode::from(1),
        Verdict::Inconclusive => ExitCode::from(3),
    }
}

fn usage(command: &str, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("swarm {command}: {message}");
    ExitCode::from(2)
}

use settings::resolve_knobs;

/// Where `run` and `resume` find their fleet: a fleet file, or one server.
#[derive(Args)]
pub struct FleetFlags {
    /// Fleet file (default: discover servers on the usual local ports).
    #[arg(long, conflicts_with = "url")]
    pub fleet: Option<PathBuf>,
    /// One server playing every role instead of a fleet file (LM Studio, Ollama,
    /// llama-server, vLLM), e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub url: Option<String>,
    /// The model --url serves (default: the one the server has loaded).
    #[arg(long)]
    pub model: Option<String>,
}

impl FleetFlags {
    /// Whether any was given (resume keeps the recorded fleet otherwise).
    fn given(&self) -> bool {
        self.fleet.is_some() || self.url.is_some()
    }

    /// The fleet file; else the one server of --url (or SWARM_URL, or the config file's
    /// `url`); else the servers found on the usual local ports (said on stderr).
    async fn fleet(&self) -> Result<Fleet, String> {
        if let (Some(_), Some(_)) = (&self.fleet, &self.model) {
            return Err(
                "--model names the model of --url; a fleet file names each node's model".into(),
            );
        }
        if let Some(path) = &self.fleet {
            return Fleet::load(path).map_err(|e| e.to_string());
        }
        let flags = settings::FlagSettings {
            url: self.url.clone(),
            model: self.model.clone(),
            ..settings::FlagSettings::default()
        };
        let resolved =
            settings::resolve(&flags, &|key| std::env::var(key).ok()).map_err(|e| e.to_string())?;
        if let (None, Some(model)) = (&resolved.url, &self.model) {
            return Err(format!(
                "--model {model} needs the server that serves it: --url URL (or {})",
                settings::ENV_URL
            ));
        }
        if let Some(url) = &resolved.url {
            let fleet = Fleet::one_node(url, resolved.model.as_deref(), resolved.api_key_env)
                .await
                .map_err(|e| e.to_string())?;
            for node in &fleet.nodes {
                eprintln!(
                    "swarm: one node, every role: {} serving {} ({} slot(s))",
                    node.url, node.model, node.slots
                );
            }
            return Ok(fleet);
        }
        discover().await
    }
}

/// The servers answering on the usual local ports, each a node with every role.
async fn discover() -> Result<Fleet, String> {
    let timeout = std::time::Duration::from_secs(2);
    let probes =
        futures::future::join_all(DISCOVERY_URLS.iter().map(|url| probe(url, None, timeout))).await;
    let mut nodes = Vec::new();
    for (url, probed) in DISCOVERY_URLS.iter().zip(probes) {
        let Ok(report) = probed else { continue };
        match swarm::fleet::node_of(&report, None) {
            Ok(node) => {
                eprintln!(
                    "swarm: found {:?} at {url} serving {} ({} slot(s))",
                    report.backend, node.model, node.slots
                );
                nodes.push(node);
            }
            Err(why) => eprintln!("swarm: {why}"),
        }
    }
    if nodes.is_empty() {
        let tried: Vec<String> = DISCOVERY_URLS.iter().map(|u| u.to_string()).collect();
        return Err(format!(
            "{}\nOr describe your servers in a fleet file and pass --fleet FILE (examples/fleets/ has an LM Studio LAN and local llama-servers).",
            settings::no_server_help(&tried)
        ));
    }
    Ok(Fleet { nodes })
}

/// Prints the end of a run on stdout.
pub fn print_outcome(outcome: &RunOutcome, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(outcome).unwrap_or_default()
        );
        return;
    }
    let stats = &outcome.stats;
    println!(
        "tasks: {}/{} merged, {} failed; {} dispatch(es), {} sent back, {} re-routed, {} judge intervention(s), {} fix round(s)",
        stats.tasks_merged, stats.tasks_total, stats.tasks_failed, stats.dispatches, stats.sent_back, stats.rerouted, stats.judge_interventions, stats.fix_rounds
    );
    if stats.early_reviews > 0 {
        println!(
            "early looks on idle slots: {}, early fix(es) {} ({} merged)",
            stats.early_reviews, stats.early_fixes, stats.early_fixes_merged
        );
    }
    println!(
        "tokens: {} in, {} out; wall {:.1}s",
        stats.tokens_in,
        stats.tokens_out,
        outcome.wall_ms as f64 / 1000.0
    );
    println!("{}", outcome.schedule.line());
    println!("app: {}", outcome.out.display());
    println!("events: {}", outcome.run_dir.join("events.jsonl").display());
    println!(
        "verdict file: {}",
        outcome.run_dir.join("verdict.json").display()
    );
    println!(
        "verdict: {} — {}",
        outcome.verdict.to_string().to_uppercase(),
        outcome.reason
    );
}

/// `swarm run`.
pub async fn run(args: RunArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.spec) {
        Ok(text) => text,
        Err(err) => return usage("run", format!("cannot read {}: {err}", args.spec.display())),
    };
    let origin = args.spec.display().to_string();
    let spec = match parse_spec(&text, &origin, args.derive_acceptance) {
        Ok(spec) => spec,
        Err(err) => {
            // Only a spec that lacks nothing but its acceptance commands gets the flag's hint.
            let hint = if !args.derive_acceptance && parse_spec(&text, &origin, true).is_ok() {
                format!("\n{}", swarm::spec::DERIVE_HINT)
            } else {
                String::new()
            };
            return usage("run", format!("{err}{hint}"));
        }
    };
    let mut flags = args.knobs.clone();
    if let Some(rounds) = args.fix_rounds {
        flags.push(format!("fix.rounds={rounds}"));
    }
    let knobs = match resolve_knobs(&flags) {
        Ok(knobs) => knobs,
        Err(err) => return usage("run", err),
    };
    let fleet = match args.fleet.fleet().await {
        Ok(fleet) => fleet,
        Err(err) => return usage("run", err),
    };
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .spec
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "app".into());
        PathBuf::from("swarm-out").join(stem)
    });
    if let Err(code) = sandbox_gate("run") {
        return code;
    }
    let options = RunOptions {
        spec,
        fleet,
        knobs,
        out,
        derive_acceptance: args.derive_acceptance,
    };
    finish("run", pipeline::run(options, progress()).await, args.json)
}

fn finish(
    command: &str,
    result: Result<RunOutcome, pipeline::PipelineError>,
    json: bool,
) -> ExitCode {
    match result {
        Ok(outcome) => {
            print_outcome(&outcome, json);
            exit_for(outcome.verdict)
        }
        Err(err) => usage(command, err),
    }
}

/// `swarm resume`.
pub async fn resume(args: ResumeArgs) -> ExitCode {
    let fleet = if args.fleet.given() {
        match args.fleet.fleet().await {
            Ok(fleet) => Some(fleet),
            Err(err) => return usage("resume", err),
        }
    } else {
        None
    };
    if let Err(code) = sandbox_gate("resume") {
        return code;
    }
    finish(
        "resume",
        pipeline::resume(&args.dir, fleet, progress()).await,
        args.json,
    )
}

/// Before any generated code runs: the sandbox's warnings on stderr, or its refusal to run
/// unsealed (exit 2).
pub fn sandbox_gate(command: &str) -> Result<(), ExitCode> {
    match Sandbox::detect().preflight() {
        Ok(warnings) => {
            for line in warnings {
                eprintln!("{line}");
            }
            Ok(())
        }
        Err(refusal) => Err(usage(command, refusal)),
    }
}

fn print_report(report: &VerifyReport) {
    for gate in &report.gates {
        println!(
            "{:<11} {:<12} {}",
            gate.gate,
            gate.verdict.to_string(),
            gate.summary
        );
    }
    for finding in &report.findings {
        println!(
            "finding {}/{} {}{} [{:?}]: {}",
            finding.gate,
            finding.kind,
            finding.file,
            finding.line.map(|l| format!(":{l}")).unwrap_or_default(),
            finding.severity,
            finding.message.lines().next().unwrap_or("")
        );
    }
    println!("verdict: {}", report.verdict.to_string().to_uppercase());
}

/// `swarm verify`.
pub async fn verify_command(args: VerifyArgs) -> ExitCode {
    if !args.dir.is_dir() {
        return usage(
            "verify",
            format!("{} is not a directory", args.dir.display()),
        );
    }
    let text = match std::fs::read_to_string(&args.spec) {
        Ok(text) => text,
        Err(err) => {
            return usage(
                "verify",
                format!("cannot read {}: {err}", args.spec.display()),
            )
        }
    };
    let spec = match parse_spec(&text, &args.spec.display().to_string(), false) {
        Ok(spec) => spec,
        Err(err) => return usage("verify", err),
    };
    let knobs = match resolve_knobs(&args.knobs) {
        Ok(knobs) => knobs,
        Err(err) => return usage("verify", err),
    };
    let options = VerifyOptions {
        smoke: knobs.get(swarm::knobs::VERIFY_SMOKE),
        review: knobs.get(swarm::knobs::VERIFY_REVIEW),
        timeout: knobs.get(swarm::knobs::VERIFY_COMMAND_TIMEOUT_S),
        entry: args.entry.clone(),
        rust_cache: args.rust_cache.clone(),
        ..VerifyOptions::default()
    };
    if let Err(code) = sandbox_gate("verify") {
        return code;
    }
    match verify::verify(&args.dir, &spec, &options, Sandbox::detect()).await {
        Ok(report) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print_report(&report);
            }
            exit_for(report.verdict)
        }
        Err(err) => usage("verify", err),
    }
}

/// `swarm knobs`.
pub fn knobs_command(json: bool) -> ExitCode {
    let knobs = match resolve_knobs(&[]) {
        Ok(knobs) => knobs,
        Err(err) => return usage("knobs", err),
    };
    if json {
        let rows: Vec<serde_json::Value> = REGISTRY
            .iter()
            .map(|k| serde_json::json!({"name": k.name, "type": k.kind, "default": knobs::show(k, k.default), "value": knobs.as_map().get(k.name), "source": knobs.source(k.name), "min": knobs::show(k, k.min), "max": knobs::show(k, k.max), "tunable": k.tunable, "env": knobs::env_name(k.name), "doc": k.doc}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "{:<26} {:<6} {:<8} {:<14} {:<7} doc",
        "knob", "type", "value", "safe range", "tuner"
    );
    let values = knobs.as_map();
    for knob in REGISTRY {
        let value = values.get(knob.name).cloned().unwrap_or_default();
        let marked = match knobs.source(knob.name) {
            knobs::Source::Default => value,
            source => format!("{value} ({source:?})").to_lowercase(),
        };
        println!(
            "{:<26} {:<6} {:<8} {:<14} {:<7} {}",
            knob.name,
            format!("{:?}", knob.kind).to_lowercase(),
            marked,
            format!(
                "{}..={}",
                knobs::show(knob, knob.min),
                knobs::show(knob, knob.max)
            ),
            if knob.tunable { "yes" } else { "no" },
            knob.doc
        );
    }
    println!(
        "\nSet with --knob NAME=VALUE, SWARM_<NAME> (e.g. {}=5), or [knobs] in the config file.",
        knobs::env_name(knobs::PLAN_DRAFTS.name())
    );
    ExitCode::SUCCESS
}

/// `swarm demo`: the bundled spec on a simulated fleet of three nodes.
pub async fn demo(out: Option<PathBuf>, json: bool) -> ExitCode {
    let scenario = swarm::demo::scenario();
    let sim = match swarm::sim::SimFleet::start(scenario.clone(), "127.0.0.1").await {
        Ok(sim) => sim,
        Err(err) => return usage("demo", format!("cannot start the simulated fleet: {err}")),
    };
    let fleet = swarm::demo::fleet_of(&sim, &scenario);
    eprintln!("swarm demo: a SIMULATED fleet (swarm-sim, scripted replies; the files and commands are real):");
    for node in &scenario.nodes {
        eprintln!(
            "  {} · {} tok/s · {} slot(s) · {}",
            node.name,
            node.tokens_per_second,
            node.slots,
            sim.url(&node.name).unwrap_or("?")
        );
    }
    let spec = match parse_spec(swarm::demo::SPEC, "demo/gradebook/spec.md", false) {
        Ok(spec) => spec,
        Err(err) => return usage("demo", err),
    };
    eprintln!(
        "spec `{}`; acceptance:\n{}",
        spec.title,
        render_acceptance(&spec.acceptance)
    );
    let out = match out {
        Some(out) => out,
        None => match tempfile::Builder::new().prefix("swarm-demo-").tempdir() {
            Ok(dir) => dir.keep().join("gradebook"),
            Err(err) => return usage("demo", err),
        },
    };
    if out.join(".swarm").exists() {
        return usage(
            "demo",
            format!("{} holds an earlier run; pass another --out", out.display()),
        );
    }
    if let Some(note) = swarm::sandbox::accept_unsealed_for_scripted_demo() {
        eprintln!("{note}");
    }
    if let Err(code) = sandbox_gate("demo") {
        return code;
    }
    let options = RunOptions {
        spec,
        fleet,
        knobs: Knobs::default(),
        out,
        derive_acceptance: false,
    };
    let code = finish("demo", pipeline::run(options, progress()).await, json);
    if !json {
        println!("fleet: SIMULATED (swarm-sim, {} scripted requests served); the app and the verdict are real", sim.served().len());
    }
    code
}
