//! `swarm fleet simulate`: the scheduler on virtual time over generated plans and fleets.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use swarm::fleet::sched::Policy;
use swarm::sim::schedule::{self, report, Calibration, FleetKind, Options, Scenario, Shape};

#[derive(Args)]
pub struct SimulateArgs {
    /// Plan sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [20usize, 200, 2000])]
    sizes: Vec<usize>,
    /// DAG shapes (wide, deep, diamond, layered, plan), comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_parser = parse_shape)]
    shapes: Vec<Shape>,
    /// Fleets (equal-3, mixed-4, mixed-16, big-256, flaky-8), comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_parser = parse_fleet)]
    fleets: Vec<FleetKind>,
    /// Seed of the plans and fleets.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only the headline case: a 16-task plan on one fast node and three slow ones, over
    /// ten seeds.
    #[arg(long)]
    mixed_speed: bool,
    /// Plans run at once on each fleet, comma-separated (as a nightly's `--concurrency` runs
    /// several tasks at once): each scenario is run with K plans of its size side by side,
    /// for each K given.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize])]
    concurrency: Vec<usize>,
    /// Leave out the old greedy policy's column.
    #[arg(long)]
    no_compare: bool,
    /// Requests go to any idle server slot (no `id_slot`).
    #[arg(long)]
    no_affinity: bool,
    /// Slots start cold (no pre-warmed prefix).
    #[arg(long)]
    no_prewarm: bool,
    /// Tell the scheduler each task's true size instead of its difficulty class (an oracle
    /// no real run has: what the classes cost).
    #[arg(long)]
    true_sizes: bool,
    /// The latency constants measured by `swarm fleet calibrate` (default: figures of a
    /// 27B model on llama-server, see the README).
    #[arg(long)]
    calibration: Option<PathBuf>,
    /// Write the figures as CSV here.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Draw makespan ÷ bound per scenario as SVG here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

fn parse_shape(text: &str) -> Result<Shape, String> {
    Shape::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Shape::ALL.iter().map(|s| s.name()).collect();
        format!("no shape `{text}`; shapes: {}", names.join(", "))
    })
}

fn parse_fleet(text: &str) -> Result<FleetKind, String> {
    FleetKind::parse(text).ok_or_else(|| {
        let names: Vec<&str> = FleetKind::ALL.iter().map(|f| f.name()).collect();
        format!("no fleet `{text}`; fleets: {}", names.join(", "))
    })
}

/// Runs the scenarios and prints the table (exit 2 when a scenario cannot run).
pub fn simulate(args: SimulateArgs) -> ExitCode {
    let scenarios: Vec<Scenario> = if args.mixed_speed {
        (1..=10).map(schedule::mixed_speed_case).collect()
    } else {
        let shapes = if args.shapes.is_empty() {
            Shape::ALL.to_vec()
        } else {
            args.shapes.clone()
        };
        let fleets = if args.fleets.is_empty() {
            FleetKind::ALL.to_vec()
        } else {
            args.fleets.clone()
        };
        schedule::scenario_set(&args.sizes, args.seed)
            .into_iter()
            .filter(|s| shapes.contains(&s.shape) && fleets.contains(&s.fleet))
            .collect()
    };
    if scenarios.is_empty() || args.sizes.contains(&0) {
        eprintln!("swarm fleet simulate: no scenario to run (sizes must be at least 1)");
        return ExitCode::from(2);
    }
    if args.concurrency.iter().any(|k| !(1..=64).contains(k)) {
        eprintln!("swarm fleet simulate: --concurrency takes whole numbers from 1 to 64");
        return ExitCode::from(2);
    }
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .flat_map(|s| {
            args.concurrency
                .iter()
                .map(move |&plans| Scenario { plans, ..s })
        })
        .collect();
    let cal = match &args.calibration {
        None => Calibration::default(),
        Some(path) => match schedule::calibrate::CalibrationFile::read(path) {
            Ok(file) => {
                eprintln!("latency constants from {}", path.display());
                file.calibration()
            }
            Err(why) => {
                eprintln!("swarm fleet simulate: {why}");
                return ExitCode::from(2);
            }
        },
    };
    let options = Options {
        affinity: !args.no_affinity,
        prewarm: !args.no_prewarm,
        true_sizes: args.true_sizes,
        ..Options::default()
    };
    let mut measured = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        eprint!("\r[{}/{}] {:<28}", i + 1, scenarios.len(), scenario.label());
        let policy = schedule::run(*scenario, Policy::Eft, cal, options, true);
        let greedy = (!args.no_compare)
            .then(|| schedule::run(*scenario, Policy::Greedy, cal, options, false));
        match (policy, greedy.transpose()) {
            (Ok(p), Ok(g)) => measured.push((p, g)),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("\nswarm fleet simulate: {e}");
                return ExitCode::from(2);
            }
        }
    }
    eprintln!();
    let rows: Vec<report::Row> = measured
        .iter()
        .map(|(p, g)| report::Row {
            policy: p,
            greedy: g.as_ref(),
        })
        .collect();
    print!("{}", report::table(&rows));
    if args.true_sizes {
        println!("--true-sizes: the scheduler was told every task's true size, an oracle no real run has (it sees difficulty classes)");
    }
    if args.mixed_speed {
        print_optimum(&scenarios, cal, &measured);
    }
    if let Some(path) = &args.csv {
        if let Err(err) = std::fs::write(path, report::csv(&rows)) {
            eprintln!(
                "swarm fleet simulate: cannot write {}: {err}",
                path.display()
            );
            return ExitCode::from(2);
        }
        println!("figures: {}", path.display());
    }
    if let Some(path) = &args.svg {
        if let Err(err) = report::chart(&rows, path) {
            eprintln!("swarm fleet simulate: {err}");
            return ExitCode::from(2);
        }
        println!("chart: {}", path.display());
    }
    ExitCode::SUCCESS
}

/// The mixed-speed case's best schedules (exhaustive search) beside the policy's: how far the
/// bound itself is from what any schedule can do.
fn print_optimum(
    scenarios: &[Scenario],
    cal: Calibration,
    measured: &[(schedule::Figures, Option<schedule::Figures>)],
) {
    const BUDGET: u64 = 200_000_000;
    let mut optimum_over_bound = Vec::new();
    let mut policy_over_optimum = Vec::new();
    let mut proven = 0;
    for (scenario, (policy, _)) in scenarios.iter().zip(measured) {
        eprint!("\r[optimum] {:<28}", scenario.label());
        match schedule::optimum_of(*scenario, cal, BUDGET) {
            Ok(Some((found, bound))) => {
                proven += usize::from(found.proven);
                // Unproven: the floor is what no schedule beats, so ratios to it stay honest.
                optimum_over_bound.push(found.floor / bound);
                policy_over_optimum.push(policy.measured.makespan / found.floor);
            }
            Ok(None) => {}
            Err(why) => eprintln!("\n{why}"),
        }
    }
    eprintln!();
    if optimum_over_bound.is_empty() {
        return;
    }
    println!(
        "optimum (simulated; exhaustive search with each task at its solo seconds, {proven} of {} proven within {BUDGET} branches): the best schedule is {:.3}× the bound (median), the policy {:.3}× the best schedule",
        optimum_over_bound.len(),
        schedule::median(&mut optimum_over_bound).unwrap_or(f64::NAN),
        schedule::median(&mut policy_over_optimum).unwrap_or(f64::NAN),
    );
}
