//! `swarm`: the embedded swarm's command line: `run` (the whole pipeline on a spec),
//! `resume`, `verify` (the gates alone), `review` (the static review alone), `knobs`, `demo` (the pipeline on a bundled simulated
//! fleet), `agent` (the single agent), `demo-agent`, and `probe` (what a server is).

mod calibrate_cmd;
mod pipeline_cmd;
mod progress;
mod review_cmd;
mod simulate_cmd;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use swarm::agent::{
    run_agent, ActionMode, AgentConfig, AgentEvent, AgentReport, EventSink, Outcome, Workspace,
};
use swarm::llm::{probe, ClientConfig, LlmClient, ProbeReport};
use swarm::sandbox::Sandbox;
use swarm::settings::{self, FlagSettings};
use swarm::sim::{Scenario, SimFleet};

#[derive(Parser)]
#[command(
    name = "swarm",
    version,
    about = "A coding swarm of small local models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the single agent on a task (the gym's baseline).
    Agent(AgentArgs),
    /// Say what a model server is: backend, models, context, slots.
    Probe {
        /// Server URL (default: try the usual local ports).
        #[arg(long)]
        url: Option<String>,
    },
    /// Build the bundled example spec with the whole pipeline on a simulated fleet.
    Demo {
        /// Where the app goes (default: a new temporary directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the single agent on a bundled simulated node, in both action modes.
    DemoAgent {
        /// Keep the projects here instead of a temporary directory.
        #[arg(long)]
        workdir: Option<PathBuf>,
    },
    /// Build an app from a spec: SCOUT, PLAN, CONTRACT, BUILD, VERIFY, FIX.
    Run(pipeline_cmd::RunArgs),
    /// Continue a killed run from its events.
    Resume(pipeline_cmd::ResumeArgs),
    /// Run the verification gates on a directory (exit 0 pass, 1 fail, 3 inconclusive).
    Verify(pipeline_cmd::VerifyArgs),
    /// The static review alone on a directory of Python (exit 0 clean, 1 findings).
    Review(review_cmd::ReviewArgs),
    /// The review's scorecard over the corpus of real packages, clean and with planted
    /// defects (fetch it first: python3 swarm/review-corpus/fetch.py).
    ReviewCorpus(review_cmd::CorpusArgs),
    /// The fleet's scheduler: `swarm fleet simulate` runs it on virtual time.
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// List the knobs: type, value, safe range, whether the tuner may change them.
    Knobs {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum FleetCommand {
    /// Run the scheduler on virtual time over generated plans and fleets; print makespan ÷
    /// lower bound, ÷ HEFT, occupancy and cache hits per scenario (all simulated).
    Simulate(simulate_cmd::SimulateArgs),
    /// Measure a llama-server (prefill and decode speed, per-request overhead, slow-down per
    /// busy slot) and write the simulator's constants for `simulate --calibration FILE`.
    Calibrate(calibrate_cmd::CalibrateArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Args)]
struct AgentArgs {
    /// The task text.
    #[arg(short = 't', long = "text", conflicts_with = "input")]
    text: Option<String>,
    /// Read the task from a file (`-` for stdin).
    #[arg(short = 'i', long = "input")]
    input: Option<String>,
    /// Server URL (flag > SWARM_URL > config file > the usual local ports).
    #[arg(long)]
    url: Option<String>,
    /// Model id (default: the server's loaded model).
    #[arg(long)]
    model: Option<String>,
    /// How the model expresses actions: native, json or auto.
    #[arg(long, value_parser = |text: &str| text.parse::<ActionMode>())]
    action_mode: Option<ActionMode>,
    /// Most tool calls the agent may make.
    #[arg(long)]
    max_actions: Option<u32>,
    /// Directory the agent works in (created if missing).
    #[arg(long, default_value = ".")]
    workdir: PathBuf,
    /// stdout format.
    #[arg(long, value_enum, default_value = "text")]
    output_format: OutputFormat,
}

fn main() -> ExitCode {
    swarm::cli_support::quiet_on_broken_pipe();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("swarm: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Agent(args) => agent(args).await,
            Command::Probe { url } => probe_command(url).await,
            Command::DemoAgent { workdir } => demo(workdir).await,
            Command::Demo { out, json } => Ok(pipeline_cmd::demo(out, json).await),
            Command::Run(args) => Ok(pipeline_cmd::run(args).await),
            Command::Resume(args) => Ok(pipeline_cmd::resume(args).await),
            Command::Verify(args) => Ok(pipeline_cmd::verify_command(args).await),
            Command::Review(args) => Ok(review_cmd::review(args)),
            Command::ReviewCorpus(args) => Ok(review_cmd::corpus(args)),
            Command::Fleet(FleetCommand::Simulate(args)) => Ok(simulate_cmd::simulate(args)),
            Command::Fleet(FleetCommand::Calibrate(args)) => {
                Ok(calibrate_cmd::calibrate(args).await)
            }
            Command::Knobs { json } => Ok(pipeline_cmd::knobs_command(json)),
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("swarm: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Finds a reachable server: the given URL, or the first of the usual local ports.
async fn reach(url: Option<&str>, api_key: Option<&str>) -> Result<ProbeReport, String> {
    let candidates: Vec<String> = match url {
        Some(url) => vec![url.to_string()],
        None => settings::DISCOVERY_URLS
            .iter()
            .map(|u| u.to_string())
            .collect(),
    };
    let mut reasons = Vec::new();
    for candidate in &candidates {
        match probe(candidate, api_key, Duration::from_secs(5)).await {
            Ok(report) => return Ok(report),
            Err(err) => reasons.push(format!(
                "{candidate} ({})",
                err.kind().name().replace('_', " ")
            )),
        }
    }
    Err(settings::no_server_help(&reasons))
}

fn describe(report: &ProbeReport) -> String {
    let model = report.default_model();
    format!(
        "{} at {} — {} model(s){}{}{}",
        report.backend,
        report.url,
        report.models.len(),
        model
            .map(|m| format!(", default {}", m.id))
            .unwrap_or_default(),
        model
            .and_then(|m| m.context_length)
            .map(|n| format!(", context {n}"))
            .unwrap_or_default(),
        report
            .slots
            .map(|n| format!(", {n} slot(s)"))
            .unwrap_or_default(),
    )
}

async fn probe_command(url: Option<String>) -> anyhow::Result<ExitCode> {
    let flags = FlagSettings {
        url,
        ..FlagSettings::default()
    };
    let settings = settings::resolve(&flags, &|key| std::env::var(key).ok())?;
    match reach(settings.url.as_deref(), settings.api_key.as_deref()).await {
        Ok(report) => {
            eprintln!("{}", describe(&report));
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(help) => {
            eprintln!("swarm probe: {help}");
            Ok(ExitCode::from(2))
        }
    }
}

fn read_task(args: &AgentArgs) -> anyhow::Result<String> {
    let task = match (&args.text, &args.input) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) if path == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the task from stdin")?;
            text
        }
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the task file {path}"))?,
        (None, None) => anyhow::bail!("no task: give it with -t TEXT, -i FILE or -i - (stdin)"),
    };
    if task.trim().is_empty() {
        anyhow::bail!("the task is empty");
    }
    Ok(task)
}

/// Renders agent events as progress lines on stderr.
fn progress_sink(max_actions: u32) -> EventSink {
    Arc::new(move |event: &AgentEvent| match event {
        AgentEvent::Action(record) => {
            let mark = match (record.ok, record.wrote) {
                (false, _) => "error",
                (true, true) => "wrote",
                (true, false) => "ok",
            };
            eprintln!(
                "[{:>3}/{max_actions}] {:<10} {} ({mark})",
                record.index, record.tool, record.target
            );
        }
        AgentEvent::Reply {
            tokens_in,
            tokens_out,
            tokens_per_second,
            recovered_from_text,
            ..
        } => {
            let speed = tokens_per_second
                .map(|s| format!(", {s:.0} tok/s"))
                .unwrap_or_default();
            let text = if *recovered_from_text {
                ", tool calls recovered from text"
            } else {
                ""
            };
            eprintln!("          reply: {tokens_in} tokens in, {tokens_out} out{speed}{text}");
        }
        AgentEvent::MalformedReply { reason } => eprintln!("          no usable action: {reason}"),
        AgentEvent::ContextShortened {
            messages,
            chars_removed,
        } => {
            eprintln!(
                "          context: shortened {messages} old tool result(s), {chars_removed} chars"
            )
        }
        AgentEvent::ContextOverflow { message } => {
            eprintln!("          context overflow: {message}")
        }
        AgentEvent::Judge {
            decision, reason, ..
        } => eprintln!("          judge {decision}: {reason}"),
        AgentEvent::Started { .. } | AgentEvent::Request { .. } | AgentEvent::Finished { .. } => {}
    })
}

fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Done => ExitCode::SUCCESS,
        Outcome::OutOfBudget | Outcome::Failed | Outcome::Stopped => ExitCode::from(1),
    }
}

fn print_summary(report: &AgentReport) {
    let outcome = match report.outcome {
        Outcome::Done => "done (the model's claim; check the files)",
        Outcome::OutOfBudget => "out of budget",
        Outcome::Failed => "failed",
        Outcome::Stopped => "stopped by the judge",
    };
    println!("outcome: {outcome}");
    println!("summary: {}", report.summary);
    let wrote = report.actions.iter().filter(|a| a.wrote).count();
    println!(
        "actions: {} ({wrote} wrote, {} tool errors), requests: {}, tokens in/out: {}/{}, malformed replies: {}, wall: {:.1}s",
        report.actions.len(),
        report.tool_errors,
        report.requests,
        report.tokens_in,
        report.tokens_out,
        report.malformed_replies,
        report.wall_ms as f64 / 1000.0
    );
    if report.files_written.is_empty() {
        println!("files written: none");
    } else {
        let files: Vec<String> = report
            .files_written
            .iter()
            .map(|(path, size)| format!("{path} ({size} bytes)"))
            .collect();
        println!("files written: {}", files.join(", "));
    }
}

async fn agent(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let flags = FlagSettings {
        url: args.url.clone(),
        model: args.model.clone(),
        action_mode: args.action_mode,
        max_actions: args.max_actions,
    };
    let settings = match settings::resolve(&flags, &|key| std::env::var(key).ok()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("swarm agent: {err}");
            return Ok(ExitCode::from(2));
        }
    };
    let task = match read_task(&args) {
        Ok(task) => task,
        Err(err) => {
            eprintln!("swarm agent: {err:#}");
            return Ok(ExitCode::from(2));
        }
    };
    std::fs::create_dir_all(&args.workdir)
        .with_context(|| format!("cannot create {}", args.workdir.display()))?;
    let workspace = Workspace::new(&args.workdir)
        .with_context(|| format!("cannot use {}", args.workdir.display()))?;
    if let Err(code) = pipeline_cmd::sandbox_gate("agent") {
        return Ok(code);
    }
    let report = match reach(settings.url.as_deref(), settings.api_key.as_deref()).await {
        Ok(report) => report,
        Err(help) => {
            eprintln!("swarm agent: {help}");
            return Ok(ExitCode::from(2));
        }
    };
    let Some(model) = settings
        .model
        .clone()
        .or_else(|| report.default_model().map(|m| m.id.clone()))
    else {
        eprintln!(
            "swarm agent: {} lists no model; load one or pass --model",
            report.url
        );
        return Ok(ExitCode::from(2));
    };
    let mode = settings.action_mode.resolve(Some(&report), Some(&model));
    let context_length = report.model(Some(&model)).and_then(|m| m.context_length);
    let mut client_config = ClientConfig::new(report.url.clone());
    client_config.api_key = settings.api_key.clone();
    client_config.notices = Some(swarm::llm::Notices(std::sync::Arc::new(|line: &str| {
        eprintln!("swarm agent: {line}")
    })));
    let client = LlmClient::new(client_config)?;
    let mut config = AgentConfig::new(model.clone(), mode);
    config.max_actions = settings.max_actions;
    config.context_length = context_length;
    eprintln!(
        "swarm agent: {} | model {model} | action mode {mode}{} | budget {} actions | workdir {}",
        describe(&report),
        if settings.action_mode == ActionMode::Auto {
            " (auto)"
        } else {
            ""
        },
        config.max_actions,
        workspace.root().display()
    );
    let result = run_agent(
        &client,
        &workspace,
        &config,
        &task,
        &progress_sink(config.max_actions),
    )
    .await;
    match args.output_format {
        OutputFormat::Text => print_summary(&result),
        OutputFormat::Json => {
            let mut value = serde_json::to_value(&result)?;
            value["model"] = serde_json::json!(model);
            value["url"] = serde_json::json!(report.url);
            value["action_mode"] = serde_json::json!(mode);
            value["workdir"] = serde_json::json!(workspace.root());
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
    }
    Ok(exit_code(result.outcome))
}

const DEMO_SCENARIO: &str = include_str!("../../../scenarios/demo.yaml");
const DEMO_TASK: &str = "Write fizzbuzz.py: for each n from 1 to N (argument, default 15) print Fizz for multiples of 3, Buzz for multiples of 5, FizzBuzz for both, else n. Run it to check, then call done.";

async fn demo(workdir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::from_yaml(DEMO_SCENARIO, "swarm/scenarios/demo.yaml")?;
    let fleet = SimFleet::start(scenario, "127.0.0.1").await?;
    let node = &fleet.nodes[0];
    if let Some(note) = swarm::sandbox::accept_unsealed_for_scripted_demo() {
        eprintln!("{note}");
    }
    if let Err(code) = pipeline_cmd::sandbox_gate("demo-agent") {
        return Ok(code);
    }
    eprintln!(
        "swarm demo: SIMULATED fleet (swarm-sim, scripted replies): node {} serving {} at {}",
        node.name, node.model, node.url
    );
    let temp = tempfile_dir()?;
    let base = workdir.unwrap_or_else(|| temp.clone());
    let mut all_done = true;
    for mode in [ActionMode::Json, ActionMode::Native] {
        let dir = base.join(format!("demo-{mode}"));
        std::fs::create_dir_all(&dir)?;
        let workspace = Workspace::new(&dir)?;
        let client = LlmClient::new(ClientConfig::new(node.url.clone()))?;
        let mut config = AgentConfig::new(node.model.clone(), mode);
        config.max_actions = 8;
        eprintln!("\n== action mode {mode} ==");
        let report = run_agent(
            &client,
            &workspace,
            &config,
            DEMO_TASK,
            &progress_sink(config.max_actions),
        )
        .await;
        println!("== action mode {mode} ==");
        print_summary(&report);
        // The model's "done" proves nothing: run the program it wrote.
        let check =
            swarm::sandbox::SandboxCommand::shell("python3 fizzbuzz.py 15", workspace.root());
        let outcome = Sandbox::detect().run(&check).await?;
        let lines: Vec<String> = outcome.stdout.text().lines().map(String::from).collect();
        let proven = outcome.success()
            && lines.get(2).map(String::as_str) == Some("Fizz")
            && lines.get(14).map(String::as_str) == Some("FizzBuzz");
        let line = |n: usize| lines.get(n - 1).map(String::as_str).unwrap_or("<missing>");
        println!(
            "checked by running it: {} (line 3 = {}, line 15 = {})",
            if proven { "PASS" } else { "FAIL" },
            line(3),
            line(15)
        );
        println!("project: {}\n", workspace.root().display());
        all_done &= report.outcome == Outcome::Done && proven;
    }
    println!(
        "requests served by the simulated fleet: {}",
        fleet.served().len()
    );
    Ok(if all_done {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("swarm-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
