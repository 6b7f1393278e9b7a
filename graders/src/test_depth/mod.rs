//! `test_depth`: how much a project's own tests prove, measured by mutation. The tests run
//! once on the code as built (the baseline), then once per mutant of that code (a bounded,
//! seeded sample: see [`mutate`]); a mutant is killed when a test that passed on the baseline
//! no longer passes (fails, errors, cannot be imported, or the run times out or crashes).
//! Tests that already fail on the unmutated code prove nothing and are left out; a project
//! whose tests all fail there scores 0.
//!
//! Score: 10 × killed ÷ mutants tried, with the count. Never faked:
//! - no test files → 0, "the project has no tests";
//! - tests that cannot run here (no `python3`, a baseline that does not finish) → missing,
//!   with why (inconclusive, never a false red);
//! - no mutable code, or mutation turned off → missing, with why.
//!
//! Every run is sandboxed in a fresh copy with a time limit. The evidence also says whether
//! any test asserts a concrete value ([`asserts`]).

pub mod asserts;
pub mod mutate;

use crate::fsutil::copy_tree;
use crate::score::DimensionScore;
use futures::stream::{self, StreamExt};
use mutate::{mutants_of, sample, Mutant};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;
use swarm::{Limits, Sandbox, SandboxCommand};

/// The dimension's name.
pub const DIMENSION: &str = "test_depth";

/// The runner written into each copy (our own; see the file's docstring).
const RUNNER: &str = include_str!("runner.py");
const RUNNER_FILE: &str = ".swarm_gym_test_runner.py";
const OUTCOMES_FILE: &str = ".swarm_gym_test_outcomes.json";

/// How test_depth is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestDepthOptions {
    /// Mutants tried per turn (0 turns the measure off: the score is then missing).
    pub mutants: usize,
    /// Seed of the sample.
    pub seed: u64,
    /// Mutants run at once.
    pub parallel: usize,
    /// Time limit of the tests on the unmutated code (a mutant gets three times what that
    /// run took, at least 10 s, at most this).
    pub tests_wall: Duration,
    /// Time for the whole measure of one turn: no mutant starts after it has run out, and
    /// the score counts the mutants that ran (the evidence says how many did not).
    pub budget: Duration,
}

impl Default for TestDepthOptions {
    fn default() -> Self {
        TestDepthOptions {
            mutants: 20,
            seed: 1,
            parallel: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            tests_wall: Duration::from_secs(30),
            budget: Duration::from_secs(120),
        }
    }
}

/// The measure of one project.
#[derive(Debug, Clone, PartialEq)]
pub struct TestDepth {
    /// The dimension's score and evidence.
    pub score: DimensionScore,
    /// One line for the results' `test_depth_detail` column: `killed 12/20`, the concrete
    /// assertions, or why there is no score.
    pub detail: String,
}

/// What one run of the tests recorded.
#[derive(Debug, Clone, Default, serde::Deserialize)]
struct Recorded {
    runner: String,
    tests: BTreeMap<String, String>,
}

enum RunResult {
    /// The runner finished and wrote its outcomes.
    Recorded(Recorded),
    /// It did not: why.
    Unfinished(String),
    /// `python3` is not on this machine.
    NoPython(String),
}

/// Measures `project`'s test depth.
pub async fn test_depth(
    project: &Path,
    options: &TestDepthOptions,
    sandbox: &Sandbox,
) -> TestDepth {
    let files = swarm::python_files(project);
    let (tests, code): (Vec<&String>, Vec<&String>) = files
        .iter()
        .partition(|file| swarm::pyast::is_test_file(file));
    let test_files: Vec<&String> = tests
        .iter()
        .copied()
        .filter(|f| !f.ends_with("conftest.py"))
        .collect();
    if test_files.is_empty() {
        return TestDepth {
            score: DimensionScore::scored(
                DIMENSION,
                0.0,
                "the project has no tests (no test_*.py or *_test.py file): they prove nothing",
            ),
            detail: "no tests".into(),
        };
    }
    let asserts = test_files
        .iter()
        .filter_map(|file| std::fs::read_to_string(project.join(file)).ok())
        .map(|source| asserts::count_asserts(&source))
        .fold(asserts::AssertCount::default(), |sum, one| {
            asserts::AssertCount {
                total: sum.total + one.total,
                concrete: sum.concrete + one.concrete,
            }
        });
    let asserts_line = format!(
        "{} of {} assertion(s) compare with a concrete value{}",
        asserts.concrete,
        asserts.total,
        if asserts.concrete == 0 {
            " (the tests only show that code runs or output contains something)"
        } else {
            ""
        }
    );
    let missing = |why: String| TestDepth {
        score: DimensionScore::missing(DIMENSION, format!("{why}; {asserts_line}")),
        detail: why,
    };
    if options.mutants == 0 {
        return missing("not measured (mutants set to 0)".into());
    }
    let baseline_wall = options.tests_wall;
    let started = std::time::Instant::now();
    let baseline = match run_tests(project, None, baseline_wall, sandbox).await {
        RunResult::Recorded(recorded) => recorded,
        RunResult::NoPython(why) => return missing(format!("the tests cannot run here: {why}")),
        RunResult::Unfinished(why) => {
            return missing(format!(
                "the tests cannot run here: on the unmutated code {why}"
            ))
        }
    };
    let baseline_seconds = started.elapsed().as_secs_f64();
    let passing: BTreeSet<&String> = baseline
        .tests
        .iter()
        .filter(|(_, outcome)| outcome.as_str() == "passed")
        .map(|(id, _)| id)
        .collect();
    let ran = baseline.tests.len();
    let zero = |why: String| TestDepth {
        score: DimensionScore::scored(DIMENSION, 0.0, format!("{why}; {asserts_line}")),
        detail: why,
    };
    if ran == 0 {
        return zero(format!(
            "{} test file(s), but no test ran ({})",
            test_files.len(),
            baseline.runner
        ));
    }
    if passing.is_empty() {
        return zero(format!(
            "none of the {ran} test(s) passes on the project's own code ({})",
            baseline.runner
        ));
    }
    let mut candidates = Vec::new();
    for file in code
        .iter()
        .filter(|f| !matches!(f.rsplit('/').next(), Some("setup.py" | "conftest.py")))
    {
        if let Ok(source) = std::fs::read_to_string(project.join(file)) {
            candidates.extend(mutants_of(file, &source));
        }
    }
    let candidate_count = candidates.len();
    let chosen = sample(candidates, options.mutants, options.seed);
    if chosen.is_empty() {
        return missing("the project's code offers nothing to mutate".into());
    }
    // A mutant gets the baseline's time three times over, and at least ten seconds.
    let mutant_wall = Duration::from_secs_f64(
        (baseline_seconds * 3.0 + 5.0).clamp(10.0, baseline_wall.as_secs_f64().max(10.0)),
    );
    let sampled = chosen.len();
    let outcomes: Vec<(Mutant, Option<Option<String>>)> = stream::iter(chosen)
        .map(|mutant| async {
            if started.elapsed() >= options.budget {
                return (mutant, None);
            }
            let killed_by = match run_tests(project, Some(&mutant), mutant_wall, sandbox).await {
                RunResult::Recorded(recorded) => passing
                    .iter()
                    .find(|id| {
                        recorded.tests.get(id.as_str()).map(String::as_str) != Some("passed")
                    })
                    .map(|id| format!("{id} no longer passes")),
                RunResult::Unfinished(why) | RunResult::NoPython(why) => Some(why),
            };
            (mutant, Some(killed_by))
        })
        .buffer_unordered(options.parallel.max(1))
        .collect()
        .await;
    let mut results: Vec<(Mutant, Option<String>)> = outcomes
        .into_iter()
        .filter_map(|(mutant, ran)| ran.map(|killed_by| (mutant, killed_by)))
        .collect();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    if results.is_empty() {
        return missing(format!(
            "no mutant ran within the budget of {} s (the unmutated tests took {baseline_seconds:.0} s)",
            options.budget.as_secs()
        ));
    }
    let tried = results.len();
    let killed = results.iter().filter(|(_, k)| k.is_some()).count();
    let survivors: Vec<String> = results
        .iter()
        .filter(|(_, k)| k.is_none())
        .take(3)
        .map(|(m, _)| m.describe())
        .collect();
    let ignored = ran - passing.len();
    let mut evidence = format!(
        "killed {killed} of {tried} mutants (seed {}, sampled from {candidate_count}); {} of {ran} test(s) pass on the unmutated code{} ({}); {asserts_line}",
        options.seed,
        passing.len(),
        if ignored > 0 {
            format!(", {ignored} failing or skipped there are left out")
        } else {
            String::new()
        },
        baseline.runner,
    );
    if tried < sampled {
        evidence.push_str(&format!(
            "; {} of the {sampled} sampled mutants did not run: the budget of {} s ran out",
            sampled - tried,
            options.budget.as_secs()
        ));
    }
    if !survivors.is_empty() {
        evidence.push_str(&format!("; survived: {}", survivors.join("; ")));
    }
    TestDepth {
        score: DimensionScore::scored(DIMENSION, 10.0 * killed as f64 / tried as f64, evidence),
        detail: format!(
            "killed {killed}/{tried}{}; concrete asserts {}/{}",
            if tried < sampled {
                format!(" ({sampled} sampled, the budget ran out)")
            } else {
                String::new()
            },
            asserts.concrete,
            asserts.total
        ),
    }
}

/// Runs the project's tests once in a fresh sandboxed copy, with `mutant` applied if given.
async fn run_tests(
    project: &Path,
    mutant: Option<&Mutant>,
    wall: Duration,
    sandbox: &Sandbox,
) -> RunResult {
    let prepared = (|| -> std::io::Result<tempfile::TempDir> {
        let dir = tempfile::Builder::new()
            .prefix("swarm-gym-mutant-")
            .tempdir()?;
        copy_tree(project, dir.path())?;
        if let Some(mutant) = mutant {
            let path = dir.path().join(&mutant.file);
            let source = std::fs::read_to_string(&path)?;
            let mutated = mutant
                .apply(&source)
                .ok_or_else(|| std::io::Error::other("the mutant does not fit its file"))?;
            std::fs::write(&path, mutated)?;
        }
        std::fs::write(dir.path().join(RUNNER_FILE), RUNNER)?;
        Ok(dir)
    })();
    let dir = match prepared {
        Ok(dir) => dir,
        Err(err) => return RunResult::Unfinished(format!("the copy could not be made: {err}")),
    };
    let command = format!("python3 {RUNNER_FILE} {OUTCOMES_FILE}");
    let limits = Limits {
        wall,
        cpu_seconds: wall.as_secs().saturating_mul(2).max(10),
        ..Limits::default()
    };
    let outcome = match sandbox
        .run(&SandboxCommand::shell(&command, dir.path()).with_limits(limits))
        .await
    {
        Ok(outcome) => outcome,
        Err(err) => return RunResult::Unfinished(format!("the sandbox refused: {err}")),
    };
    if let Some(missing) = swarm::tool_missing(&command, &outcome) {
        return RunResult::NoPython(missing);
    }
    let recorded = std::fs::read_to_string(dir.path().join(OUTCOMES_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<Recorded>(&text).ok());
    match recorded {
        Some(recorded) => RunResult::Recorded(recorded),
        None if outcome.timed_out => {
            RunResult::Unfinished(format!("the tests ran past {} s", wall.as_secs()))
        }
        None => RunResult::Unfinished(format!(
            "the test run ended without results ({}): {}",
            match (outcome.exit_code, outcome.signal) {
                (Some(code), _) => format!("exit {code}"),
                (None, Some(signal)) => format!("signal {signal}"),
                _ => "no exit status".into(),
            },
            swarm::excerpt(&outcome.stderr.text(), 3).replace('\n', " | ")
        )),
    }
}
