//! The simulator's figures as people read them: a table per scenario, the medians, a CSV and
//! an SVG chart. Every line says the figures are simulated.

use super::{median, Figures};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// The first line of every output.
pub const LABEL: &str =
    "SIMULATED: the pipeline's scheduler on virtual time (swarm fleet simulate); no model server ran";

/// One scenario measured under the policy and, when given, under the old greedy one.
pub struct Row<'a> {
    /// Under the policy.
    pub policy: &'a Figures,
    /// Under the old greedy policy.
    pub greedy: Option<&'a Figures>,
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The table: one line per scenario, then the medians.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{LABEL}");
    let _ = writeln!(
        out,
        "{:<24} {:>5} {:>5} {:>9} {:>7} {:>7} {:>9} {:>6} {:>6} {:>7}",
        "scenario",
        "tasks",
        "slots",
        "makespan",
        "÷bound",
        "÷HEFT",
        "occupancy",
        "width",
        "cache",
        "greedy"
    );
    for row in rows {
        let f = row.policy;
        let _ = writeln!(
            out,
            "{:<24} {:>5} {:>5} {:>8.0}s {:>7.2} {:>7} {:>9} {:>6.1} {:>6} {:>7}",
            f.scenario.label(),
            f.scenario.tasks,
            f.slots,
            f.measured.makespan,
            f.over_bound(),
            f.over_heft()
                .map(|h| format!("{h:.2}"))
                .unwrap_or_else(|| "—".into()),
            percent(f.measured.occupancy()),
            f.parallelism,
            percent(f.measured.cache_share()),
            row.greedy
                .map(|g| format!("{:.2}", g.over_bound()))
                .unwrap_or_else(|| "—".into()),
        );
    }
    out.push_str(&summary(rows));
    out
}

/// Medians over the scenarios, and the occupancy where the DAG is wide enough.
pub fn summary(rows: &[Row]) -> String {
    let mut out = String::new();
    let collect =
        |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<f64> { rows.iter().filter_map(f).collect() };
    let show = |mut v: Vec<f64>, digits: usize| {
        median(&mut v)
            .map(|m| format!("{m:.digits$}"))
            .unwrap_or_else(|| "—".into())
    };
    let bound = collect(&|r| Some(r.policy.over_bound()));
    let heft = collect(&|r| r.policy.over_heft());
    let greedy = collect(&|r| r.greedy.map(|g| g.over_bound()));
    let wide: Vec<&Row> = rows.iter().filter(|r| r.policy.width_allows()).collect();
    let mut occupancy: Vec<f64> = wide.iter().map(|r| r.policy.measured.occupancy()).collect();
    let cache = collect(&|r| Some(r.policy.measured.cache_share()));
    let decisions: u64 = rows.iter().map(|r| r.policy.measured.decisions).sum();
    let seconds: f64 = rows.iter().map(|r| r.policy.measured.decide_seconds).sum();
    let _ = writeln!(
        out,
        "median over {} scenario(s) (simulated): makespan ÷ bound {}, ÷ HEFT {} ({} without faults), occupancy {} where the DAG is wide enough ({} scenario(s); elsewhere the width caps it), cache hit {}; old greedy policy ÷ bound {}",
        rows.len(),
        show(bound, 3),
        show(heft.clone(), 3),
        heft.len(),
        median(&mut occupancy)
            .map(percent)
            .unwrap_or_else(|| "—".into()),
        wide.len(),
        median(&mut cache.clone())
            .map(percent)
            .unwrap_or_else(|| "—".into()),
        show(greedy, 3),
    );
    if decisions > 0 {
        let _ = writeln!(
            out,
            "scheduler: {decisions} decision(s), {:.1} µs each on average (wall of this machine)",
            seconds * 1e6 / decisions as f64
        );
    }
    let _ = writeln!(
        out,
        "columns: ÷bound = makespan ÷ max(critical path alone on the fastest node, all work ÷ fleet throughput); ÷HEFT = makespan ÷ HEFT's planned offline with the true durations and run in the same simulation; occupancy = slot-seconds held by tasks ÷ slot-seconds offered; width = total work ÷ critical path, in slots (below the slots column the DAG cannot fill the fleet); cache = prompt tokens served from a slot's cache; greedy = the old policy's ÷bound"
    );
    out
}

/// One CSV line per scenario.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from("simulated,scenario,shape,tasks,fleet,seed,slots,bound_s,makespan_s,over_bound,over_heft,occupancy,parallelism,cache_share,greedy_over_bound,reroutes\n");
    for row in rows {
        let f = row.policy;
        let _ = writeln!(
            out,
            "true,{},{},{},{},{},{},{:.3},{:.3},{:.4},{},{:.4},{:.3},{:.4},{},{}",
            f.scenario.label(),
            f.scenario.shape,
            f.scenario.tasks,
            f.scenario.fleet,
            f.scenario.seed,
            f.slots,
            f.bound,
            f.measured.makespan,
            f.over_bound(),
            f.over_heft().map(|h| format!("{h:.4}")).unwrap_or_default(),
            f.measured.occupancy(),
            f.parallelism,
            f.measured.cache_share(),
            row.greedy
                .map(|g| format!("{:.4}", g.over_bound()))
                .unwrap_or_default(),
            f.measured.reroutes,
        );
    }
    out
}

/// A chart of makespan ÷ bound per scenario (the policy, HEFT, the old greedy policy),
/// written as SVG to `path`.
pub fn chart(rows: &[Row], path: &Path) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    let top = rows
        .iter()
        .flat_map(|r| {
            [
                Some(r.policy.over_bound()),
                r.policy.heft.as_ref().map(|h| h.makespan / r.policy.bound),
                r.greedy.map(|g| g.over_bound()),
            ]
        })
        .flatten()
        .fold(1.5_f64, f64::max)
        .min(6.0);
    let root = SVGBackend::new(path, (1100, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "SIMULATED: makespan ÷ lower bound per scenario",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..rows.len().max(1) as f64, 0.9f64..top + 0.1)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("scenario (in table order)")
        .y_desc("makespan ÷ bound")
        .draw()
        .map_err(|e| fail(&e))?;
    type Value = Box<dyn Fn(&Row) -> Option<f64>>;
    let series: [(&str, RGBColor, Value); 3] = [
        (
            "policy (eft)",
            BLUE,
            Box::new(|r: &Row| Some(r.policy.over_bound())),
        ),
        (
            "HEFT, true durations",
            GREEN,
            Box::new(|r: &Row| r.policy.heft.as_ref().map(|h| h.makespan / r.policy.bound)),
        ),
        (
            "old greedy",
            RED,
            Box::new(|r: &Row| r.greedy.map(|g| g.over_bound())),
        ),
    ];
    for (name, color, value) in series {
        let points: Vec<(f64, f64)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| value(r).map(|v| (i as f64 + 0.5, v.min(top))))
            .collect();
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
            .map_err(|e| fail(&e))?
            .label(name)
            .legend(move |(x, y)| Circle::new((x, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}
