//! The report: every analysis over one dataset, written as `report.md` and `report.html`
//! (one page with the figures inline by reference) beside the figures.
//!
//! Order: regressions first (what a nightly alert is about), then trends, A/B experiments
//! and knob effects. Rows from simulated models (`sim-*`, served by swarm-sim) make every
//! title say SIMULATED.

use crate::data::Dataset;
use crate::plot::Figure;
use crate::trends::{judge, Judgement, Series};
use crate::NotebookError;
use std::path::{Path, PathBuf};

/// How the report is made.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Earlier nights in a regression's rolling baseline.
    pub window: usize,
    /// The page's title.
    pub title: String,
    /// Judge only series that ran on this night (a nightly run's report: a model dropped
    /// from the plan weeks ago is not tonight's regression).
    pub night: Option<String>,
    /// Dimensions not judged for regressions, with why (the judged dimensions when tonight's
    /// judge failed its calibration).
    pub left_out: Vec<(String, String)>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            window: 7,
            title: "swarm-gym report".into(),
            night: None,
            left_out: Vec::new(),
        }
    }
}

/// A regression found, for whoever must alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Regression {
    /// `model / suite / sut`.
    pub series: String,
    /// The dimension.
    pub dimension: String,
    /// The figures.
    pub comparison: crate::trends::Comparison,
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// `report.md`.
    pub markdown: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
    /// Every figure.
    pub figures: Vec<Figure>,
    /// Regressions of the newest night, worst first.
    pub regressions: Vec<Regression>,
    /// Figures that could not be drawn, with why (the report says so too).
    pub figure_errors: Vec<String>,
}

/// One block of the document, rendered to Markdown and to HTML alike.
enum Block {
    Heading(String),
    Paragraph(String),
    Table(Vec<String>, Vec<Vec<String>>),
    Image(String, String),
}

fn fmt(value: f64) -> String {
    format!("{value:.2}")
}

/// True when any row came from a simulated (swarm-sim) model.
pub fn is_simulated(data: &Dataset) -> Result<bool, NotebookError> {
    Ok(crate::data::strings(&data.frame, "builder_model")?
        .iter()
        .any(|m| m.starts_with("sim-")))
}

/// Analyses `data` and writes the report and figures into `dir`.
pub fn write(
    data: &Dataset,
    dir: &Path,
    options: &ReportOptions,
) -> Result<Written, NotebookError> {
    std::fs::create_dir_all(dir).map_err(|source| NotebookError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let simulated = is_simulated(data)?;
    let note = if simulated {
        " — SIMULATED fleet"
    } else {
        ""
    };
    let mut blocks = vec![Block::Heading(format!("{}{note}", options.title))];
    if simulated {
        blocks.push(Block::Paragraph("SIMULATED: some rows come from scripted swarm-sim models (`sim-*`). Their code was really built and graded, but the models are scripts, not language models.".into()));
    }
    let sources: std::collections::BTreeSet<String> = crate::data::strings(&data.frame, "source")?
        .into_iter()
        .collect();
    blocks.push(Block::Paragraph(format!(
        "{} row(s) from {}.{}",
        data.frame.height(),
        sources.into_iter().collect::<Vec<_>>().join(", "),
        if data.skipped.is_empty() {
            String::new()
        } else {
            format!(
                " {} unreadable row(s) left out: {}.",
                data.skipped.len(),
                data.skipped.join("; ")
            )
        }
    )));
    let mut figures = Vec::new();
    let mut figure_errors = Vec::new();
    let mut add_figure = |result: Result<Figure, NotebookError>,
                          caption: &str,
                          blocks: &mut Vec<Block>| match result {
        Ok(figure) => {
            let name = figure
                .svg
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            blocks.push(Block::Image(caption.to_string(), name));
            figures.push(figure);
        }
        Err(err) => {
            blocks.push(Block::Paragraph(format!("(figure not drawn: {err})")));
            figure_errors.push(err.to_string());
        }
    };

    // Regressions first.
    let all_series = crate::trends::series(data)?;
    let mut regressions = Vec::new();
    let mut judged: Vec<(&Series, Judgement)> = Vec::new();
    for one in &all_series {
        let newest = one.points.last().map(|p| p.night.as_str());
        let left_out = options.left_out.iter().find(|(d, _)| *d == one.dimension);
        let judgement = match (&options.night, left_out) {
            (_, Some((_, why))) => Judgement::Unjudged {
                reason: why.clone(),
            },
            (Some(night), _) if newest != Some(night.as_str()) => Judgement::Unjudged {
                reason: format!("did not run on {night}"),
            },
            _ => judge(one, options.window),
        };
        if let Judgement::Regression(comparison) = &judgement {
            regressions.push(Regression {
                series: one.label(),
                dimension: one.dimension.clone(),
                comparison: comparison.clone(),
            });
        }
        judged.push((one, judgement));
    }
    regressions.sort_by(|a, b| b.comparison.drop.total_cmp(&a.comparison.drop));
    blocks.push(Block::Heading("Regressions".into()));
    if regressions.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "No regression: no newest night fell below its baseline (up to {} earlier nights) by more than max(2 × replicate noise, {}).",
            options.window,
            crate::trends::MIN_DROP
        )));
    } else {
        blocks.push(Block::Paragraph(format!(
            "{} REGRESSION(S) on the newest night, worst first:",
            regressions.len()
        )));
        blocks.push(Block::Table(
            [
                "model / suite / SUT",
                "dimension",
                "night",
                "newest",
                "baseline",
                "drop",
                "threshold",
                "baseline nights",
                "noise",
            ]
            .map(String::from)
            .to_vec(),
            regressions
                .iter()
                .map(|r| {
                    vec![
                        r.series.clone(),
                        r.dimension.clone(),
                        r.comparison.night.clone(),
                        fmt(r.comparison.newest),
                        fmt(r.comparison.baseline),
                        fmt(r.comparison.drop),
                        fmt(r.comparison.threshold),
                        r.comparison.baseline_nights.to_string(),
                        r.comparison.noise.clone(),
                    ]
                })
                .collect(),
        ));
    }

    blocks.push(Block::Heading("Score trends".into()));
    if all_series.is_empty() {
        blocks.push(Block::Paragraph("No scored rows.".into()));
    } else {
        add_figure(
            crate::plot::trends(&all_series, &dir.join("trends"), note),
            "Mean score per night (line), lowest to highest replicate mean (bar)",
            &mut blocks,
        );
        blocks.push(Block::Table(
            [
                "model / suite / SUT",
                "dimension",
                "nights",
                "newest night",
                "mean",
                "replicate range",
                "replicates",
                "against baseline",
            ]
            .map(String::from)
            .to_vec(),
            judged
                .iter()
                .filter_map(|(one, judgement)| {
                    let last = one.points.last()?;
                    let verdict = match judgement {
                        Judgement::Regression(c) => {
                            format!("REGRESSION: −{} vs {}", fmt(c.drop), fmt(c.baseline))
                        }
                        Judgement::Steady(c) => {
                            format!("steady ({:+.2} vs {})", -c.drop, fmt(c.baseline))
                        }
                        Judgement::Unjudged { reason } => format!("unjudged: {reason}"),
                    };
                    Some(vec![
                        one.label(),
                        one.dimension.clone(),
                        one.points.len().to_string(),
                        last.night.clone(),
                        fmt(last.mean),
                        format!("{}–{}", fmt(last.min), fmt(last.max)),
                        last.samples.to_string(),
                        verdict,
                    ])
                })
                .collect(),
        ));
    }

    blocks.push(Block::Heading("A/B experiments".into()));
    let charts = crate::abchart::charts(data)?;
    if charts.is_empty() {
        blocks.push(Block::Paragraph("No A/B rows.".into()));
    }
    for chart in &charts {
        blocks.push(Block::Paragraph(format!(
            "Experiment {}: A = {}, B = {}{}",
            chart.experiment,
            chart.models_a,
            chart.models_b,
            if chart.unpaired > 0 {
                format!(" ({} unit(s) in one arm only, not paired)", chart.unpaired)
            } else {
                String::new()
            }
        )));
        add_figure(
            crate::plot::ab(
                chart,
                &dir.join(format!("ab-{}", safe(&chart.experiment))),
                note,
            ),
            &format!("A − B per dimension, experiment {}", chart.experiment),
            &mut blocks,
        );
        blocks.push(Block::Table(
            ["dimension", "pairs", "A", "B", "A − B", "95% interval"]
                .map(String::from)
                .to_vec(),
            chart
                .dimensions
                .iter()
                .map(|d| {
                    vec![
                        d.dimension.clone(),
                        d.pairs.to_string(),
                        fmt(d.mean_a),
                        fmt(d.mean_b),
                        format!("{:+.2}", d.difference),
                        d.interval
                            .map(|(lo, hi)| format!("[{lo:+.2}, {hi:+.2}]"))
                            .unwrap_or_else(|| "- (one task)".into()),
                    ]
                })
                .collect(),
        ));
    }

    blocks.push(Block::Heading("Knob effects".into()));
    let effects = crate::knobs::effects(data)?;
    if effects.is_empty() {
        blocks.push(Block::Paragraph(
            "No knob took two or more values in these rows.".into(),
        ));
    }
    for effect in &effects {
        add_figure(
            crate::plot::knob(
                effect,
                &dir.join(format!("knob-{}-{}", safe(&effect.sut), safe(&effect.knob))),
                note,
            ),
            &format!(
                "cluster and checks against {} (SUT {})",
                effect.knob, effect.sut
            ),
            &mut blocks,
        );
        let show = |v: Option<(f64, f64, f64)>| {
            v.map(|(m, lo, hi)| format!("{} ({}–{})", fmt(m), fmt(lo), fmt(hi)))
                .unwrap_or_else(|| "-".into())
        };
        blocks.push(Block::Table(
            [effect.knob.as_str(), "cluster", "checks", "replicates"]
                .map(String::from)
                .to_vec(),
            effect
                .points
                .iter()
                .map(|p| {
                    vec![
                        p.value.clone(),
                        show(p.cluster),
                        show(p.checks),
                        p.samples.to_string(),
                    ]
                })
                .collect(),
        ));
    }

    let markdown = dir.join("report.md");
    let html = dir.join("report.html");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| NotebookError::Io { path, source }
    };
    std::fs::write(&markdown, render_markdown(&blocks)).map_err(io(&markdown))?;
    std::fs::write(&html, render_html(&blocks, &options.title)).map_err(io(&html))?;
    Ok(Written {
        markdown,
        html,
        figures,
        regressions,
        figure_errors,
    })
}

/// A file-name-safe form of an id.
fn safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn render_markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    let mut first = true;
    for block in blocks {
        match block {
            Block::Heading(text) => {
                out.push_str(if first { "# " } else { "\n## " });
                out.push_str(text);
                out.push('\n');
                first = false;
            }
            Block::Paragraph(text) => {
                out.push('\n');
                out.push_str(text);
                out.push('\n');
            }
            Block::Image(caption, file) => out.push_str(&format!("\n![{caption}]({file})\n")),
            Block::Table(header, rows) => {
                let cell = |s: &String| s.replace('|', "\\|");
                out.push_str(&format!(
                    "\n| {} |\n",
                    header.iter().map(cell).collect::<Vec<_>>().join(" | ")
                ));
                out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
                for row in rows {
                    out.push_str(&format!(
                        "| {} |\n",
                        row.iter().map(cell).collect::<Vec<_>>().join(" | ")
                    ));
                }
            }
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render_html(blocks: &[Block], title: &str) -> String {
    let mut out = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font-family:sans-serif;max-width:1650px;margin:2em auto;padding:0 1em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:3px 8px;text-align:left}}th{{background:#eee}}img{{max-width:100%;border:1px solid #ddd}}</style></head><body>\n",
        escape(title)
    );
    let mut first = true;
    for block in blocks {
        match block {
            Block::Heading(text) => {
                let tag = if first { "h1" } else { "h2" };
                first = false;
                out.push_str(&format!("<{tag}>{}</{tag}>\n", escape(text)));
            }
            Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", escape(text))),
            Block::Image(caption, file) => out.push_str(&format!(
                "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                escape(file),
                escape(caption),
                escape(caption)
            )),
            Block::Table(header, rows) => {
                out.push_str("<table><tr>");
                for h in header {
                    out.push_str(&format!("<th>{}</th>", escape(h)));
                }
                out.push_str("</tr>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for c in row {
                        out.push_str(&format!("<td>{}</td>", escape(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}
