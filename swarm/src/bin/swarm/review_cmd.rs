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
