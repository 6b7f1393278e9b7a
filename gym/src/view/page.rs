//! The frame every page shares: navigation, the style sheet (inline: the viewer works with no
//! network), and small helpers for numbers and verdicts. Every text from a results file or a
//! model goes through maud's escaping: model output is untrusted and never becomes markup.

use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The style sheet, inline.
const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #fafbfc; }
header { background: #1d2330; color: #fff; padding: 8px 16px; display: flex; gap: 18px; align-items: baseline; }
header a { color: #cfe0ff; text-decoration: none; } header strong { font-size: 16px; }
main { padding: 12px 16px 40px; max-width: 1400px; }
h1 { font-size: 20px; margin: 8px 0 4px; } h2 { font-size: 16px; margin: 22px 0 6px; border-bottom: 1px solid #dde; }
table { border-collapse: collapse; margin: 4px 0 10px; background: #fff; }
th, td { border: 1px solid #dde1e8; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #eef1f6; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f3f4f7; padding: 6px 8px; overflow-x: auto; max-height: 420px; margin: 2px 0; white-space: pre-wrap; word-break: break-word; }
.pass { color: #17753a; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; } .inconclusive { color: #8a6d00; font-weight: 600; }
.false-green { background: #b3261e; color: #fff; padding: 1px 6px; border-radius: 3px; font-weight: 700; }
.warn { background: #fff4d6; border: 1px solid #e6c35c; padding: 6px 10px; margin: 8px 0; }
.bad { background: #fde8e6; border: 1px solid #e4a39c; padding: 6px 10px; margin: 8px 0; }
.muted { color: #6b7280; } .small { font-size: 12px; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; background: #fff; padding: 8px; border: 1px solid #dde1e8; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #4b5563; }
details { margin: 4px 0; } summary { cursor: pointer; }
.msg { border-left: 3px solid #cbd2dc; padding-left: 8px; margin: 6px 0; }
.msg-assistant { border-color: #6b8cff; } .msg-tool { border-color: #9bd39b; } .msg-user { border-color: #f0b35a; } .msg-unreadable { border-color: #b3261e; }
div.charts { display: flex; flex-wrap: wrap; gap: 8px; margin: 6px 0 10px; }
svg.trend { background: #fafbfd; border: 1px solid #e3e6ee; } svg.trend text { font: 10px system-ui, sans-serif; fill: #555; } svg.trend text.name { font-weight: 600; fill: #222; }
svg.trend .axis { stroke: #d5d9e2; } svg.trend .mean { fill: none; stroke: #4f7bdc; stroke-width: 1.5; } svg.trend .range { stroke: #9fb4e6; stroke-width: 3; } svg.trend .point { fill: #4f7bdc; }
svg.trend.regressed .mean { stroke: #b3261e; } svg.trend.regressed .point { fill: #b3261e; } svg.trend.regressed .range { stroke: #e3a19b; }
svg.timeline .lane { fill: #f1f3f7; } svg.timeline .bar { fill: #4f7bdc; } svg.timeline .bar-bad { fill: #d0584d; } svg.timeline .bar-planning { fill: #9fb4e6; } svg.timeline .bar-warm { fill: #b8bcc6; }
svg.timeline .phase { fill: #dfe6f5; stroke: #fff; } svg.timeline text { font: 11px system-ui, sans-serif; fill: #333; }
.diff-add { color: #17753a; } .diff-del { color: #b3261e; }
.board td { min-width: 60px; }
"#;

/// A whole page.
pub fn frame(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — swarm-gym" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "swarm-gym" }
                    a href="/" { "Runs" }
                    a href="/trends" { "Trends" }
                    a href="/live" { "Live" }
                }
                main { (body) }
            }
        }
    }
}

/// A score with one decimal, or a dash for "not measured" (never 0).
pub fn score(value: Option<f64>) -> String {
    value
        .filter(|v| v.is_finite())
        .map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "–".into())
}

/// A share as a percentage, or a dash.
pub fn percent(value: Option<f64>) -> String {
    value
        .filter(|v| v.is_finite())
        .map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// A hidden verdict, coloured.
pub fn verdict(value: &str) -> Markup {
    let class = match value {
        "pass" => "pass",
        "fail" => "fail",
        _ => "inconclusive",
    };
    html! { span class=(class) { (value) } }
}

/// The false-green mark.
pub fn false_green() -> Markup {
    html! { span class="false-green" title="the system claimed done; the hidden checks fail" { "FALSE GREEN" } }
}

/// A unified diff, lines coloured.
pub fn diff(text: &str) -> Markup {
    html! {
        pre {
            @for line in text.lines() {
                @if line.starts_with('+') && !line.starts_with("+++") {
                    span class="diff-add" { (line) } "\n"
                } @else if line.starts_with('-') && !line.starts_with("---") {
                    span class="diff-del" { (line) } "\n"
                } @else {
                    (line) "\n"
                }
            }
        }
    }
}

/// The warning over figures from simulated models (swarm-sim's `sim-*`), or nothing.
pub fn simulated_banner<'a>(models: impl Iterator<Item = &'a str>) -> Markup {
    let simulated = models.filter(|m| m.starts_with("sim-")).count();
    html! {
        @if simulated > 0 {
            div.warn.simulated { b { "SIMULATED: " } (simulated) " row(s) here were built by scripted models on a simulated fleet (sim-*); their figures describe the harness, not any real model." }
        }
    }
}
