//! The report over a constructed history: five nights of two models, two replicates each,
//! and an A/B experiment varying a knob. Regressions are found where the history has them and
//! nowhere else; every plotted value is checked against what the CSV says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pretty_assertions::assert_eq;
use std::fmt::Write;

const HEADER: &str = "run_id,experiment,timestamp,commit,suite,task,manifest_hash,turn,replicate,sut,builder_model,brain_model,judge_model,fleet,knobs_hash,knobs,checks,swarm,cluster,diagnostics,requirements,code_quality,bugs,overall,hidden_verdict,claimed_verdict,wall_seconds,tokens_in,tokens_out,malformed_replies,tool_errors,context_overflows,occupancy,stalls,errors,transcript,events";

#[allow(clippy::too_many_arguments)]
fn row(
    out: &mut String,
    experiment: &str,
    night: &str,
    task: &str,
    replicate: u32,
    model: &str,
    knobs: &str,
    checks: f64,
    cluster: f64,
) {
    writeln!(
        out,
        "r,{experiment},{night}T03:00:00Z,c,smoke,{task},h,1,{replicate},swarm,{model},,,f,k,\"{}\",{checks},8,{cluster},9,,,,{checks},{},pass,10,1,1,0,0,0,0.5,0,0,t,e",
        knobs.replace('"', "\"\""),
        if checks == 10.0 { "pass" } else { "fail" }
    )
    .unwrap();
}

#[test]
fn a_constructed_history_yields_the_regressions_it_holds_and_figures_that_match_the_csv() {
    let mut csv = format!("{HEADER}\n");
    // steady: 8 or 9 checks on every night, replicates 7/9 then 8/10 alternating.
    // falling: 9/9 for four nights then 3/5 on the last.
    let nights = [
        "2026-11-26",
        "2026-11-27",
        "2026-11-28",
        "2026-11-29",
        "2026-11-30",
    ];
    for (index, night) in nights.iter().enumerate() {
        let experiment = format!("nightly-{night}");
        for task in ["a", "b"] {
            let (s1, s2) = if index % 2 == 0 {
                (7.0, 9.0)
            } else {
                (8.0, 10.0)
            };
            row(
                &mut csv,
                &experiment,
                night,
                task,
                1,
                "steady",
                "{}",
                s1,
                10.0,
            );
            row(
                &mut csv,
                &experiment,
                night,
                task,
                2,
                "steady",
                "{}",
                s2,
                10.0,
            );
            let (f1, f2) = if index == 4 { (3.0, 5.0) } else { (9.0, 9.0) };
            row(
                &mut csv,
                &experiment,
                night,
                task,
                1,
                "falling",
                "{}",
                f1,
                10.0,
            );
            row(
                &mut csv,
                &experiment,
                night,
                task,
                2,
                "falling",
                "{}",
                f2,
                10.0,
            );
        }
    }
    // An A/B of a knob on another day: stall timeout 30 vs 120.
    for (arm, stall, cluster) in [("A", "30", 6.0), ("B", "120", 10.0)] {
        let knobs =
            format!("{{\"sut\":\"swarm\",\"knobs\":{{\"fleet.stall_seconds\":\"{stall}\"}}}}");
        for task in ["a", "b"] {
            for replicate in [1, 2] {
                let checks = if task == "a" { 10.0 } else { 8.0 };
                row(
                    &mut csv,
                    &format!("ab9:{arm}"),
                    "2026-11-20",
                    task,
                    replicate,
                    "knobbed",
                    &knobs,
                    checks,
                    cluster + f64::from(replicate) - 1.5,
                );
            }
        }
    }
    csv.push_str("r,torn,2026-11-30T\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.csv");
    std::fs::write(&path, &csv).unwrap();

    let data = notebooks::data::load(&[path]).unwrap();
    assert_eq!(data.frame.height(), 5 * 2 * 4 + 2 * 2 * 2);
    assert_eq!(data.skipped.len(), 1, "{:?}", data.skipped);

    let written =
        notebooks::report::write(&data, &dir.path().join("out"), &Default::default()).unwrap();
    let found: Vec<(String, String, String)> = written
        .regressions
        .iter()
        .map(|r| {
            (
                r.series.clone(),
                r.dimension.clone(),
                r.comparison.night.clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "falling / smoke / swarm".to_string(),
                "checks".to_string(),
                "2026-11-30".to_string()
            ),
            (
                "falling / smoke / swarm".to_string(),
                "overall".to_string(),
                "2026-11-30".to_string()
            ),
        ]
    );
    let checks = &written.regressions[0].comparison;
    assert_eq!(
        (checks.newest, checks.baseline, checks.baseline_nights),
        (4.0, 9.0, 4)
    );
    assert!(
        written.figure_errors.is_empty(),
        "{:?}",
        written.figure_errors
    );
    // trends + one A/B + one knob.
    assert_eq!(written.figures.len(), 3);
    for figure in &written.figures {
        let svg = std::fs::read_to_string(&figure.svg).unwrap();
        assert!(svg.starts_with("<svg"), "{}", figure.svg.display());
        let png = std::fs::read(&figure.png).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }

    // Trend values: steady's nights alternate 8 and 9, its replicate range 7–9 or 8–10.
    let trends: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/trends.json")).unwrap())
            .unwrap();
    let steady = trends
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["model"] == "steady" && s["dimension"] == "checks")
        .unwrap();
    let points: Vec<(f64, f64, f64, u64)> = steady["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["mean"].as_f64().unwrap(),
                p["min"].as_f64().unwrap(),
                p["max"].as_f64().unwrap(),
                p["samples"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        points,
        vec![
            (8.0, 7.0, 9.0, 2),
            (9.0, 8.0, 10.0, 2),
            (8.0, 7.0, 9.0, 2),
            (9.0, 8.0, 10.0, 2),
            (8.0, 7.0, 9.0, 2)
        ]
    );

    // A/B: cluster A − B = −4 on every pair; checks identical.
    let ab: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/ab-ab9.json")).unwrap())
            .unwrap();
    let dimension = |name: &str| {
        ab["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["dimension"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(dimension("cluster")["difference"].as_f64().unwrap(), -4.0);
    assert_eq!(dimension("cluster")["pairs"].as_u64().unwrap(), 4);
    assert_eq!(dimension("checks")["difference"].as_f64().unwrap(), 0.0);

    // Knob effect: stall 30 → cluster 6 (5.5–6.5), 120 → 10 (9.5–10.5); the nightly rows,
    // which did not set it, are at the default.
    let knob: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/knob-swarm-fleet.stall_seconds.json"))
            .unwrap(),
    )
    .unwrap();
    let values: Vec<(String, f64, f64, f64)> = knob["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let c = p["cluster"].as_array().unwrap();
            (
                p["value"].as_str().unwrap().to_string(),
                c[0].as_f64().unwrap(),
                c[1].as_f64().unwrap(),
                c[2].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        values,
        vec![
            ("default".to_string(), 10.0, 10.0, 10.0),
            ("30".to_string(), 6.0, 5.5, 6.5),
            ("120".to_string(), 10.0, 9.5, 10.5),
        ]
    );
    let html = std::fs::read_to_string(&written.html).unwrap();
    assert!(html.contains("<img src=\"trends.svg\""), "{html}");
    assert!(html.find("Regressions").unwrap() < html.find("Score trends").unwrap());
    assert!(!html.contains("SIMULATED"), "no sim- model in this history");

    // A nightly report judges only what ran that night.
    let tonight = |night: &str| {
        let options = notebooks::report::ReportOptions {
            night: Some(night.into()),
            ..Default::default()
        };
        notebooks::report::write(&data, &dir.path().join(night), &options)
            .unwrap()
            .regressions
            .len()
    };
    assert_eq!(tonight("2026-11-30"), 2);
    assert_eq!(
        tonight("2026-12-05"),
        0,
        "a series that did not run is not tonight's regression"
    );
    // Dimensions left out (an uncalibrated judge's) are not judged, and the page says why.
    let regressing: Vec<String> = notebooks::report::write(
        &data,
        &dir.path().join("all"),
        &notebooks::report::ReportOptions {
            night: Some("2026-11-30".into()),
            ..Default::default()
        },
    )
    .unwrap()
    .regressions
    .iter()
    .map(|r| r.dimension.clone())
    .collect();
    let why = "tonight's judge is UNCALIBRATED";
    let written = notebooks::report::write(
        &data,
        &dir.path().join("left-out"),
        &notebooks::report::ReportOptions {
            night: Some("2026-11-30".into()),
            left_out: regressing
                .iter()
                .map(|d| (d.clone(), why.to_string()))
                .collect(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(written.regressions.is_empty(), "{regressing:?}");
    let markdown = std::fs::read_to_string(&written.markdown).unwrap();
    assert!(markdown.contains(why), "{markdown}");
}
