//! One turn: why it failed first (the hidden checks that did not pass, with their output),
//! the claimed verdict beside the hidden one, every score with its evidence, the judge's
//! findings with their verified quotes, the diff against the previous turn, the timeline of
//! the pipeline's events, and the transcript per worker.

use super::catalog::{Catalog, Filter, RowId};
use super::page::{diff, false_green, frame, percent, score, verdict};
use super::timeline;
use super::turn::{project_diff, TurnFiles};
use crate::results::ResultRow;
use maud::{html, Markup};

/// Characters of one message shown before it folds.
const MESSAGE_FOLD: usize = 2000;

/// The turn page, or None when no row is at `id`.
pub fn render(catalog: &Catalog, id: RowId) -> Option<Markup> {
    let (source, row) = catalog.row(id)?;
    let files = TurnFiles::read(source.base(), row);
    let previous = catalog
        .rows()
        .find(|(_, r)| {
            r.run_id == row.run_id
                && r.experiment == row.experiment
                && r.task == row.task
                && r.replicate == row.replicate
                && r.turn + 1 == row.turn
        })
        .map(|(id, _)| id);
    let next = catalog
        .rows()
        .find(|(_, r)| {
            r.run_id == row.run_id
                && r.task == row.task
                && r.replicate == row.replicate
                && r.turn == row.turn + 1
        })
        .map(|(id, _)| id);
    let title = format!("{} / {} turn {}", row.suite, row.task, row.turn);
    let body = html! {
        h1 { (title) " · replicate " (row.replicate) }
        p.muted {
            "run " a href=(format!("/?run={}", super::catalog::encode(&row.run_id))) { (row.run_id) }
            @if !row.experiment.is_empty() {
                " · experiment "
                @if let Some((ab, _)) = row.experiment.rsplit_once(':') {
                    a href=(format!("/ab/{}", super::catalog::encode(ab))) { (row.experiment) }
                } @else { (row.experiment) }
            }
            " · SUT " (row.sut) " · builder " (row.builder_model)
            @if !row.judge_model.is_empty() { " · judge " (row.judge_model) }
            " · graded " (row.timestamp) " · commit " (row.commit)
            " · " code { (source.path.display()) ":" (id.line) }
        }
        p {
            @if let Some(prev) = previous { a href=(prev.href()) { "← turn " (row.turn - 1) } " · " }
            @if let Some(next) = next { a href=(next.href()) { "turn " (row.turn + 1) " →" } " · " }
            a href=(format!("/?run={}&task={}", super::catalog::encode(&row.run_id), super::catalog::encode(&row.task))) { "all turns of this task in the run" }
        }
        (verdicts(row))
        (checks(&files))
        (scores(row, &files))
        (judge(&files))
        @if let Some(request) = &files.request {
            h2 { "The request" }
            @if row.session == "simulated" {
                p.small {
                    "Simulated user: persona " b { (row.persona) }
                    @if row.user_move.is_empty() { " · the task's own turn" } @else { " · move " b { (row.user_move) } }
                    " · checks " (row.checks_proven.unwrap_or(0)) " proven, "
                    (row.checks_unproven.unwrap_or(0)) " unproven (weigh half, never decide the verdict), "
                    (row.checks_discarded.unwrap_or(0)) " discarded — see user.json beside the turn for what the user saw and why"
                }
            }
            pre { (request) }
        }
        (changes(&files, row.turn))
        (events(&files, row))
        (transcript(&files))
    };
    Some(frame(&title, body))
}

fn verdicts(row: &ResultRow) -> Markup {
    html! {
        table {
            tr { th { "hidden verdict (the gym's own checks)" } th { "claimed by the system under test" } }
            tr {
                td { (verdict(&row.hidden_verdict)) }
                td { (if row.claimed_verdict.is_empty() { "(nothing)" } else { &row.claimed_verdict })
                     @if row.false_green() { " " (false_green()) } }
            }
        }
        @if let Some(contradiction) = row.judge_contradiction() {
            div.warn { "The judge contradicts the hidden checks: " (contradiction) ". Trust the checks." }
        }
    }
}

fn checks(files: &TurnFiles) -> Markup {
    html! {
        h2 { "Hidden checks" }
        @match &files.grades {
            Err(why) => { div.warn { "No check outcomes: " (why) } }
            Ok(grades) => {
                @let failed = grades.failed_checks();
                p { (failed.len()) " of " (grades.checks.len()) " did not pass" }
                table id="checks" {
                    tr { th { "check" } th { "verdict" } th { "output" } }
                    // What failed first: that is why the turn failed.
                    @for check in failed.iter().copied().chain(grades.checks.iter().filter(|c| c.verdict == "pass")) {
                        tr {
                            td { code { (check.label) } }
                            td { (verdict(&check.verdict)) }
                            td { @if check.evidence.is_empty() { span.muted { "(no output)" } } @else { pre { (check.evidence) } } }
                        }
                    }
                }
            }
        }
    }
}

fn scores(row: &ResultRow, files: &TurnFiles) -> Markup {
    let stored = files.grades.as_ref().ok();
    html! {
        h2 { "Scores" }
        table id="scores" {
            tr { th { "dimension" } th { "score" } th { "evidence" } }
            @match stored {
                Some(grades) => {
                    @for s in &grades.scores {
                        tr { td { (s.dimension) } td.num { (score(s.score)) } td { (s.evidence) } }
                    }
                }
                None => {
                    @for name in graders::DIMENSIONS {
                        tr { td { (name) } td.num { (score(row.dimension(name))) } td.muted { "(grades.json not readable)" } }
                    }
                }
            }
            tr { td { b { "overall" } } td.num { b { (score(row.overall)) } } td.muted { "0.6 × checks + 0.4 × mean of the other dimensions present" } }
        }
        p.small.muted {
            "wall " (format!("{:.1}", row.wall_seconds)) " s · tokens " (row.tokens_in) " in / " (row.tokens_out) " out"
            " · cache " (percent(row.cache_hit))
            " · malformed replies " (row.malformed_replies) " · tool errors " (row.tool_errors)
            " · server errors " (row.errors) " · stalls " (row.stalls)
            @if row.build_occupancy.is_some() { " · BUILD occupancy " (percent(row.build_occupancy)) }
            @if let Some(ratio) = row.makespan_over_bound { " · makespan ÷ bound " (format!("{ratio:.2}")) }
            @if !row.test_depth_detail.is_empty() { " · test_depth: " (row.test_depth_detail) }
        }
    }
}

fn judge(files: &TurnFiles) -> Markup {
    let Ok(grades) = &files.grades else {
        return html! {};
    };
    html! {
        h2 { "Judge" }
        @match &grades.judge {
            None => { p.muted { "No judge ran on this turn." } }
            Some(judge) => {
                p.muted { "models: " (judge.models.join(", ")) }
                @if judge.findings.is_empty() { p { "No finding with a quote found in the files." } }
                @for (dimension, finding) in &judge.findings {
                    div.msg {
                        b { (dimension) } " · " code { (finding.file) } ": " (finding.issue)
                        pre { (finding.quote) }
                    }
                }
                @if !judge.discarded.is_empty() {
                    details {
                        summary { (judge.discarded.len()) " finding(s) discarded: their quote is not in the files" }
                        @for (dimension, finding) in &judge.discarded {
                            div.msg { b { (dimension) } " · " code { (finding.file) } ": " (finding.issue) pre { (finding.quote) } }
                        }
                    }
                }
                @for failure in &judge.failures { div.warn { "sample failed: " (failure) } }
            }
        }
    }
}

fn changes(files: &TurnFiles, turn: u32) -> Markup {
    let Ok(dir) = &files.dir else {
        return html! {};
    };
    html! {
        h2 { "Changes" }
        @match project_diff(dir, turn) {
            Err(why) => { p.muted { (why) } }
            Ok((against, diffs)) => {
                p.muted { "the project after this turn, against " (against) ": " (diffs.len()) " file(s) differ" }
                @for file in diffs {
                    details open[diffs_len_small(&file.diff)] {
                        summary { code { (file.path) } " — " (file.status) }
                        @if !file.diff.is_empty() { (diff(&file.diff)) }
                    }
                }
            }
        }
    }
}

fn diffs_len_small(text: &str) -> bool {
    text.lines().count() <= 80
}

fn events(files: &TurnFiles, row: &ResultRow) -> Markup {
    html! {
        h2 { "Timeline" }
        @match &files.events {
            Err(why) => { p.muted { "No events: " (why) } }
            Ok((values, skipped)) => {
                @let picture = timeline::build(values);
                @if picture.lanes.is_empty() {
                    p.muted { "No model work recorded in the events." }
                } @else {
                    @let tasks = picture.bars.iter().filter(|b| b.kind == timeline::BarKind::Task).count();
                    p {
                        (picture.lanes.len()) " lane(s) (one per node slot), " (tasks)
                        @if row.sut == "swarm" {
                            " task run(s) (blue), " (picture.bars.len() - tasks) " request(s) before BUILD and slot warm-up(s) (light blue, grey)"
                            "; occupancy of the lanes by task runs from the first to the last: "
                        } @else { " request(s); occupancy from the first to the last: " }
                        b id="occupancy" { (percent(picture.occupancy())) }
                        " · hover a bar for what it was"
                    }
                    (timeline::svg(&picture))
                }
                @if *skipped > 0 { div.warn { (skipped) " event line(s) are not JSON and were skipped" } }
                details {
                    summary { "every event (" (values.len()) ")" }
                    pre { @for value in values { (value.to_string()) "\n" } }
                }
            }
        }
    }
}

fn transcript(files: &TurnFiles) -> Markup {
    html! {
        h2 { "Transcript" }
        @match &files.conversations {
            Err(why) => { p.muted { (why) } }
            Ok(conversations) => {
                @for conversation in conversations {
                    details {
                        summary { b { (conversation.title) } " — " (conversation.messages.len()) " message(s)" }
                        @for message in &conversation.messages {
                            div class=(format!("msg msg-{}", message.role)) {
                                span.small.muted { (message.role) }
                                @if message.content.chars().count() > MESSAGE_FOLD {
                                    details { summary { (message.content.chars().take(200).collect::<String>()) "…" } pre { (message.content) } }
                                } @else if !message.content.is_empty() {
                                    pre { (message.content) }
                                }
                                @for call in &message.calls { pre.small { "→ " (call) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The address of a page listing the turn's task across runs (used by the trends and A/B pages).
pub fn task_rows(row: &ResultRow) -> String {
    let filter = Filter {
        suite: row.suite.clone(),
        task: row.task.clone(),
        ..Filter::default()
    };
    format!("/{}", filter.query(&[]))
}
