//! A simulated session's open turns: after the task's turns, the brain (in the session's
//! persona) sees what a user would see, chooses a move, and — unless it stops — its request
//! is built and graded with its vetted checks; until it stops or the turn cap. Each turn's
//! `user.json` keeps what the user saw, the move, the checks kept and discarded (with why)
//! and the brain's replies that were rejected.

use super::turn::{build_request, Built, Grader, Noticed, OpenTurn};
use super::*;
use crate::session::{self, Move, Observation};
use graders::checks::Check;

/// Runs the open turns of one replicate, from its last turn: `waiting`, built and not yet
/// graded, or else `last`, what the user noticed of it. Each turn is graded while the user
/// looks at it and the next turn builds: the user's next move waits only for what the hidden
/// checks showed (a user notices a crash or a wrong answer, not a judge's scores), and the
/// rows are stored in turn order.
pub(super) async fn open_turns(
    shared: &Shared,
    state: &mut Replicate<'_>,
    grader: &Grader<'_>,
    mut last: Option<Noticed>,
    mut waiting: Option<Built>,
) -> Result<(), RunError> {
    let (Some(brain), Some(persona)) = (shared.brain.as_ref(), state.persona.clone()) else {
        if let Some(built) = waiting {
            grader.grade(built).await?;
        }
        return Ok(());
    };
    let key = replicate_key(&state.template);
    let sandbox = swarm::Sandbox::detect();
    let mut kept: Vec<Check> = Vec::new();
    for number in state.task.turns.len() + 1..=shared.config.max_turns {
        let number_u32 = number as u32;
        if let Some(row) = shared.done.get(&(key.clone(), number_u32)) {
            if let Some(built) = waiting.take() {
                grader.grade(built).await?;
            }
            skip_turn(shared, state, number_u32, row);
            last = row.hidden().map(|hidden| Noticed {
                hidden,
                crashed: false,
            });
            continue;
        }
        let (tell, told) = tokio::sync::oneshot::channel();
        let previous = waiting.take();
        let grading = async {
            match previous {
                Some(built) => grader.grade_telling(built, Some(tell)).await.map(Some),
                None => Ok(None),
            }
        };
        let user = Session {
            brain,
            persona: &persona,
            sandbox,
        };
        let next = async {
            let noticed = told.await.ok().or(last);
            // The user's look and move, vetting its checks and the build are the run's own
            // work: grading beside them costs the run nothing.
            let start = shared.clock.elapsed().as_secs_f64();
            let next = next_turn(shared, state, &user, number, noticed, &mut kept).await;
            shared.note_interval(&shared.builds, start);
            next
        };
        let (graded, next) = tokio::join!(grading, next);
        if let Some(noticed) = graded? {
            last = Some(noticed);
        }
        match next? {
            Some(built) => waiting = Some(built),
            None => break,
        }
    }
    if let Some(built) = waiting {
        grader.grade(built).await?;
    }
    Ok(())
}

/// Who plays the user in a session, and where the commands it tries run.
struct Session<'a> {
    brain: &'a crate::user_sim::Brain,
    persona: &'a session::Persona,
    sandbox: &'a swarm::Sandbox,
}

/// One open turn up to its build: what the user sees (`noticed`: of the last turn), the move
/// it chooses, its vetted checks, the turn built. None when the user stops or gives no
/// usable move.
async fn next_turn(
    shared: &Shared,
    state: &mut Replicate<'_>,
    user: &Session<'_>,
    number: usize,
    noticed: Option<Noticed>,
    kept: &mut Vec<Check>,
) -> Result<Option<Built>, RunError> {
    let (brain, persona, sandbox) = (user.brain, user.persona, user.sandbox);
    let number_u32 = number as u32;
    let last = noticed;
    let before = state.previous.clone();
    let tried = match &before {
        Some(project) => {
            let commands = session::advertised(&state.task.spec, kept);
            session::try_commands(project, &commands, sandbox).await
        }
        None => Vec::new(),
    };
    let observation = Observation {
        files: before.as_deref().map(session::skim).unwrap_or_default(),
        tried,
        noticed: last
            .map_or("You have not tried it yet.", |n| {
                session::noticed(n.hidden, n.crashed)
            })
            .to_string(),
        history: state.history.clone(),
    };
    let (proposal, rejected) =
        session::next_move(brain, persona, &state.task.spec, &observation).await;
    let turn_dir = state.base.join(format!("turn{number}"));
    std::fs::create_dir_all(&turn_dir)
        .map_err(io_error(format!("cannot create {}", turn_dir.display())))?;
    let said = Said {
        turn_dir: &turn_dir,
        persona,
        observation: &observation,
        rejected: &rejected,
        turn: number_u32,
    };
    let proposal = match proposal {
        Ok(proposal) if proposal.next != Move::Stop => proposal,
        ended => {
            let (reason, no_move) = match &ended {
                Ok(stop) => (stop.reason.clone(), false),
                Err(why) => (why.clone(), true),
            };
            let chosen = (Move::Stop, reason);
            record_move(
                shared,
                state,
                &said,
                ended.as_ref().ok(),
                None,
                chosen,
                no_move,
            )?;
            return Ok(None);
        }
    };
    let vetted = session::vet::vet(
        before.as_deref(),
        &proposal.checks,
        &proposal.patch(),
        sandbox,
    )
    .await?;
    let chosen = (proposal.next, proposal.reason.clone());
    record_move(
        shared,
        state,
        &said,
        Some(&proposal),
        Some(&vetted),
        chosen,
        false,
    )?;
    let checks = vetted.graded();
    kept.extend(checks.iter().cloned());
    let turn = Turn {
        number,
        request: proposal.request.clone(),
        reference: PathBuf::new(),
        fixtures: BTreeMap::new(),
        checks,
    };
    let open = OpenTurn {
        chosen: proposal.next,
        proven: vetted.proven.len(),
        unproven: vetted.unproven.len(),
        discarded: vetted.discarded.len(),
    };
    let model = Some(brain.model.clone());
    let built = build_request(shared, state, turn, proposal.request, model, Some(open)).await?;
    Ok(Some(built))
}

/// What an open turn's move is recorded with: where, who, what it saw, its rejected replies.
struct Said<'a> {
    turn_dir: &'a Path,
    persona: &'a session::Persona,
    observation: &'a Observation,
    rejected: &'a [String],
    turn: u32,
}

/// Records the user's move: its `user.json`, the run's tally, and a run event with the move,
/// why, and what became of its checks.
fn record_move(
    shared: &Shared,
    state: &Replicate<'_>,
    said: &Said<'_>,
    proposal: Option<&session::Proposal>,
    vetted: Option<&session::Vetted>,
    (chosen, reason): (Move, String),
    no_move: bool,
) -> Result<(), RunError> {
    let seen = (said.persona, state.session_seed, said.observation);
    keep_record(said.turn_dir, seen, proposal, vetted, said.rejected)?;
    tally(shared, chosen, vetted, said.rejected.len(), no_move);
    let count = |f: fn(&session::Vetted) -> usize| vetted.map_or(0, f);
    shared.emit(RunEvent::UserMove {
        task: state.task.id.clone(),
        replicate: state.replicate,
        turn: said.turn,
        persona: said.persona.id.clone(),
        chosen: chosen.name().into(),
        reason,
        proven: count(|v| v.proven.len()),
        unproven: count(|v| v.unproven.len()),
        discarded: count(|v| v.discarded.len()),
        rejected: said.rejected.len(),
    });
    Ok(())
}

/// Writes the turn's `user.json`.
fn keep_record(
    turn_dir: &Path,
    (persona, seed, seen): (&session::Persona, u64, &Observation),
    proposal: Option<&session::Proposal>,
    vetted: Option<&session::Vetted>,
    rejected: &[String],
) -> Result<(), RunError> {
    let record = serde_json::json!({
        "persona": persona,
        "session_seed": seed,
        "saw": seen,
        "proposal": proposal,
        "vetted": vetted,
        "rejected_replies": rejected,
    });
    std::fs::write(
        turn_dir.join("user.json"),
        serde_json::to_string_pretty(&record).unwrap_or_default(),
    )
    .map_err(io_error("cannot write the user's move".into()))
}

/// Adds a move to the run's [`UserTally`].
fn tally(
    shared: &Shared,
    chosen: Move,
    vetted: Option<&session::Vetted>,
    rejected: usize,
    no_move: bool,
) {
    let Ok(mut summary) = shared.summary.lock() else {
        return;
    };
    let user = &mut summary.user;
    *user.moves.entry(chosen.name().to_string()).or_default() += 1;
    user.rejected += rejected;
    user.no_move += usize::from(no_move);
    if let Some(vetted) = vetted {
        user.proven += vetted.proven.len();
        user.unproven += vetted.unproven.len();
        user.discarded += vetted.discarded.len();
        for discarded in &vetted.discarded {
            let kind = discarded.kind.to_string();
            *user.discard_reasons.entry(kind).or_default() += 1;
        }
    }
}
