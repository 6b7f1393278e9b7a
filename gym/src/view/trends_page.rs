//! The nightly trends: regressions first (the newest night of a series below its rolling
//! baseline by more than the noise allows, as `swarm-gym nightly` and `report --html` judge
//! it), then every (model, suite, SUT) as one small chart per dimension (0–10, a point per
//! night with its min–max range, each point a link to that night's rows) and a table of
//! nights × dimensions, each night linking to its rows.

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
            div.charts {
                @for s in members {
                    @let regressed = judged.iter().any(|(j, judgement)| std::ptr::eq(*j, *s) && matches!(judgement, Judgement::Regression(_)));
                    (chart(s, regressed))
                }
            }
            (night_table(members))
        }
    }
}

/// Chart size and margins, in pixels.
const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 96.0;
const LEFT: f64 = 22.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 8.0;

/// One dimension of a series over its nights on the fixed 0–10 scale (nothing drawn outside
/// it): the means joined by a line, each night's min–max as a bar, each point a link to the
/// night's rows with its figures in a tooltip. A regressed series is drawn in red.
fn chart(s: &Series, regressed: bool) -> Markup {
    let n = s.points.len();
    let x = |i: usize| {
        if n <= 1 {
            LEFT + (WIDTH - LEFT) / 2.0
        } else {
            LEFT + 6.0 + (WIDTH - LEFT - 12.0) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - v.clamp(0.0, 10.0) / 10.0);
    let line: Vec<String> = s
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.mean)))
        .collect();
    let class = if regressed {
        "trend regressed"
    } else {
        "trend"
    };
    html! {
        svg class=(class) width=(WIDTH) height=(HEIGHT) viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" {
            title { (s.dimension) " of " (s.label()) ", nights " (s.points.first().map(|p| p.night.as_str()).unwrap_or("")) " to " (s.points.last().map(|p| p.night.as_str()).unwrap_or("")) }
            text x="2" y="11" class="name" { (s.dimension) @if regressed { " — REGRESSION" } }
            line.axis x1=(LEFT) y1=(y(10.0)) x2=(WIDTH) y2=(y(10.0)) {}
            line.axis x1=(LEFT) y1=(y(0.0)) x2=(WIDTH) y2=(y(0.0)) {}
            text x="2" y=(y(10.0) + 4.0) { "10" }
            text x="8" y=(y(0.0) + 4.0) { "0" }
            polyline.mean points=(line.join(" ")) {}
            @for (i, p) in s.points.iter().enumerate() {
                a href=(night_link(s, &p.night)) {
                    line.range x1=(format!("{:.1}", x(i))) y1=(format!("{:.1}", y(p.min))) x2=(format!("{:.1}", x(i))) y2=(format!("{:.1}", y(p.max))) {}
                    circle.point cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(p.mean))) r="3.5" {
                        title { (p.night) ": " (format!("{:.2}", p.mean)) " (min " (format!("{:.2}", p.min)) ", max " (format!("{:.2}", p.max)) ", " (p.samples) " sample(s))" }
                    }
                }
            }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use notebooks::trends::TrendPoint;

    fn point(night: &str, mean: f64, min: f64, max: f64) -> TrendPoint {
        TrendPoint {
            night: night.into(),
            mean,
            min,
            max,
            sd: None,
            samples: 2,
        }
    }

    #[test]
    fn a_chart_links_each_night_and_stays_on_the_scale() {
        let s = Series {
            model: "m".into(),
            suite: "smoke".into(),
            sut: "swarm".into(),
            dimension: "checks".into(),
            points: vec![
                point("2026-11-28", 9.0, 8.0, 10.0),
                point("2026-11-29", 9.5, 9.0, 10.0),
                // A range past the scale (as an interval could be) is drawn at its edge.
                point("2026-11-30", 4.0, -3.0, 14.0),
            ],
        };
        let svg = chart(&s, true).into_string();
        for night in ["2026-11-28", "2026-11-29", "2026-11-30"] {
            assert!(svg.contains(&format!("night={night}")), "{svg}");
        }
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("REGRESSION") && svg.contains("trend regressed"));
        let ys: Vec<f64> = svg
            .split(['"'])
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[0].ends_with(" y1=") || w[0].ends_with(" y2=") || w[0].ends_with(" cy="))
            .map(|w| w[1].parse::<f64>().unwrap())
            .collect();
        assert!(!ys.is_empty());
        assert!(
            ys.iter().all(|y| (TOP..=HEIGHT - BOTTOM).contains(y)),
            "every point inside the 0–10 scale: {ys:?}"
        );
    }
}
