//! The study's four published scores, ours beside the published ones.
//!
//! The published study scored each app 1–10 on correctness, test_depth, quality and spec,
//! by an operator reading the code and running it on a golden input. Ours come from the
//! graders, on the app as the last turn delivered it (one row per app, arm and replicate):
//!
//! - correctness ← `checks` (the hidden checks run the default path on golden inputs);
//! - test_depth ← `test_depth` (the app's own tests against mutants of its code);
//! - quality ← `code_quality` (judged);
//! - spec ← the mean of judged `requirements` and `checks` (the hidden requirement checks);
//!   missing without a judge, never the checks alone under another name.
//!
//! An app is a win, draw or loss on the mean of its correctness and spec (a difference under
//! one point is a draw); that rule gives the published table its own 3 wins, 2 draws, 0
//! losses, and is applied to ours unchanged. Intervals are paired over (app, replicate),
//! clustered by app.

use crate::results::ResultRow;
use crate::stats::{compare, holm, replicates_needed, Pair, PairedComparison};
use std::collections::BTreeMap;

/// The four scores, in the published order.
pub const SCORES: [&str; 4] = ["correctness", "test_depth", "quality", "spec"];

/// One app's four scores (missing where nothing measured them).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FourScores {
    /// correctness, test_depth, quality, spec.
    pub values: [Option<f64>; 4],
}

/// One app of the published study: its scores for qwopus (A) and qwen (B).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedApp {
    /// The app (our task id).
    pub app: &'static str,
    /// qwopus3.6-27b's correctness, test_depth, quality, spec.
    pub qwopus: [f64; 4],
    /// vanilla qwen3.6-27b's.
    pub qwen: [f64; 4],
}

/// The published table (goose local edition's research notes, the controlled A/B on five
/// apps), as the issue that asked for this reproduction quotes it.
pub const PUBLISHED: [PublishedApp; 5] = [
    PublishedApp {
        app: "chaos-fern",
        qwopus: [9.0, 8.0, 9.0, 9.0],
        qwen: [4.0, 6.0, 5.0, 6.0],
    },
    PublishedApp {
        app: "antic-turmite",
        qwopus: [6.0, 7.0, 8.0, 5.0],
        qwen: [2.0, 4.0, 4.0, 3.0],
    },
    PublishedApp {
        app: "logfunnel",
        qwopus: [2.0, 0.0, 6.0, 2.0],
        qwen: [2.0, 3.0, 4.0, 2.0],
    },
    PublishedApp {
        app: "fsdrift",
        qwopus: [3.0, 4.0, 6.0, 3.0],
        qwen: [3.0, 3.0, 4.0, 3.0],
    },
    PublishedApp {
        app: "byte-oracle",
        qwopus: [9.0, 9.0, 9.0, 9.0],
        qwen: [4.0, 5.0, 5.0, 4.0],
    },
];

/// What the report says about how this reproduction differs from the original.
const DIFFERENCES: &str = "
What differs from the original: it ran one build per arm and app, and an operator read the
code and scored it by hand. Here every score is automatic: correctness from hidden checks on
golden inputs, test_depth from the share of mutants the app's own tests kill, quality and spec
from the fleet's judge model (spec averaged with the checks); builds are replicated and paired;
the specs of the five apps are ours (the same facts in our words) and the pipeline is this
swarm, not goose local edition's. Compare directions and gaps, not the digits.
";

/// A difference of the app-level score under this is a draw.
pub const DRAW_MARGIN: f64 = 1.0;

impl FourScores {
    /// The four scores of one delivered app (its last turn's row).
    pub fn of(row: &ResultRow) -> FourScores {
        let spec = match (row.requirements, row.checks) {
            (Some(requirements), Some(checks)) => Some((requirements + checks) / 2.0),
            _ => None,
        };
        FourScores {
            values: [row.checks, row.test_depth, row.code_quality, spec],
        }
    }

    /// From published numbers.
    pub fn published(values: [f64; 4]) -> FourScores {
        FourScores {
            values: values.map(Some),
        }
    }

    /// What decides an app: the mean of correctness and spec (correctness alone when spec is
    /// missing, and the verdict then says so).
    pub fn deciding(&self) -> Option<f64> {
        match (self.values[0], self.values[3]) {
            (Some(correctness), Some(spec)) => Some((correctness + spec) / 2.0),
            (Some(correctness), None) => Some(correctness),
            _ => None,
        }
    }

    fn mean_of(all: &[FourScores]) -> FourScores {
        let mut values = [None; 4];
        for (index, slot) in values.iter_mut().enumerate() {
            let present: Vec<f64> = all.iter().filter_map(|s| s.values[index]).collect();
            if !present.is_empty() {
                *slot = Some(present.iter().sum::<f64>() / present.len() as f64);
            }
        }
        FourScores { values }
    }
}

/// Win, draw or loss of arm A on one app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppVerdict {
    /// A scored at least [`DRAW_MARGIN`] higher.
    Win,
    /// Within the margin.
    Draw,
    /// B scored at least the margin higher.
    Loss,
}

fn decide(a: &FourScores, b: &FourScores) -> Option<AppVerdict> {
    let difference = a.deciding()? - b.deciding()?;
    Some(if difference >= DRAW_MARGIN {
        AppVerdict::Win
    } else if difference <= -DRAW_MARGIN {
        AppVerdict::Loss
    } else {
        AppVerdict::Draw
    })
}

/// One app in the study table.
#[derive(Debug, Clone, PartialEq)]
pub struct AppScores {
    /// The app.
    pub app: String,
    /// Arm A's means over replicates.
    pub a: FourScores,
    /// Arm B's.
    pub b: FourScores,
    /// Replicates with both arms delivered.
    pub replicates: usize,
    /// A's verdict on the means.
    pub verdict: Option<AppVerdict>,
}

/// Ours, per app, with intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyTable {
    /// Per app, in the published order (apps the study does not know follow).
    pub apps: Vec<AppScores>,
    /// Arm A's mean over apps.
    pub mean_a: FourScores,
    /// Arm B's.
    pub mean_b: FourScores,
    /// Per score: the paired comparison over (app, replicate), clustered by app.
    pub comparisons: Vec<Option<PairedComparison>>,
    /// Per score: its Holm-adjusted p-value over the four.
    pub adjusted: Vec<Option<f64>>,
    /// Replicates seen.
    pub replicates: u32,
    /// Why the judged scores do not count (an uncalibrated judge), when they do not.
    pub untrusted_judge: Option<String>,
}

/// (wins, draws, losses) of A over apps.
pub fn wins_draws_losses(verdicts: impl Iterator<Item = Option<AppVerdict>>) -> (u32, u32, u32) {
    let mut tally = (0, 0, 0);
    for verdict in verdicts.flatten() {
        match verdict {
            AppVerdict::Win => tally.0 += 1,
            AppVerdict::Draw => tally.1 += 1,
            AppVerdict::Loss => tally.2 += 1,
        }
    }
    tally
}

/// The last turn of each (app, replicate) of one arm: the app as delivered.
fn delivered(rows: &[ResultRow]) -> BTreeMap<(String, u32), &ResultRow> {
    let mut last: BTreeMap<(String, u32), &ResultRow> = BTreeMap::new();
    for row in rows {
        let slot = last.entry((row.task.clone(), row.replicate)).or_insert(row);
        if row.turn > slot.turn {
            *slot = row;
        }
    }
    last
}

fn order(app: &str) -> usize {
    PUBLISHED
        .iter()
        .position(|p| p.app == app)
        .unwrap_or(PUBLISHED.len())
}

/// Our table from the two arms' rows.
pub fn study_table(rows_a: &[ResultRow], rows_b: &[ResultRow]) -> StudyTable {
    study_table_with(rows_a, rows_b, None)
}

/// [`study_table`], with the judged scores (quality, spec) shown but left out of the apps'
/// verdicts and the tests when `untrusted_judge` says why.
pub fn study_table_with(
    rows_a: &[ResultRow],
    rows_b: &[ResultRow],
    untrusted_judge: Option<&str>,
) -> StudyTable {
    // quality and spec are the judged scores.
    let counts = |index: usize| untrusted_judge.is_none() || index < 2;
    let (a, b) = (delivered(rows_a), delivered(rows_b));
    let mut per_app: BTreeMap<String, Vec<(FourScores, FourScores)>> = BTreeMap::new();
    let mut replicate_ids = std::collections::BTreeSet::new();
    for (key, row_a) in &a {
        if let Some(row_b) = b.get(key) {
            replicate_ids.insert(key.1);
            per_app
                .entry(key.0.clone())
                .or_default()
                .push((FourScores::of(row_a), FourScores::of(row_b)));
        }
    }
    let comparisons: Vec<Option<PairedComparison>> = (0..SCORES.len())
        .map(|index| {
            let pairs: Vec<Pair> = per_app
                .iter()
                .flat_map(|(app, scores)| {
                    scores.iter().filter_map(move |(x, y)| {
                        Some(Pair {
                            task: app.clone(),
                            a: x.values[index]?,
                            b: y.values[index]?,
                        })
                    })
                })
                .collect();
            compare(&pairs)
        })
        .collect();
    // Four scores are tested together: the same Holm rule as the A/B report, and the same
    // honest detectable difference (at Holm's strictest level).
    let tested: Vec<(usize, f64)> = comparisons
        .iter()
        .enumerate()
        .filter(|(i, _)| counts(*i))
        .filter_map(|(i, c)| c.as_ref().and_then(|c| c.p_value).map(|p| (i, p)))
        .collect();
    let adjusted_values = holm(&tested.iter().map(|(_, p)| *p).collect::<Vec<_>>());
    let mut adjusted = vec![None; SCORES.len()];
    for ((index, _), p) in tested.iter().zip(adjusted_values) {
        adjusted[*index] = Some(p);
    }
    let comparisons: Vec<Option<PairedComparison>> = comparisons
        .into_iter()
        .map(|c| c.map(|c| crate::ab::holm_detectable(c, tested.len().max(1))))
        .collect();
    let mut apps: Vec<AppScores> = per_app
        .into_iter()
        .map(|(app, scores)| {
            let a = FourScores::mean_of(&scores.iter().map(|s| s.0).collect::<Vec<_>>());
            let b = FourScores::mean_of(&scores.iter().map(|s| s.1).collect::<Vec<_>>());
            let trusted = |scores: FourScores| {
                let mut kept = scores;
                if untrusted_judge.is_some() {
                    kept.values[2] = None;
                    kept.values[3] = None;
                }
                kept
            };
            AppScores {
                verdict: decide(&trusted(a), &trusted(b)),
                app,
                a,
                b,
                replicates: scores.len(),
            }
        })
        .collect();
    apps.sort_by_key(|app| (order(&app.app), app.app.clone()));
    StudyTable {
        mean_a: FourScores::mean_of(&apps.iter().map(|s| s.a).collect::<Vec<_>>()),
        mean_b: FourScores::mean_of(&apps.iter().map(|s| s.b).collect::<Vec<_>>()),
        apps,
        comparisons,
        adjusted,
        replicates: replicate_ids.len() as u32,
        untrusted_judge: untrusted_judge.map(String::from),
    }
}

fn cell(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

fn four(scores: &FourScores) -> String {
    scores
        .values
        .iter()
        .map(|v| cell(*v))
        .collect::<Vec<_>>()
        .join("/")
}

fn verdict_word(verdict: Option<AppVerdict>) -> &'static str {
    match verdict {
        Some(AppVerdict::Win) => "win",
        Some(AppVerdict::Draw) => "draw",
        Some(AppVerdict::Loss) => "loss",
        None => "-",
    }
}

/// The table in the published layout, the published one beside it, then our intervals and
/// what differs from the original.
pub fn render_study(table: &StudyTable, label_a: &str, label_b: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "\nTHE FOUR PUBLISHED SCORES (correctness/test_depth/quality/spec), A = {label_a}, B = {label_b}\n"
    ));
    out.push_str(&format!(
        "{:<14} {:>20} {:>20} {:>5}   {:>16} {:>16} {:>5}\n",
        "app", "ours A", "ours B", "A is", "published qwopus", "published qwen", "was"
    ));
    let published = |app: &str| PUBLISHED.iter().find(|p| p.app == app);
    for app in &table.apps {
        let (pa, pb, pv) = match published(&app.app) {
            Some(p) => {
                let (x, y) = (
                    FourScores::published(p.qwopus),
                    FourScores::published(p.qwen),
                );
                (four(&x), four(&y), verdict_word(decide(&x, &y)))
            }
            None => ("(not in the study)".into(), String::new(), ""),
        };
        out.push_str(&format!(
            "{:<14} {:>20} {:>20} {:>5}   {:>16} {:>16} {:>5}\n",
            app.app,
            four(&app.a),
            four(&app.b),
            verdict_word(app.verdict),
            pa,
            pb,
            pv
        ));
    }
    let published_a = FourScores::mean_of(
        &PUBLISHED
            .iter()
            .map(|p| FourScores::published(p.qwopus))
            .collect::<Vec<_>>(),
    );
    let published_b = FourScores::mean_of(
        &PUBLISHED
            .iter()
            .map(|p| FourScores::published(p.qwen))
            .collect::<Vec<_>>(),
    );
    if let Some(why) = &table.untrusted_judge {
        out.push_str(&format!(
            "quality and spec are shown but left out of the verdicts: {why}\n"
        ));
    }
    let ours = wins_draws_losses(table.apps.iter().map(|a| a.verdict));
    let theirs = wins_draws_losses(PUBLISHED.iter().map(|p| {
        decide(
            &FourScores::published(p.qwopus),
            &FourScores::published(p.qwen),
        )
    }));
    out.push_str(&format!(
        "{:<14} {:>20} {:>20} {:>5}   {:>16} {:>16} {:>5}\n",
        "mean",
        four(&table.mean_a),
        four(&table.mean_b),
        "",
        four(&published_a),
        four(&published_b),
        ""
    ));
    out.push_str(&format!(
        "wins-draws-losses of A: ours {}-{}-{} over {} app(s); published {}-{}-{} (qwopus over qwen)\n",
        ours.0,
        ours.1,
        ours.2,
        table.apps.len(),
        theirs.0,
        theirs.1,
        theirs.2
    ));
    out.push_str(&format!(
        "\nA − B per score, 95% interval clustered by app (before correction), separated when p(Holm) over the four < 0.05 ({} replicate(s)):\n",
        table.replicates
    ));
    for ((name, comparison), adjusted) in SCORES.iter().zip(&table.comparisons).zip(&table.adjusted)
    {
        let judged = *name == "quality" || *name == "spec";
        let line = match comparison {
            Some(_) if judged && table.untrusted_judge.is_some() => format!(
                "left out: {}",
                table.untrusted_judge.as_deref().unwrap_or_default()
            ),
            None => "no paired values (nothing measured it in both arms)".to_string(),
            Some(c) => {
                let interval = c
                    .interval
                    .map(|(low, high)| format!("[{low:+.2}, {high:+.2}]"))
                    .unwrap_or_else(|| "no interval (needs 2 apps)".into());
                let needed = match c.detectable {
                    Some(detectable) if adjusted.is_some_and(|p| p < crate::ab::HOLM_ALPHA) => {
                        format!(
                            "separated at this N (p(Holm) {:.3}; detectable {detectable:.2})",
                            adjusted.unwrap_or(1.0)
                        )
                    }
                    Some(detectable) => {
                        match replicates_needed(table.replicates.max(1), detectable, c.difference) {
                            Some(n) => format!("about {n} replicate(s) would separate the arms"),
                            None => "the arms scored the same".into(),
                        }
                    }
                    None => String::new(),
                };
                let needed = if needed.is_empty() {
                    needed
                } else {
                    format!("; {needed}")
                };
                format!(
                    "{:+.2} {interval} over {} pair(s), {} app(s){needed}",
                    c.difference, c.n, c.clusters
                )
            }
        };
        out.push_str(&format!("  {name:<12} {line}\n"));
    }
    out.push_str(DIFFERENCES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn the_rule_gives_the_published_verdicts() {
        let verdicts: Vec<(&str, Option<AppVerdict>)> = PUBLISHED
            .iter()
            .map(|p| {
                (
                    p.app,
                    decide(
                        &FourScores::published(p.qwopus),
                        &FourScores::published(p.qwen),
                    ),
                )
            })
            .collect();
        assert_eq!(
            verdicts,
            vec![
                ("chaos-fern", Some(AppVerdict::Win)),
                ("antic-turmite", Some(AppVerdict::Win)),
                ("logfunnel", Some(AppVerdict::Draw)),
                ("fsdrift", Some(AppVerdict::Draw)),
                ("byte-oracle", Some(AppVerdict::Win)),
            ]
        );
        let mean = FourScores::mean_of(
            &PUBLISHED
                .iter()
                .map(|p| FourScores::published(p.qwopus))
                .collect::<Vec<_>>(),
        );
        assert_eq!(four(&mean), "5.8/5.6/7.6/5.6");
    }
}
