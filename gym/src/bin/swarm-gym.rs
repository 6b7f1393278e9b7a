//! `swarm-gym`: the benchmark harness. Its commands land with issues 3 and 5; until then each
//! says so and exits 2, rather than printing anything that could be mistaken for a result.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "swarm-gym",
    version,
    about = "Benchmark harness for local coding swarms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check task suites: checks pass on the reference, fail on an empty project.
    Tasks,
    /// Run a suite against a system under test and grade every turn.
    Run,
    /// Print one result row's transcript.
    Show,
    /// Reproduce a published A/B study on your fleet.
    Study,
    /// Run a nightly matrix and report regressions.
    Nightly,
    /// Render trend, A/B and knob-effect reports.
    Report,
    /// Have the brain model invent new tasks.
    Generate,
    /// Propose and confirm cluster-knob changes from stored results.
    Tune,
}

fn main() -> ExitCode {
    let (name, issue) = match Cli::parse().command {
        Command::Tasks => ("tasks", 3),
        Command::Run => ("run", 3),
        Command::Show => ("show", 3),
        Command::Study => ("study", 5),
        Command::Nightly => ("nightly", 5),
        Command::Report => ("report", 5),
        Command::Generate => ("generate", 5),
        Command::Tune => ("tune", 5),
    };
    eprintln!("swarm-gym {name}: not available yet (it lands with issue {issue})");
    ExitCode::from(2)
}
