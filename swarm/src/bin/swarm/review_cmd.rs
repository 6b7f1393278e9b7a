//! `swarm review` (the static review on a directory) and `swarm review-corpus` (the review's
//! scorecard over the corpus of real packages).

use clap::Args;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReviewArgs {
    /// The project directory.
    pub dir: PathBuf,
    /// A file the app's commands run directly (repeatable).
    #[arg(long = "entry")]
    pub entries: Vec<String>,
    /// Print the findings as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// Exit 0: no finding; 1: findings; 2: the directory cannot be reviewed.
pub fn review(args: ReviewArgs) -> ExitCode {
    if !args.dir.is_dir() {
        eprintln!("swarm review: {} is not a directory", args.dir.display());
        return ExitCode::from(2);
    }
    let entries: BTreeSet<String> = args.entries.into_iter().collect();
    let Some(findings) = swarm::find_issues(&args.dir, &entries) else {
        eprintln!("swarm review: the Python grammar could not be loaded");
        return ExitCode::from(2);
    };
    for finding in &findings {
        if args.json {
            println!("{}", serde_json::to_string(finding).unwrap_or_default());
        } else {
            println!(
                "{}:{}: {} {}",
                finding.file,
                finding.line,
                finding.kind.name(),
                finding.message
            );
        }
    }
    eprintln!(
        "{} Python file(s) reviewed, {} finding(s)",
        swarm::python_files(&args.dir).len(),
        findings.len()
    );
    if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[derive(Args)]
pub struct CorpusArgs {
    /// Where fetch.py unpacked the corpus.
    #[arg(long, default_value_os_t = default_corpus())]
    pub corpus: PathBuf,
    /// Only these packages (repeatable).
    #[arg(long = "only")]
    pub only: Vec<String>,
    /// Also write the whole scorecard as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Keep every planted variant under this folder (`<package>/<kind>/`), to diff.
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

fn default_corpus() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".cache/swarm-gym/review-corpus")
}

/// The scorecard over the corpus. Exit 0: every goal met; 1: a goal missed; 2: nothing to
/// score (the corpus is not fetched).
pub fn corpus(args: CorpusArgs) -> ExitCode {
    use swarm::pyast::corpus::{corpus_packages, score_package, OracleAnswer, PlantKind};
    let packages: Vec<_> = corpus_packages()
        .into_iter()
        .filter(|p| args.only.is_empty() || args.only.contains(&p.name))
        .collect();
    if packages.is_empty() {
        eprintln!(
            "swarm review-corpus: no package of the corpus list matches {:?}",
            args.only
        );
        return ExitCode::from(2);
    }
    let mut scores = Vec::new();
    let mut missing = Vec::new();
    for (index, package) in packages.iter().enumerate() {
        let dir = args.corpus.join(&package.name);
        if !dir.is_dir() {
            missing.push(package.name.clone());
            continue;
        }
        eprintln!(
            "[{}/{}] {} {}",
            index + 1,
            packages.len(),
            package.name,
            package.version
        );
        match score_package(package, &dir, args.keep.as_deref()) {
            Ok(score) => scores.push(score),
            Err(err) => {
                eprintln!("swarm review-corpus: {}: {err}", package.name);
                return ExitCode::from(2);
            }
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "not fetched (inconclusive, not scored): {}; run `python3 swarm/review-corpus/fetch.py --dest {}`",
            missing.join(", "),
            args.corpus.display()
        );
    }
    if scores.is_empty() {
        return ExitCode::from(2);
    }
    let mut header = format!(
        "{:<16} {:>5} {:>6}  {:<12}",
        "package", "files", "s", "clean"
    );
    for kind in PlantKind::ALL {
        header.push_str(&format!(" {:>9}", kind.name()));
    }
    println!("{header}");
    let mark = |applies: bool, found: bool, fail: bool| -> &'static str {
        match (applies, found, fail) {
            (false, _, _) => "n/a",
            (true, true, true) => "found",
            (true, true, false) => "found/pass",
            (true, false, true) => "MISS/fail",
            (true, false, false) => "MISS",
        }
    };
    let (mut verdicts, mut verdicts_right, mut must, mut found) = (0, 0, 0, 0);
    let mut false_alarms = 0;
    let mut known = 0;
    let mut collateral = 0;
    let mut disagreements = Vec::new();
    for score in &scores {
        let clean = match (score.clean_findings.len(), score.known_findings.len()) {
            (0, 0) => "pass".to_string(),
            (0, known) => format!("{known} known"),
            (false_alarms, _) => format!("{false_alarms} FALSE"),
        };
        verdicts += 1;
        verdicts_right += usize::from(score.clean_verdict_right());
        false_alarms += score.clean_findings.len();
        must += score.known_findings.len() + score.known_missing.len();
        found += score.known_findings.len();
        known += score.known_findings.len();
        let mut row = format!(
            "{:<16} {:>5} {:>6.2}  {:<12}",
            score.name, score.files, score.seconds, clean
        );
        for result in &score.plants {
            let applies = result.plant.is_some();
            row.push_str(&format!(
                " {:>9}",
                mark(applies, result.found, result.verdict_fail)
            ));
            if let Some(plant) = &result.plant {
                verdicts += 1;
                verdicts_right += usize::from(result.verdict_fail);
                must += 1;
                found += usize::from(result.found);
                collateral += result.collateral.len();
                let flagged = [&result.pyflakes, &result.vulture].contains(&&OracleAnswer::Flagged);
                if flagged && !result.found {
                    disagreements.push(format!(
                        "{} {}: an oracle flagged {}:{}, the review missed it",
                        score.name,
                        plant.kind.name(),
                        plant.file,
                        plant.line
                    ));
                }
            }
        }
        println!("{row}");
    }
    for score in &scores {
        for finding in &score.clean_findings {
            println!(
                "false alarm: {} {}:{} {} {}",
                score.name,
                finding.file,
                finding.line,
                finding.kind.name(),
                finding.message
            );
        }
        for finding in &score.known_findings {
            println!(
                "known finding: {} {}:{} {} {}",
                score.name,
                finding.file,
                finding.line,
                finding.kind.name(),
                finding.message
            );
        }
        for missing in &score.known_missing {
            println!(
                "missed: {} known {} at {}:{} ({})",
                score.name, missing.kind, missing.file, missing.line, missing.why
            );
        }
        for result in &score.plants {
            if let (Some(plant), false) = (&result.plant, result.found) {
                println!(
                    "missed: {} {} — {}",
                    score.name,
                    plant.kind.name(),
                    plant.description
                );
            }
            for finding in &result.collateral {
                println!(
                    "collateral: {} {}: {}:{} {} {}",
                    score.name,
                    result.kind.name(),
                    finding.file,
                    finding.line,
                    finding.kind.name(),
                    finding.message
                );
            }
        }
    }
    let mut seconds: Vec<f64> = scores.iter().map(|s| s.seconds).collect();
    seconds.sort_by(|a, b| a.total_cmp(b));
    let median = seconds[seconds.len() / 2];
    let max = seconds.last().copied().unwrap_or(0.0);
    let percent = |part: usize, whole: usize| {
        if whole == 0 {
            0.0
        } else {
            100.0 * part as f64 / whole as f64
        }
    };
    let reported = false_alarms + found;
    let oracles = |tool: &str| {
        if scores.iter().all(|s| match tool {
            "pyflakes" => s.pyflakes_clean.is_none(),
            _ => s.vulture_clean.is_none(),
        }) {
            format!("{tool}: not installed (inconclusive)")
        } else {
            let clean: usize = scores
                .iter()
                .filter_map(|s| {
                    if tool == "pyflakes" {
                        s.pyflakes_clean
                    } else {
                        s.vulture_clean
                    }
                })
                .sum();
            format!("{tool}: {clean} report(s) on the clean packages (not the review's claims)")
        }
    };
    println!();
    println!("packages scored:   {} of {}", scores.len(), packages.len());
    println!(
        "verdicts right:    {verdicts_right}/{verdicts} ({:.1}%)",
        percent(verdicts_right, verdicts)
    );
    println!(
        "must-find found:   {found}/{must} ({:.1}%; {known} of them known true findings on clean packages)",
        percent(found, must)
    );
    println!(
        "false alarms:      {false_alarms} on clean packages ({:.3} per finding made)",
        if reported == 0 {
            0.0
        } else {
            false_alarms as f64 / reported as f64
        }
    );
    println!("collateral:        {collateral} other new finding(s) in planted variants");
    println!("seconds/package:   median {median:.2}, max {max:.2} (clean review)");
    println!(
        "oracles:           {}; {}",
        oracles("pyflakes"),
        oracles("vulture")
    );
    println!();
    println!(
        "planted defects flagged at their place (review, then the oracles; n/a: not installed):"
    );
    println!(
        "{:<10} {:>8} {:>9} {:>8}",
        "kind", "review", "pyflakes", "vulture"
    );
    for kind in PlantKind::ALL {
        let planted: Vec<_> = scores
            .iter()
            .flat_map(|s| &s.plants)
            .filter(|r| r.kind == kind && r.plant.is_some())
            .collect();
        let count = |answer: fn(&swarm::pyast::corpus::PlantResult) -> &OracleAnswer| {
            if planted
                .iter()
                .all(|r| *answer(r) == OracleAnswer::Inconclusive)
            {
                "n/a".to_string()
            } else {
                let flagged = planted
                    .iter()
                    .filter(|r| *answer(r) == OracleAnswer::Flagged)
                    .count();
                format!("{flagged}/{}", planted.len())
            }
        };
        let review = planted.iter().filter(|r| r.found).count();
        println!(
            "{:<10} {:>8} {:>9} {:>8}",
            kind.name(),
            format!("{review}/{}", planted.len()),
            count(|r| &r.pyflakes),
            count(|r| &r.vulture)
        );
    }
    if disagreements.is_empty() {
        println!("no planted defect an oracle flagged was missed by the review");
    }
    for line in &disagreements {
        println!("oracle disagrees:  {line}");
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&scores).unwrap_or_default();
        if let Err(err) = std::fs::write(path, text) {
            eprintln!(
                "swarm review-corpus: cannot write {}: {err}",
                path.display()
            );
            return ExitCode::from(2);
        }
    }
    let goals_met = false_alarms == 0
        && verdicts_right == verdicts
        && percent(found, must) >= 95.0
        && median <= 5.0;
    if goals_met {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
