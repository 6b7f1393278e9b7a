//! `swarm-gym list`: result rows in the terminal, with the viewer's filters; each line
//! starts with the `FILE:N` that `show` takes.

use clap::Args;
use gym::view::catalog::{Catalog, Filter, RowId, SORTS};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub(crate) struct ListArgs {
    /// Result CSVs, or directories holding them (searched a few levels deep).
    #[arg(default_value = "results")]
    results: Vec<PathBuf>,
    /// Only this suite.
    #[arg(long)]
    suite: Option<String>,
    /// Only this task id.
    #[arg(long)]
    task: Option<String>,
    /// Only this builder model.
    #[arg(long)]
    model: Option<String>,
    /// Only this system under test (single, swarm).
    #[arg(long)]
    sut: Option<String>,
    /// Only this hidden verdict (pass, fail, inconclusive).
    #[arg(long)]
    verdict: Option<String>,
    /// Only false greens (claimed done, hidden checks failed).
    #[arg(long)]
    false_green: bool,
    /// Only this run id.
    #[arg(long)]
    run: Option<String>,
    /// Only this experiment id (either arm), or a nightly's `nightly-DATE`.
    #[arg(long)]
    experiment: Option<String>,
    /// Only rows from this day on (YYYY-MM-DD).
    #[arg(long)]
    since: Option<String>,
    /// Only rows up to this day (YYYY-MM-DD).
    #[arg(long)]
    until: Option<String>,
    /// Sort by: timestamp (default, newest first), task, turn, model, checks, overall,
    /// wall_seconds, verdict.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(SORTS))]
    sort: Option<String>,
    /// Reverse the order.
    #[arg(long)]
    reverse: bool,
    /// Most rows printed (0: all).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Print the rows as JSON (each with its `ref`).
    #[arg(long)]
    json: bool,
}

fn day(text: &Option<String>, flag: &str) -> Result<String, String> {
    match text {
        Some(text) if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() => {
            Err(format!("--{flag} `{text}` is not a date (YYYY-MM-DD)"))
        }
        other => Ok(other.clone().unwrap_or_default()),
    }
}

pub(crate) fn list_command(args: ListArgs) -> ExitCode {
    let fail = |err: String| {
        eprintln!("swarm-gym list: {err}");
        ExitCode::from(2)
    };
    let (since, until) = match (day(&args.since, "since"), day(&args.until, "until")) {
        (Ok(since), Ok(until)) => (since, until),
        (Err(err), _) | (_, Err(err)) => return fail(err),
    };
    for root in &args.results {
        if !root.exists() {
            return fail(format!("{} does not exist", root.display()));
        }
    }
    let sort = args.sort.clone().unwrap_or_default();
    let newest_first = sort.is_empty();
    let filter = Filter {
        suite: args.suite.clone().unwrap_or_default(),
        task: args.task.clone().unwrap_or_default(),
        model: args.model.clone().unwrap_or_default(),
        sut: args.sut.clone().unwrap_or_default(),
        verdict: args.verdict.clone().unwrap_or_default(),
        false_green: if args.false_green { "1" } else { "" }.into(),
        run: args.run.clone().unwrap_or_default(),
        experiment: args.experiment.clone().unwrap_or_default(),
        since,
        until,
        // The default order is newest first; --reverse turns any order around.
        desc: if newest_first == args.reverse {
            "0"
        } else {
            "1"
        }
        .into(),
        sort,
        ..Filter::default()
    };
    let catalog = Catalog::open(&args.results);
    if catalog.sources().is_empty() {
        return fail(format!(
            "no results file under {}",
            args.results
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for source in catalog.sources() {
        if let Some(err) = &source.error {
            eprintln!("warning: {}: {err}", source.path.display());
        }
        for bad in &source.bad {
            eprintln!(
                "warning: {}:{} is not a row: {}",
                source.path.display(),
                bad.line,
                bad.message
            );
        }
    }
    // A row's number for `show` is its place among the file's readable rows.
    let numbered = catalog
        .sources()
        .iter()
        .enumerate()
        .flat_map(|(file, source)| {
            source.rows.iter().enumerate().map(move |(index, located)| {
                (
                    RowId {
                        file,
                        line: index as u64 + 1,
                    },
                    &located.row,
                )
            })
        });
    let kept = filter.apply(numbered);
    let total = kept.len();
    let shown: Vec<_> = if args.limit == 0 {
        kept
    } else {
        kept.into_iter().take(args.limit).collect()
    };
    let reference =
        |id: RowId| format!("{}:{}", catalog.sources()[id.file].path.display(), id.line);
    if args.json {
        let rows: Vec<serde_json::Value> = shown
            .iter()
            .map(|(id, row)| {
                let mut value = serde_json::to_value(row).unwrap_or_default();
                value["ref"] = serde_json::json!(reference(*id));
                value["false_green"] = serde_json::json!(row.false_green());
                value
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    let show = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
    let width = shown
        .iter()
        .map(|(id, _)| reference(*id).len())
        .max()
        .unwrap_or(3)
        .max(3);
    println!(
        "{:<width$}  {:<16}  {:<24} {:>4} {:>3}  {:<6}  {:<18}  {:<12}  {:>6} {:>7}",
        "row", "time", "suite/task", "turn", "rep", "SUT", "model", "hidden", "checks", "overall"
    );
    for (id, row) in &shown {
        let time = row
            .timestamp
            .get(..16)
            .unwrap_or(&row.timestamp)
            .replace('T', " ");
        let mark = if row.false_green() {
            "  FALSE GREEN"
        } else {
            ""
        };
        println!(
            "{:<width$}  {:<16}  {:<24} {:>4} {:>3}  {:<6}  {:<18}  {:<12}  {:>6} {:>7}{mark}",
            reference(*id),
            time,
            format!("{}/{}", row.suite, row.task),
            row.turn,
            row.replicate,
            row.sut,
            row.builder_model,
            row.hidden_verdict,
            show(row.checks),
            show(row.overall),
        );
    }
    println!(
        "{} of {total} matching row(s){}; `swarm-gym show ROW` prints one (failed checks first)",
        shown.len(),
        if shown.len() < total {
            " (--limit 0 lists all)"
        } else {
            ""
        }
    );
    ExitCode::SUCCESS
}
