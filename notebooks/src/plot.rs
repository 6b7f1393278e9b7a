//! Figures, each drawn once per backend: an SVG and a PNG with the same content, plus a JSON
//! file of exactly the values plotted (so a figure can be checked against its CSV).
//!
//! Text needs a TrueType font, read at run time: `SWARM_GYM_FONT`, else DejaVu Sans or
//! Liberation Sans where Debian and other distributions put them. Without one no figure is
//! drawn and the error says how to get one; the Markdown report is still written.

use crate::abchart::AbChart;
use crate::knobs::KnobEffect;
use crate::trends::Series;
use crate::NotebookError;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The variable naming a TrueType font file for figure text.
pub const FONT_ENV: &str = "SWARM_GYM_FONT";

const FONT_PATHS: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
];

const FAMILY: &str = "sans-serif";

/// Colours of the series, in order (colour-blind-safe, Okabe–Ito).
const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// Registers a font once per process; the error says how to provide one.
fn ensure_font() -> Result<(), String> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let mut candidates: Vec<PathBuf> = Vec::new();
            if let Ok(path) = std::env::var(FONT_ENV) {
                candidates.push(path.into());
            }
            candidates.extend(FONT_PATHS.iter().map(PathBuf::from));
            for path in &candidates {
                if let Ok(bytes) = std::fs::read(path) {
                    // The font lives as long as the process: figures may be drawn at any time.
                    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                    if plotters::style::register_font(FAMILY, FontStyle::Normal, bytes).is_ok() {
                        return Ok(());
                    }
                }
            }
            Err(format!(
                "no TrueType font for figure text: install fonts-dejavu-core (Debian/Ubuntu) or set {FONT_ENV}=/path/to/font.ttf"
            ))
        })
        .clone()
}

/// The files of one figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// The SVG.
    pub svg: PathBuf,
    /// The PNG.
    pub png: PathBuf,
    /// The plotted values, as JSON.
    pub data: PathBuf,
}

fn draw_both<T: Serialize>(
    stem: &Path,
    size: (u32, u32),
    values: &T,
    draw_svg: impl Fn(DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
    draw_png: impl Fn(DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<Figure, NotebookError> {
    // Appended, not `with_extension`: a stem may hold dots (`knob-node.stall_timeout_s`).
    let with = |extension: &str| {
        let mut name = stem.as_os_str().to_os_string();
        name.push(".");
        name.push(extension);
        PathBuf::from(name)
    };
    let figure = Figure {
        svg: with("svg"),
        png: with("png"),
        data: with("json"),
    };
    let fail = |path: &Path, message: String| NotebookError::Plot {
        path: path.to_path_buf(),
        message,
    };
    ensure_font().map_err(|m| fail(&figure.svg, m))?;
    if let Some(parent) = stem.parent() {
        std::fs::create_dir_all(parent).map_err(|source| NotebookError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    draw_svg(SVGBackend::new(&figure.svg, size).into_drawing_area())
        .map_err(|m| fail(&figure.svg, m))?;
    draw_png(BitMapBackend::new(&figure.png, size).into_drawing_area())
        .map_err(|m| fail(&figure.png, m))?;
    let json =
        serde_json::to_string_pretty(values).map_err(|e| fail(&figure.data, e.to_string()))?;
    std::fs::write(&figure.data, json).map_err(|source| NotebookError::Io {
        path: figure.data.clone(),
        source,
    })?;
    Ok(figure)
}

fn text<E: std::fmt::Debug>(err: E) -> String {
    format!("{err:?}")
}

/// Score trends: one panel per dimension, a line per (model, suite, SUT) through the nightly
/// means, a bar from the lowest to the highest replicate mean.
pub fn trends(series: &[Series], stem: &Path, note: &str) -> Result<Figure, NotebookError> {
    let size = (1600, 900);
    draw_both(
        stem,
        size,
        &series,
        |area| draw_trends(area, series, note),
        |area| draw_trends(area, series, note),
    )
}

fn draw_trends<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    series: &[Series],
    note: &str,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let root = root
        .titled(&format!("Score trends by night{note}"), (FAMILY, 24))
        .map_err(text)?;
    let mut nights: Vec<&str> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.night.as_str()))
        .collect();
    nights.sort();
    nights.dedup();
    let mut groups: Vec<String> = series.iter().map(Series::label).collect();
    groups.sort();
    groups.dedup();
    let dimensions = crate::trends::trended_dimensions();
    // The legend gets its own strip under the title: one colour per model / suite / SUT.
    let (legend, body) = root.split_vertically(12 + 18 * groups.len() as u32);
    for (index, group) in groups.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let y = 4 + 18 * index as i32;
        legend
            .draw(&Rectangle::new([(10, y), (24, y + 12)], colour.filled()))
            .map_err(text)?;
        legend
            .draw(&Text::new(group.clone(), (30, y), (FAMILY, 14)))
            .map_err(text)?;
    }
    let panels = body.split_evenly((2, 4));
    for (panel, dimension) in panels.iter().zip(&dimensions) {
        let width = nights.len().max(1) as f64;
        let mut chart = ChartBuilder::on(panel)
            .caption(*dimension, (FAMILY, 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(35)
            .build_cartesian_2d(-0.5..width - 0.5, 0.0..10.5)
            .map_err(text)?;
        let label_of = |x: &f64| {
            let index = x.round();
            if (x - index).abs() > 0.01 || index < 0.0 {
                return String::new();
            }
            nights
                .get(index as usize)
                .map(|n| n.get(5..).unwrap_or(n).to_string())
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .x_labels(nights.len().clamp(2, 8))
            .x_label_formatter(&label_of)
            .y_labels(6)
            .label_style((FAMILY, 12))
            .draw()
            .map_err(text)?;
        if !series.iter().any(|s| s.dimension == *dimension) {
            chart
                .draw_series(std::iter::once(Text::new(
                    "no values (not scored in these rows)",
                    (-0.4, 5.0),
                    (FAMILY, 14),
                )))
                .map_err(text)?;
        }
        for one in series.iter().filter(|s| s.dimension == *dimension) {
            let index = groups.iter().position(|g| *g == one.label()).unwrap_or(0);
            let colour = COLOURS[index % COLOURS.len()];
            // Each group a little to the side, so equal values stay visible as separate marks.
            let offset = (index as f64 - (groups.len() as f64 - 1.0) / 2.0) * 0.04;
            let at =
                |night: &str| nights.iter().position(|n| *n == night).unwrap_or(0) as f64 + offset;
            let line: Vec<(f64, f64)> = one.points.iter().map(|p| (at(&p.night), p.mean)).collect();
            chart
                .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))
                .map_err(text)?;
            chart
                .draw_series(line.iter().map(|xy| Circle::new(*xy, 4, colour.filled())))
                .map_err(text)?;
            chart
                .draw_series(one.points.iter().map(|p| {
                    let x = at(&p.night);
                    PathElement::new(vec![(x, p.min), (x, p.max)], colour.stroke_width(2))
                }))
                .map_err(text)?;
        }
    }
    root.present().map_err(text)
}

/// An A/B experiment: per dimension, the difference A − B as a point with its 95% interval.
pub fn ab(chart: &AbChart, stem: &Path, note: &str) -> Result<Figure, NotebookError> {
    let height = 160 + 60 * chart.dimensions.len() as u32;
    draw_both(
        stem,
        (1000, height),
        chart,
        |area| draw_ab(area, chart, note),
        |area| draw_ab(area, chart, note),
    )
}

fn draw_ab<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    chart: &AbChart,
    note: &str,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let rows = chart.dimensions.len().max(1) as f64;
    let title = format!(
        "A/B {}: A = {} vs B = {}{note}",
        chart.experiment, chart.models_a, chart.models_b
    );
    let names: Vec<&str> = chart
        .dimensions
        .iter()
        .map(|d| d.dimension.as_str())
        .collect();
    let label_of = |y: &f64| {
        let index = (y - 0.5).round();
        if (y - 0.5 - index).abs() > 0.01 || index < 0.0 {
            return String::new();
        }
        // Row 0 is drawn at the top.
        let from_top = rows as usize - 1 - index as usize;
        names
            .get(from_top)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    let mut plot = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 18))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(120)
        .build_cartesian_2d(-10.5..10.5, 0.0..rows)
        .map_err(text)?;
    plot.configure_mesh()
        .y_labels(chart.dimensions.len() * 2 + 1)
        .y_label_formatter(&label_of)
        .x_desc("A − B (points on 0–10), 95% interval clustered by task")
        .label_style((FAMILY, 14))
        .draw()
        .map_err(text)?;
    plot.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (0.0, rows)],
        BLACK.stroke_width(1),
    )))
    .map_err(text)?;
    for (index, dimension) in chart.dimensions.iter().enumerate() {
        let y = rows - index as f64 - 0.5;
        let colour = if dimension.interval.is_some_and(|(lo, _)| lo > 0.0) {
            COLOURS[2]
        } else if dimension.interval.is_some_and(|(_, hi)| hi < 0.0) {
            COLOURS[1]
        } else {
            COLOURS[0]
        };
        if let Some((lo, hi)) = dimension.interval {
            plot.draw_series(std::iter::once(PathElement::new(
                vec![(lo.max(-10.5), y), (hi.min(10.5), y)],
                colour.stroke_width(3),
            )))
            .map_err(text)?;
        }
        plot.draw_series(std::iter::once(Circle::new(
            (dimension.difference, y),
            6,
            colour.filled(),
        )))
        .map_err(text)?;
    }
    root.present().map_err(text)
}

/// A knob's effect: `cluster` and `checks` at each value, with the range of sample means.
pub fn knob(effect: &KnobEffect, stem: &Path, note: &str) -> Result<Figure, NotebookError> {
    draw_both(
        stem,
        (900, 500),
        effect,
        |area| draw_knob(area, effect, note),
        |area| draw_knob(area, effect, note),
    )
}

fn draw_knob<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    effect: &KnobEffect,
    note: &str,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(text)?;
    let values: Vec<&str> = effect.points.iter().map(|p| p.value.as_str()).collect();
    let label_of = |x: &f64| {
        let index = x.round();
        if (x - index).abs() > 0.01 || index < 0.0 {
            return String::new();
        }
        values
            .get(index as usize)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    let mut plot = ChartBuilder::on(&root)
        .caption(
            format!("knob {} (SUT {}){note}", effect.knob, effect.sut),
            (FAMILY, 18),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(40)
        .build_cartesian_2d(-0.5..values.len() as f64 - 0.5, 0.0..10.5)
        .map_err(text)?;
    plot.configure_mesh()
        .x_labels(values.len().max(2))
        .x_label_formatter(&label_of)
        .x_desc("value")
        .y_desc("score")
        .label_style((FAMILY, 14))
        .draw()
        .map_err(text)?;
    type Pick = fn(&crate::knobs::KnobPoint) -> Option<(f64, f64, f64)>;
    let lines: [(&str, Pick, RGBColor, f64); 2] = [
        ("cluster", |p| p.cluster, COLOURS[0], -0.05),
        ("checks", |p| p.checks, COLOURS[1], 0.05),
    ];
    for (name, pick, colour, offset) in lines {
        let points: Vec<(f64, (f64, f64, f64))> = effect
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i as f64 + offset, pick(p)?)))
            .collect();
        plot.draw_series(LineSeries::new(
            points.iter().map(|(x, (m, _, _))| (*x, *m)),
            colour.stroke_width(2),
        ))
        .map_err(text)?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        plot.draw_series(
            points
                .iter()
                .map(|(x, (m, _, _))| Circle::new((*x, *m), 5, colour.filled())),
        )
        .map_err(text)?;
        plot.draw_series(points.iter().map(|(x, (_, lo, hi))| {
            PathElement::new(vec![(*x, *lo), (*x, *hi)], colour.stroke_width(2))
        }))
        .map_err(text)?;
    }
    plot.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FAMILY, 14))
        .draw()
        .map_err(text)?;
    root.present().map_err(text)
}
