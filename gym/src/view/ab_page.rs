//! One A/B experiment: what `swarm-gym report` prints (means, differences with intervals,
//! p(Holm), the detectable difference, verdicts, McNemar on hidden passes, speed, per-task
//! wins-draws-losses), then every pair with links to its two turns.

use super::catalog::{Catalog, RowId};
use super::page::{frame, score, verdict};
use crate::ab::{analyse, AbReport, HOLM_ALPHA};
use crate::results::ResultRow;
use maud::{html, Markup};
use std::collections::{BTreeMap, BTreeSet};

/// The experiment's page, or None when no row belongs to it.
pub fn render(catalog: &Catalog, experiment: &str) -> Option<Markup> {
    let arm = |label: &str| -> Vec<(RowId, &ResultRow)> {
        let wanted = format!("{experiment}:{label}");
        catalog
            .rows()
            .filter(|(_, r)| r.experiment == wanted)
            .collect()
    };
    let (a, b) = (arm("A"), arm("B"));
    if a.is_empty() && b.is_empty() {
        return None;
    }
    let owned = |rows: &[(RowId, &ResultRow)]| -> Vec<ResultRow> {
        rows.iter().map(|(_, r)| (*r).clone()).collect()
    };
    let report = analyse(experiment, &owned(&a), &owned(&b));
    let describe = |rows: &[(RowId, &ResultRow)]| {
        let models: BTreeSet<&str> = rows.iter().map(|(_, r)| r.builder_model.as_str()).collect();
        let knobs: BTreeSet<&str> = rows.iter().map(|(_, r)| r.knobs.as_str()).collect();
        format!(
            "builder {} · knobs {}",
            models.into_iter().collect::<Vec<_>>().join("/"),
            knobs.into_iter().collect::<Vec<_>>().join(" | ")
        )
    };
    let body = html! {
        h1 { "A/B " (experiment) }
        (super::page::simulated_banner(a.iter().chain(b.iter()).map(|(_, r)| r.builder_model.as_str())))
        p { b { "A" } ": " (describe(&a)) br; b { "B" } ": " (describe(&b)) }
        p.muted {
            (report.pairs) " paired turn(s) over " (report.replicates) " replicate(s)"
            @if report.unpaired > 0 { "; " (report.unpaired) " row(s) without a partner left out" }
        }
        (dimensions(&report))
        (passes(&report))
        (speed(&report))
        h2 { "Per task (overall, by replicate): wins-draws-losses for A" }
        table id="tasks" {
            tr { th { "task" } th { "A wins" } th { "draws" } th { "A losses" } }
            @for (task, wins, draws, losses) in &report.tasks {
                tr { td { (task) } td.num { (wins) } td.num { (draws) } td.num { (losses) } }
            }
        }
        (pairs(&a, &b))
    };
    Some(frame(&format!("A/B {experiment}"), body))
}

fn dimensions(report: &AbReport) -> Markup {
    let tested = report
        .dimensions
        .iter()
        .filter(|d| d.adjusted_p.is_some())
        .count();
    html! {
        h2 { "Dimensions" }
        table id="dimensions" {
            tr { th { "dimension" } th { "A" } th { "B" } th { "A − B" } th { "95% CI" } th { "p" } th { "p(Holm)" } th { "detectable" } th { "verdict" } }
            @for d in &report.dimensions {
                tr {
                    td { (d.dimension) }
                    @match &d.comparison {
                        None => { td.num { "–" } td.num { "–" } td.num { "–" } td { "–" } td.num { "–" } td.num { "–" } td.num { "–" } }
                        Some(c) => {
                            td.num { (format!("{:.1}", c.mean_a)) } td.num { (format!("{:.1}", c.mean_b)) }
                            td.num { (format!("{:+.1}", c.difference)) }
                            td { (c.interval.map(|(l, h)| format!("[{l:+.1}, {h:+.1}]")).unwrap_or_else(|| "–".into())) }
                            td.num { (c.p_value.map(|p| format!("{p:.3}")).unwrap_or_else(|| "–".into())) }
                            td.num { (d.adjusted_p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "–".into())) }
                            td.num { (c.detectable.map(|v| format!("±{v:.1}")).unwrap_or_else(|| "–".into())) }
                        }
                    }
                    td.verdict { (d.verdict) }
                }
            }
        }
        p.small.muted {
            "95% CI and p before correction; verdicts at p(Holm) < " (HOLM_ALPHA)
            "; detectable: the difference found with 80% power at Holm's strictest level (α = "
            (HOLM_ALPHA) " ÷ " (tested) " dimensions)"
        }
    }
}

fn passes(report: &AbReport) -> Markup {
    let (passed_a, passed_b, only_a, only_b, p) = report.pass_fail;
    let n = report.pairs as u64;
    let rate = |k: u64| {
        let interval = crate::stats::wilson(k, n)
            .map(|(l, h)| format!(" [{:.0}%, {:.0}%]", l * 100.0, h * 100.0))
            .unwrap_or_default();
        format!("{k}/{n}{interval}")
    };
    let (contradicted_a, contradicted_b) = report.contradictions;
    html! {
        h2 { "Hidden checks passed" }
        p id="mcnemar" { "A " (rate(passed_a)) ", B " (rate(passed_b)) "; only A " (only_a) ", only B " (only_b) "; McNemar exact p = " (format!("{p:.3}")) }
        @if contradicted_a + contradicted_b > 0 {
            div.warn { "The judge contradicts the hidden checks on " (contradicted_a) " row(s) of A and " (contradicted_b) " of B: read the judged dimensions with care." }
        }
    }
}

fn speed(report: &AbReport) -> Markup {
    let arm = |v: Option<(f64, f64)>| {
        v.map(|(m, p)| format!("{m:.2} / {p:.2}"))
            .unwrap_or_else(|| "–".into())
    };
    html! {
        h2 { "Speed per turn" }
        table {
            tr { th { "measure" } th { "A median / p90" } th { "B median / p90" } th { "A − B paired mean [95% CI]" } }
            @for line in &report.speed {
                tr {
                    td { (line.measure) } td.num { (arm(line.a)) } td.num { (arm(line.b)) }
                    td { (line.comparison.as_ref().map(|c| format!("{:+.2}{}", c.difference, c.interval.map(|(l, h)| format!(" [{l:+.2}, {h:+.2}]")).unwrap_or_default())).unwrap_or_else(|| "–".into())) }
                }
            }
        }
    }
}

fn pairs(a: &[(RowId, &ResultRow)], b: &[(RowId, &ResultRow)]) -> Markup {
    type Key = (String, String, u32, u32);
    type Side<'a> = Option<(RowId, &'a ResultRow)>;
    let key = |r: &ResultRow| -> Key { (r.suite.clone(), r.task.clone(), r.turn, r.replicate) };
    let mut by_key: BTreeMap<Key, (Side, Side)> = BTreeMap::new();
    for (id, row) in a {
        by_key.entry(key(row)).or_default().0 = Some((*id, row));
    }
    for (id, row) in b {
        by_key.entry(key(row)).or_default().1 = Some((*id, row));
    }
    let cell = |side: &Option<(RowId, &ResultRow)>| -> Markup {
        match side {
            None => html! { td.muted { "no row" } },
            Some((id, row)) => html! {
                td { a href=(id.href()) { (verdict(&row.hidden_verdict)) " · overall " (score(row.overall)) }
                     @if row.false_green() { " " (super::page::false_green()) } }
            },
        }
    };
    html! {
        h2 { "Pairs" }
        table id="pairs" {
            tr { th { "suite / task" } th { "turn" } th { "replicate" } th { "A" } th { "B" } }
            @for ((suite, task, turn, replicate), (in_a, in_b)) in &by_key {
                tr { td { (suite) " / " (task) } td.num { (turn) } td.num { (replicate) } (cell(in_a)) (cell(in_b)) }
            }
        }
    }
}
