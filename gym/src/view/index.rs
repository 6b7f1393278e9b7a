//! The front page: the results files (and any line that is not a row), the A/B experiments,
//! the runs, and the rows with filters, sorting and pages of [`PAGE_ROWS`].

use super::catalog::{encode, Catalog, Filter, RowId, SORTS};
use super::page::{false_green, frame, score, verdict};
use crate::results::ResultRow;
use maud::{html, Markup};
use std::collections::{BTreeMap, BTreeSet};

/// Rows per page.
pub const PAGE_ROWS: usize = 100;
/// Runs listed (newest first).
const RUNS_LISTED: usize = 40;

/// One run's rows, summed.
#[derive(Debug, Default)]
struct RunLine<'a> {
    started: &'a str,
    experiment: &'a str,
    suites: BTreeSet<&'a str>,
    sut: BTreeSet<&'a str>,
    models: BTreeSet<&'a str>,
    rows: usize,
    passed: usize,
    false_greens: usize,
}

/// The front page.
pub fn render(catalog: &Catalog, filter: &Filter) -> Markup {
    let rows: Vec<(RowId, &ResultRow)> = catalog.rows().collect();
    let kept = filter.apply(rows.iter().copied());
    let mut runs: BTreeMap<&str, RunLine> = BTreeMap::new();
    let mut experiments: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>, usize)> = BTreeMap::new();
    for (_, row) in &rows {
        let run = runs.entry(row.run_id.as_str()).or_default();
        if run.started.is_empty() || row.timestamp.as_str() < run.started {
            run.started = &row.timestamp;
        }
        run.experiment = &row.experiment;
        run.suites.insert(&row.suite);
        run.sut.insert(&row.sut);
        run.models.insert(&row.builder_model);
        run.rows += 1;
        run.passed += usize::from(row.hidden_pass());
        run.false_greens += usize::from(row.false_green());
        if let Some((id, _)) = row.experiment.rsplit_once(':') {
            let entry = experiments.entry(id).or_default();
            entry.0.insert(&row.suite);
            entry.1.insert(&row.builder_model);
            entry.2 += 1;
        }
    }
    let mut runs: Vec<(&str, RunLine)> = runs.into_iter().collect();
    runs.sort_by(|a, b| b.1.started.cmp(a.1.started));
    let distinct = |pick: fn(&ResultRow) -> &str| -> BTreeSet<&str> {
        rows.iter().map(|(_, r)| pick(r)).collect()
    };
    let pages = kept.len().div_ceil(PAGE_ROWS).max(1);
    let page = filter.page.min(pages - 1);
    let shown = kept.iter().skip(page * PAGE_ROWS).take(PAGE_ROWS);
    let false_greens = kept.iter().filter(|(_, r)| r.false_green()).count();
    let body = html! {
        h1 { "Results" }
        (sources(catalog, rows.len()))
        (super::page::simulated_banner(rows.iter().map(|(_, r)| r.builder_model.as_str())))
        @if !experiments.is_empty() {
            h2 { "A/B experiments" }
            table {
                tr { th { "experiment" } th { "suite" } th { "builder models" } th { "rows" } }
                @for (id, (suites, models, count)) in experiments.iter().rev() {
                    tr {
                        td { a href=(format!("/ab/{}", encode(id))) { (id) } }
                        td { (join(suites)) } td { (join(models)) } td.num { (count) }
                    }
                }
            }
        }
        h2 { "Runs" }
        table {
            tr { th { "run" } th { "started" } th { "experiment" } th { "suite" } th { "SUT" } th { "builder" } th { "rows" } th { "hidden pass" } th { "false greens" } }
            @for (id, run) in runs.iter().take(RUNS_LISTED) {
                tr {
                    td { a href=(link(&Filter { run: (*id).to_string(), ..Filter::default() }, &[])) { (id) } }
                    td { (run.started) } td { (run.experiment) } td { (join(&run.suites)) }
                    td { (join(&run.sut)) } td { (join(&run.models)) } td.num { (run.rows) }
                    td.num { (run.passed) "/" (run.rows) }
                    td.num { @if run.false_greens > 0 { span class="fail" { (run.false_greens) } } @else { "0" } }
                }
            }
        }
        @if runs.len() > RUNS_LISTED {
            p.muted { (runs.len() - RUNS_LISTED) " older run(s) not listed: filter the rows below by run." }
        }
        h2 { "Rows" }
        form.filters method="get" action="/" {
            (select("suite", &distinct(|r| &r.suite), &filter.suite))
            (select("task", &distinct(|r| &r.task), &filter.task))
            (select("model", &distinct(|r| &r.builder_model), &filter.model))
            (select("sut", &distinct(|r| &r.sut), &filter.sut))
            (select("verdict", &distinct(|r| &r.hidden_verdict), &filter.verdict))
            label { "run" input name="run" value=(filter.run) size="22"; }
            label { "experiment" input name="experiment" value=(filter.experiment) size="18"; }
            label { "since" input type="date" name="since" value=(filter.since); }
            label { "until" input type="date" name="until" value=(filter.until); }
            label { "false greens only" input type="checkbox" name="false_green" value="1" checked[filter.false_green == "1"]; }
            input type="hidden" name="sort" value=(filter.sort);
            input type="hidden" name="desc" value=(filter.desc);
            button type="submit" { "Filter" }
            a href="/" { "clear" }
        }
        p {
            (kept.len()) " of " (rows.len()) " row(s)"
            @if false_greens > 0 { "; " span class="fail" { (false_greens) " false green(s)" } }
            "; page " (page + 1) " of " (pages)
            @if page > 0 { " · " a href=(link(filter, &[("page", (page - 1).to_string())])) { "← newer" } }
            @if page + 1 < pages { " · " a href=(link(filter, &[("page", (page + 1).to_string())])) { "older →" } }
        }
        table id="rows" {
            tr {
                @for (column, title) in [("timestamp", "graded"), ("task", "suite / task"), ("turn", "turn")] {
                    th { (sort_link(filter, column, title)) }
                }
                th { "rep" } th { "SUT" }
                th { (sort_link(filter, "model", "builder")) }
                th { (sort_link(filter, "verdict", "hidden")) }
                th { "claimed" }
                th { (sort_link(filter, "checks", "checks")) }
                th { (sort_link(filter, "overall", "overall")) }
                th { (sort_link(filter, "wall_seconds", "wall s")) }
            }
            @for (id, row) in shown {
                tr {
                    td { a href=(id.href()) { (row.timestamp) } }
                    td { (row.suite) " / " a href=(id.href()) { (row.task) } }
                    td.num { (row.turn) } td.num { (row.replicate) } td { (row.sut) }
                    td { (row.builder_model) }
                    td { (verdict(&row.hidden_verdict)) }
                    td { (row.claimed_verdict) @if row.false_green() { " " (false_green()) } }
                    td.num { (score(row.checks)) } td.num { (score(row.overall)) }
                    td.num { (format!("{:.1}", row.wall_seconds)) }
                }
            }
        }
    };
    frame("Results", body)
}

/// The files read, and every line of them that is not a row.
fn sources(catalog: &Catalog, rows: usize) -> Markup {
    let bad: usize = catalog.sources().iter().map(|s| s.bad.len()).sum();
    html! {
        p.muted {
            (rows) " row(s) from " (catalog.sources().len()) " file(s): "
            @for (index, source) in catalog.sources().iter().enumerate() {
                @if index > 0 { ", " }
                code { (source.path.display()) }
            }
        }
        @if catalog.sources().is_empty() {
            div.warn { "No results file found. Run " code { "swarm-gym demo" } " or " code { "swarm-gym run" } ", or name a results CSV: " code { "swarm-gym view FILE.csv" } "." }
        }
        @for source in catalog.sources() {
            @if let Some(error) = &source.error {
                div.bad { "Cannot read " code { (source.path.display()) } ": " (error) }
            }
        }
        @if bad > 0 {
            details.bad open {
                summary { (bad) " malformed line(s): shown here, left out of every table" }
                @for source in catalog.sources() {
                    @for line in &source.bad {
                        div { code { (source.path.display()) ":" (line.line) } " — " (line.message) }
                    }
                }
            }
        }
    }
}

fn select(name: &str, values: &BTreeSet<&str>, chosen: &str) -> Markup {
    html! {
        label { (name)
            select name=(name) {
                option value="" { "any" }
                @for value in values {
                    option value=(value) selected[*value == chosen] { (if value.is_empty() { "(empty)" } else { value }) }
                }
            }
        }
    }
}

fn join(values: &BTreeSet<&str>) -> String {
    values.iter().copied().collect::<Vec<_>>().join(", ")
}

fn link(filter: &Filter, changes: &[(&str, String)]) -> String {
    let query = filter.query(changes);
    if query.is_empty() {
        "/".into()
    } else {
        format!("/{query}")
    }
}

fn sort_link(filter: &Filter, column: &str, title: &str) -> Markup {
    debug_assert!(SORTS.contains(&column));
    let active = filter.sort == column || (filter.sort.is_empty() && column == "timestamp");
    let descending = if filter.sort.is_empty() {
        filter.desc != "0"
    } else {
        filter.desc == "1"
    };
    let next = if active && !descending { "1" } else { "0" };
    let href = link(
        filter,
        &[
            ("sort", column.to_string()),
            ("desc", next.to_string()),
            ("page", "0".into()),
        ],
    );
    html! {
        a href=(href) { (title) }
        @if active { (if descending { " ▾" } else { " ▴" }) }
    }
}
