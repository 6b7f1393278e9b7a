//! One turn of a replicate: its request, its build (retried when the fleet fails before any
//! work), its snapshot, and its grading, which runs while the next turn builds; and what that
//! grading costs the run.

use super::*;

/// A turn built and kept, waiting for its grades.
pub(super) struct Built {
    turn: Turn,
    turn_dir: PathBuf,
    /// Its `project` is the turn's snapshot, which the next turn never touches.
    outcome: TurnOutcome,
    brain_model: Option<String>,
    /// An open turn's move and how far its checks can be trusted; `None` for a task's turn.
    open: Option<OpenTurn>,
}

/// What an open turn (the simulated user's own) adds to its row.
#[derive(Debug, Clone)]
pub(super) struct OpenTurn {
    /// The move that asked for it.
    pub chosen: crate::session::Move,
    /// Checks proven, unproven and discarded.
    pub proven: usize,
    pub unproven: usize,
    pub discarded: usize,
}

impl OpenTurn {
    /// Indices of the unproven checks in the turn (proven ones come first).
    fn unproven_indices(&self) -> std::collections::BTreeSet<usize> {
        (self.proven..self.proven + self.unproven).collect()
    }
}

/// What a user could notice of a graded turn.
#[derive(Debug, Clone, Copy)]
pub(super) struct Noticed {
    pub hidden: graders::HiddenVerdict,
    pub crashed: bool,
}

/// Builds one of the task's turns (its request perhaps reworded by the simulated user).
pub(super) async fn build_turn(
    shared: &Shared,
    state: &mut Replicate<'_>,
    turn: &Turn,
) -> Result<Built, RunError> {
    // The session's persona words the request when it has one; else the task's own line.
    let persona = state
        .persona
        .as_ref()
        .map_or(state.task.persona.clone(), |p| {
            format!("{} {}", p.description, p.wording)
        });
    let (request, brain_model) = request_for(shared, state.task, &persona, turn, &state.seen).await;
    build_request(shared, state, turn.clone(), request, brain_model, None).await
}

/// Builds a turn for `request` and keeps it (snapshot, transcript, events); the conversation
/// moves on.
pub(super) async fn build_request(
    shared: &Shared,
    state: &mut Replicate<'_>,
    turn: Turn,
    request: String,
    brain_model: Option<String>,
    open: Option<OpenTurn>,
) -> Result<Built, RunError> {
    let number = turn.number as u32;
    let turn_dir = state.base.join(format!("turn{number}"));
    std::fs::create_dir_all(&turn_dir)
        .map_err(io_error(format!("cannot create {}", turn_dir.display())))?;
    let persona = state.persona.as_ref().map(|p| p.id.clone());
    let seed = persona.as_ref().map(|_| state.session_seed);
    let record = serde_json::json!({
        "request": request,
        "simulated_by": brain_model,
        "scripted": turn.request,
        "persona": persona,
        "session_seed": seed,
    });
    std::fs::write(
        turn_dir.join("request.json"),
        serde_json::to_string_pretty(&record).unwrap_or_default(),
    )
    .map_err(io_error("cannot write the request".into()))?;
    let mut outcome = build_with_retries(shared, state, &turn, &request, &turn_dir).await?;
    let snapshot = turn_dir.join("project");
    graders::fsutil::copy_tree(&state.project, &snapshot)
        .map_err(io_error("cannot snapshot the project".into()))?;
    rows::write_jsonl(&turn_dir.join("transcript.jsonl"), &outcome.transcript)
        .map_err(io_error("cannot write the transcript".into()))?;
    rows::write_jsonl(&turn_dir.join("events.jsonl"), &outcome.events)
        .map_err(io_error("cannot write the events".into()))?;
    state.seen.push(SeenTurn {
        request: request.clone(),
        claimed: outcome.claim.map(|c| c.to_string()).unwrap_or_default(),
        summary: outcome.summary.clone(),
        files: crate::demo::files_of(&state.project)
            .into_iter()
            .map(|(path, _)| path)
            .collect(),
    });
    state.history.push((
        request,
        open.as_ref()
            .map_or("scripted".to_string(), |o| o.chosen.name().to_string()),
    ));
    outcome.project = snapshot.clone();
    state.previous = Some(snapshot);
    Ok(Built {
        turn,
        turn_dir,
        outcome,
        brain_model,
        open,
    })
}

/// What grading a replicate's turns needs (none of it changes while the next turn builds).
pub(super) struct Grader<'a> {
    pub(super) shared: &'a Shared,
    pub(super) task: &'a Task,
    pub(super) replicate: u32,
    pub(super) template: ResultRow,
}

impl Grader<'_> {
    /// Grades a built turn and stores its row; returns what a user would have noticed.
    pub(super) async fn grade(&self, built: Built) -> Result<Noticed, RunError> {
        self.grade_telling(built, None).await
    }

    /// [`Grader::grade`], sending what a user would have noticed on `tell` as soon as the
    /// hidden checks have run (the judges and mutants go on; the row is stored when all is
    /// graded).
    pub(super) async fn grade_telling(
        &self,
        built: Built,
        tell: Option<tokio::sync::oneshot::Sender<Noticed>>,
    ) -> Result<Noticed, RunError> {
        let start = self.shared.clock.elapsed().as_secs_f64();
        let (shared, task, turn) = (self.shared, self.task, &built.turn);
        let graded = graders::Turn {
            spec: &task.spec,
            request: &turn.request,
            hidden_requirements: &task.hidden_requirements,
            checks: turn.check_set(),
            entry_points: entry_points(turn),
            unproven: built
                .open
                .as_ref()
                .map(OpenTurn::unproven_indices)
                .unwrap_or_default(),
        };
        let on_checks = |checks: &[graders::checks::CheckOutcome], hidden| {
            if let Some(tell) = tell {
                let crashed = crate::session::crashed(checks);
                let _ = tell.send(Noticed { hidden, crashed });
            }
        };
        let grades =
            graders::grade_telling(&graded, &built.outcome, &shared.judging, on_checks).await?;
        std::fs::write(
            built.turn_dir.join("grades.json"),
            serde_json::to_string_pretty(&grades).unwrap_or_default(),
        )
        .map_err(io_error("cannot write grades".into()))?;
        let files = TurnFiles {
            results_dir: &shared.results_dir,
            turn_dir: &built.turn_dir,
        };
        let mut row = rows::graded_row(&self.template, turn, &built.outcome, &grades, &files);
        row.brain_model = built.brain_model.clone().unwrap_or_default();
        if let Some(open) = &built.open {
            row.user_move = open.chosen.name().to_string();
            row.checks_proven = Some(open.proven as u32);
            row.checks_unproven = Some(open.unproven as u32);
            row.checks_discarded = Some(open.discarded as u32);
        }
        let noticed = Noticed {
            hidden: grades.hidden,
            crashed: crate::session::crashed(&grades.checks),
        };
        shared.store.append(&row)?;
        shared.emit(RunEvent::TurnGraded {
            task: task.id.clone(),
            replicate: self.replicate,
            turn: turn.number as u32,
            hidden: row.hidden_verdict.clone(),
            claimed: row.claimed_verdict.clone(),
            checks: row.checks,
            overall: row.overall,
        });
        if let Ok(mut summary) = shared.summary.lock() {
            summary.rows.push(row);
        }
        shared.note_interval(&shared.gradings, start);
        Ok(noticed)
    }
}

/// Builds a turn from the previous turn's snapshot, again (up to [`INFRA_RETRIES`] times)
/// when the fleet failed before any work.
async fn build_with_retries(
    shared: &Shared,
    state: &Replicate<'_>,
    turn: &Turn,
    request: &str,
    turn_dir: &Path,
) -> Result<TurnOutcome, RunError> {
    let number = turn.number as u32;
    let mut attempt = 0;
    loop {
        restore(&state.project, state.previous.as_deref())?;
        shared.emit(RunEvent::TurnStarted {
            task: state.task.id.clone(),
            replicate: state.replicate,
            turn: number,
            node: state.label.clone(),
        });
        let watch = relay(shared, state, number);
        let given = TurnRequest {
            task: state.task,
            number: turn.number,
            request,
            project: &state.project,
            turn_dir,
            lane: state.lane,
            watch: &watch,
        };
        let outcome = shared.sut.build(given).await?;
        if !outcome.infrastructure {
            return Ok(outcome);
        }
        if attempt >= INFRA_RETRIES {
            return Err(RunError::Fleet(format!(
                "turn {number}: the fleet failed {} times: {}",
                attempt + 1,
                outcome.summary
            )));
        }
        attempt += 1;
        shared.emit(RunEvent::Retrying {
            task: state.task.id.clone(),
            turn: number,
            reason: outcome.summary.clone(),
        });
    }
}

/// A sink that relays a turn's live events to the run's watchers as [`RunEvent::Progress`].
fn relay(shared: &Shared, state: &Replicate<'_>, turn: u32) -> swarm::Sink {
    let on_event = shared.on_event.clone();
    let (task, replicate) = (state.task.id.clone(), state.replicate);
    Arc::new(move |record: &swarm::Record| {
        on_event(&RunEvent::Progress {
            task: task.clone(),
            replicate,
            turn,
            record: record.clone(),
        })
    })
}

/// Makes `project` hold exactly `snapshot` (or nothing).
fn restore(project: &Path, snapshot: Option<&Path>) -> Result<(), RunError> {
    if project.exists() {
        std::fs::remove_dir_all(project)
            .map_err(io_error(format!("cannot reset {}", project.display())))?;
    }
    std::fs::create_dir_all(project)
        .map_err(io_error(format!("cannot create {}", project.display())))?;
    if let Some(snapshot) = snapshot {
        graders::fsutil::copy_tree(snapshot, project)
            .map_err(io_error(format!("cannot restore {}", snapshot.display())))?;
    }
    Ok(())
}

/// The request of a turn: the spec on turn 1; later, the brain's rewording of the scripted
/// request when `--simulate-user` is on and it kept every concrete requirement, else the
/// scripted request. Returns the brain's model when its request was used.
async fn request_for(
    shared: &Shared,
    task: &Task,
    persona: &str,
    turn: &Turn,
    seen: &[SeenTurn],
) -> (String, Option<String>) {
    let Some(brain) = shared.brain.as_ref().filter(|_| turn.number > 1) else {
        return (turn.request.clone(), None);
    };
    match crate::user_sim::next_request(brain, persona, seen, &turn.request).await {
        Ok(request) => (request, Some(brain.model.clone())),
        Err(reason) => {
            shared.emit(RunEvent::UserFallback {
                task: task.id.clone(),
                turn: turn.number as u32,
                reason,
            });
            (turn.request.clone(), None)
        }
    }
}

/// The seconds covered by `intervals` (their union).
fn covered(intervals: &[(f64, f64)]) -> f64 {
    let mut sorted = intervals.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut current: Option<(f64, f64)> = None;
    for (start, end) in sorted {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    total + current.map_or(0.0, |(s, e)| e - s)
}

/// Grading's cost to a run: (seconds of grading in all, seconds during which something was
/// graded and nothing built).
pub(super) fn grading_cost(builds: &[(f64, f64)], gradings: &[(f64, f64)]) -> (f64, f64) {
    let total = gradings.iter().map(|(s, e)| e - s).sum();
    // |G \ B| = |G ∪ B| − |B|.
    let mut both = builds.to_vec();
    both.extend_from_slice(gradings);
    (total, (covered(&both) - covered(builds)).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::grading_cost;

    #[test]
    fn only_grading_with_no_build_beside_it_is_exposed() {
        // Builds 0–10 and 12–20; gradings 8–13 (overlapping both) and 20–25 (after all).
        let builds = [(0.0, 10.0), (12.0, 20.0)];
        let gradings = [(8.0, 13.0), (20.0, 25.0)];
        let (total, exposed) = grading_cost(&builds, &gradings);
        assert!((total - 10.0).abs() < 1e-9);
        assert!((exposed - 7.0).abs() < 1e-9, "10–12 and 20–25: {exposed}");
        assert_eq!(grading_cost(&builds, &[]), (0.0, 0.0));
    }
}
