//! `swarm-sim`: serves a scripted, OpenAI-compatible fleet from a scenario file (format in
//! the `swarm::sim::scenario` module docs), for tests, demos and benchmarks.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use swarm::sim::{Scenario, SimFleet};

#[derive(Parser)]
#[command(
    name = "swarm-sim",
    version,
    about = "A scripted OpenAI-compatible fleet for tests and demos"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the scenario's nodes until interrupted; prints `NAME URL MODEL` per node.
    Serve {
        /// Scenario YAML.
        scenario: PathBuf,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
    },
    /// Validate a scenario and summarise it.
    Check {
        /// Scenario YAML.
        scenario: PathBuf,
    },
}

fn load(path: &PathBuf) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    Scenario::from_yaml(&text, &path.display().to_string()).map_err(|err| err.to_string())
}

fn main() -> ExitCode {
    swarm::cli_support::quiet_on_broken_pipe();
    let cli = Cli::parse();
    let path = match &cli.command {
        Command::Serve { scenario, .. } | Command::Check { scenario } => scenario.clone(),
    };
    let scenario = match load(&path) {
        Ok(scenario) => scenario,
        Err(err) => {
            eprintln!("swarm-sim: {err}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Check { .. } => {
            println!(
                "{}: {} node(s), {} rule(s), default reply: {}",
                path.display(),
                scenario.nodes.len(),
                scenario.rules.len(),
                if scenario.default_reply.is_some() {
                    "yes"
                } else {
                    "no"
                }
            );
            for node in &scenario.nodes {
                println!(
                    "  node {}: model {}, {} tok/s, prefill {} tok/s, {} slot(s), context {}",
                    node.name,
                    node.model,
                    node.tokens_per_second,
                    node.prefill_tokens_per_second,
                    node.slots,
                    node.context_length
                );
            }
            ExitCode::SUCCESS
        }
        Command::Serve { host, .. } => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(err) => {
                    eprintln!("swarm-sim: cannot start the async runtime: {err}");
                    return ExitCode::from(2);
                }
            };
            runtime.block_on(async {
                let fleet = match SimFleet::start(scenario, &host).await {
                    Ok(fleet) => fleet,
                    Err(err) => {
                        eprintln!("swarm-sim: cannot bind: {err}");
                        return ExitCode::from(2);
                    }
                };
                eprintln!(
                    "swarm-sim: SIMULATED fleet serving {} node(s); Ctrl-C stops it",
                    fleet.nodes.len()
                );
                for node in &fleet.nodes {
                    println!("{} {} {}", node.name, node.url, node.model);
                }
                let _ = tokio::signal::ctrl_c().await;
                eprintln!("swarm-sim: served {} request(s)", fleet.served().len());
                ExitCode::SUCCESS
            })
        }
    }
}
