//! The nightly trends: regressions first (the newest night of a series below its rolling
//! baseline by more than the noise allows, as `swarm-gym nightly` and `report --html` judge
//! it), then every (model, suite, SUT) as a table of nights × dimensions, each night linking
//! to its rows.

use super::catalog::{Catalog, Filter};
use super::page::frame;
use maud::{html, Markup};
use notebooks::trends::{judge, series, Judgement, Series};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Earlier nights in a regression's baseline (as `swarm-gym report` defaults).
const BASELINE_NIGHTS: usize = 7;

/// The trends page.
pub fn render(catalog: &Catalog) -> Markup {
    let files: Vec<PathBuf> = catalog
        .sources()
        .iter()
        .filter(|s| s.error.is_none())
        .map(|s| s.path.clone())
        .collect();
    let loaded = notebooks::data::load(&files).and_then(|data| Ok((series(&data)?, data.skipped)));
    let body = match loaded {
        Err(err) => html! { h1 { "Trends" } div.bad { "Cannot compute the trends: " (err) } },
        Ok((all, skipped)) => page(&all, &skipped),
    };
    frame("Trends", body)
}

fn page(all: &[Series], skipped: &[String]) -> Markup {
    let judged: Vec<(&Series, Judgement)> =
        all.iter().map(|s| (s, judge(s, BASELINE_NIGHTS))).collect();
    let regressions: Vec<&(&Series, Judgement)> = judged
        .iter()
        .filter(|(_, j)| matches!(j, Judgement::Regression(_)))
        .collect();
    let mut groups: BTreeMap<(String, String, String), Vec<&Series>> = BTreeMap::new();
    for s in all {
        groups
            .entry((s.model.clone(), s.suite.clone(), s.sut.clone()))
            .or_default()
            .push(s);
    }
    html! {
        h1 { "Trends" }
        p.muted { "One point per night: the mean of its samples (replicates). A regression: the newest night below the mean of up to "
            (BASELINE_NIGHTS) " earlier nights by more than twice the noise (and at least 0.25)." }
        @if !skipped.is_empty() {
            details.bad { summary { (skipped.len()) " row(s) left out" } @for line in skipped { div { (line) } } }
        }
        h2 { "Regressions" }
        @if regressions.is_empty() {
            p id="no-regressions" { "None in the newest nights." }
        } @else {
            table id="regressions" {
                tr { th { "model / suite / SUT" } th { "dimension" } th { "night" } th { "newest" } th { "baseline" } th { "drop" } th { "threshold" } th { "noise" } }
                @for (s, judgement) in regressions.iter().map(|item| (&item.0, &item.1)) {
                    @if let Judgement::Regression(c) = judgement {
                        tr {
                            td { a href=(night_link(s, &c.night)) { (s.label()) } }
                            td { (s.dimension) } td { (c.night) }
                            td.num { (format!("{:.2}", c.newest)) } td.num { (format!("{:.2}", c.baseline)) }
                            td.num.fail { (format!("{:.2}", c.drop)) } td.num { (format!("{:.2}", c.threshold)) }
                            td.small { (c.noise) }
                        }
                    }
                }
            }
        }
        @if groups.is_empty() { p.muted { "No rows to trend." } }
        @for ((model, suite, sut), members) in &groups {
            h2 { (model) " / " (suite) " / " (sut) }
            (night_table(members))
        }
    }
}

fn night_table(members: &[&Series]) -> Markup {
    let mut nights: Vec<&str> = members
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.night.as_str()))
        .collect();
    nights.sort_unstable();
    nights.dedup();
    let Some(first) = members.first() else {
        return html! {};
    };
    html! {
        table {
            tr { th { "night" } @for s in members { th { (s.dimension) } } th { "samples" } }
            @for night in nights.iter().rev() {
                tr {
                    td { a href=(night_link(first, night)) { (night) } }
                    @for s in members {
                        @let point = s.points.iter().find(|p| p.night == *night);
                        td.num title=(point.map(|p| format!("min {:.2}, max {:.2}", p.min, p.max)).unwrap_or_default()) {
                            (point.map(|p| format!("{:.2}", p.mean)).unwrap_or_else(|| "–".into()))
                        }
                    }
                    td.num { (members.iter().filter_map(|s| s.points.iter().find(|p| p.night == *night)).map(|p| p.samples).max().unwrap_or(0)) }
                }
            }
        }
    }
}

fn night_link(s: &Series, night: &str) -> String {
    let filter = Filter {
        model: s.model.clone(),
        suite: s.suite.clone(),
        sut: s.sut.clone(),
        night: night.to_string(),
        ..Filter::default()
    };
    format!("/{}", filter.query(&[]))
}
