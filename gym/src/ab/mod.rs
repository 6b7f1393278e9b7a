//! A/B comparisons: the same tasks, the same binary, exactly the stated settings changed.
//!
//! `--a KEY=VALUE… --b KEY=VALUE…` with keys `model` (the builder model: the worker nodes
//! serving it, or, when none does, every worker asked for it), `action_mode`, `max_actions`,
//! `sut` and `fleet` (another fleet file). Both arms run the same replicates, interleaved: on
//! odd replicates A goes first, on even ones B, so drift in the fleet hits both alike. Rows
//! carry `AB_ID:A` / `AB_ID:B` in `experiment`, so `swarm-gym report` can pair them later.
//!
//! The report (`report.rs`) pairs the rows and tests each dimension.

mod report;

pub use report::{
    analyse, analyse_with, holm_detectable, render, AbReport, DimensionResult, HOLM_ALPHA,
};

use crate::runner::{run_suite, RunConfig, RunError, RunEvent, RunSummary};
use crate::sut::Sut;
use std::sync::Arc;
use swarm::ActionMode;
use swarm::{Fleet, Role};

/// One setting of an arm.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// The model of a role (`model=` is the builders'; `judge_model=`, `brain_model=`).
    Model(Role, String),
    /// The action protocol of the workers.
    ActionMode(ActionMode),
    /// The action budget.
    MaxActions(u32),
    /// The system under test.
    Sut(Sut),
    /// Another fleet file.
    Fleet(std::path::PathBuf),
    /// A pipeline knob (`knob:NAME=VALUE`), e.g. a feature switched off.
    Knob(String, String),
    /// A sampling setting of the builders (`temperature=`, `top_p=`, `seed=`).
    Sampling(String, String),
}

/// Parses `KEY=VALUE`.
pub fn parse_setting(text: &str) -> Result<Setting, String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    let value = value.trim();
    match key.trim() {
        "model" if !value.is_empty() => Ok(Setting::Model(Role::Worker, value.into())),
        "judge_model" if !value.is_empty() => Ok(Setting::Model(Role::Judge, value.into())),
        "brain_model" if !value.is_empty() => Ok(Setting::Model(Role::Brain, value.into())),
        "action_mode" => value.parse().map(Setting::ActionMode),
        "max_actions" => value.parse::<u32>().ok().filter(|n| *n > 0).map(Setting::MaxActions).ok_or_else(|| format!("max_actions=`{value}` is not a positive number")),
        "sut" => match value {
            "single" => Ok(Setting::Sut(Sut::Single)),
            "swarm" => Ok(Setting::Sut(Sut::Swarm)),
            other => Err(format!("sut=`{other}`: expected single or swarm")),
        },
                "fleet" if !value.is_empty() => Ok(Setting::Fleet(value.into())),
        name @ ("temperature" | "top_p" | "seed") => {
            // Checked now, so a bad value fails before any run.
            swarm::Sampling::default().set(name, value)?;
            Ok(Setting::Sampling(name.into(), value.into()))
        }
        knob if knob.starts_with("knob:") => {
            let name = knob.trim_start_matches("knob:").to_string();
            // Checked now, so a typo fails before any run.
            swarm::knobs::Knobs::default()
                .set(&name, value, swarm::knobs::Source::Flag, text)
                .map_err(|err| err.to_string())?;
            Ok(Setting::Knob(name, value.to_string()))
        }
        other => Err(format!(
            "unknown setting `{other}`; the settings an arm can change are model, judge_model, brain_model, action_mode, max_actions, sut, fleet, temperature, top_p, seed, knob:NAME (`swarm knobs` lists the knobs)"
        )),
    }
}

/// The rows of `experiment`'s two arms (`EXPERIMENT:A`, `EXPERIMENT:B`), in file order.
pub fn arms_of(
    rows: &[crate::ResultRow],
    experiment: &str,
) -> (Vec<crate::ResultRow>, Vec<crate::ResultRow>) {
    let arm = |label: &str| {
        let wanted = format!("{experiment}:{label}");
        rows.iter()
            .filter(|r| r.experiment == wanted)
            .cloned()
            .collect::<Vec<_>>()
    };
    (arm("A"), arm("B"))
}

/// A fresh experiment id: `ab` and the Unix time in seconds.
pub fn experiment_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("ab{secs}")
}

/// The run configuration of one arm: `base` with exactly `settings` changed.
pub fn arm_config(base: &RunConfig, settings: &[Setting]) -> Result<RunConfig, String> {
    let mut config = base.clone();
    for setting in settings {
        match setting {
            Setting::Fleet(path) => {
                config.fleet = Fleet::load(path).map_err(|err| err.to_string())?;
                config.fleet_name = path.display().to_string();
            }
            // The single agent's budget is the swarm's build budget: one knob for both.
            Setting::MaxActions(n) => config
                .knobs
                .set(
                    swarm::knobs::BUILD_MAX_ACTIONS.def.name,
                    &n.to_string(),
                    swarm::knobs::Source::Flag,
                    "arm",
                )
                .map_err(|err| err.to_string())?,
            Setting::Sut(sut) => config.sut = *sut,
            Setting::Knob(name, value) => config
                .knobs
                .set(name, value, swarm::knobs::Source::Flag, "arm")
                .map_err(|err| err.to_string())?,
            Setting::ActionMode(_) | Setting::Model(..) | Setting::Sampling(..) => {}
        }
    }
    for setting in settings {
        match setting {
            Setting::ActionMode(mode) => {
                for node in config
                    .fleet
                    .nodes
                    .iter_mut()
                    .filter(|n| n.has_role(Role::Worker))
                {
                    node.action_mode = *mode;
                }
            }
            Setting::Model(role, model) => set_role_model(&mut config.fleet, *role, model),
            Setting::Sampling(name, value) => set_builder_sampling(&mut config.fleet, name, value)?,
            _ => {}
        }
    }
    Ok(config)
}

/// Sets a sampling setting on every node that builds (planner, worker, scout). A node that
/// also judges or plays the user is split: those roles go to a copy (`NAME-others`) that
/// keeps the node's own sampling, so only the builders change.
pub fn set_builder_sampling(fleet: &mut Fleet, name: &str, value: &str) -> Result<(), String> {
    const BUILDERS: [Role; 3] = [Role::Planner, Role::Worker, Role::Scout];
    let mut nodes = Vec::new();
    for node in &fleet.nodes {
        let roles = if node.roles.is_empty() {
            swarm::ALL_ROLES.to_vec()
        } else {
            node.roles.clone()
        };
        let (builds, others): (Vec<Role>, Vec<Role>) =
            roles.into_iter().partition(|r| BUILDERS.contains(r));
        if builds.is_empty() {
            nodes.push(node.clone());
            continue;
        }
        if !others.is_empty() {
            let mut kept = node.clone();
            kept.name = format!("{}-others", node.name);
            kept.roles = others;
            nodes.push(kept);
        }
        let mut builder = node.clone();
        builder.roles = builds;
        builder.sampling.set(name, value)?;
        nodes.push(builder);
    }
    fleet.nodes = nodes;
    Ok(())
}

/// Gives `role` to the nodes serving `model` only, touching no other role of any node: nodes
/// serving another model lose the role; when no node serves `model`, each node of the role is
/// asked for it through a single-role copy (`NAME-ROLE`), so its other roles keep their model.
pub fn set_role_model(fleet: &mut Fleet, role: Role, model: &str) {
    let roles_of = |node: &swarm::Node| {
        if node.roles.is_empty() {
            swarm::ALL_ROLES.to_vec()
        } else {
            node.roles.clone()
        }
    };
    let serving = fleet
        .nodes
        .iter()
        .any(|n| n.has_role(role) && n.model == model);
    let mut copies = Vec::new();
    for node in fleet
        .nodes
        .iter_mut()
        .filter(|n| n.has_role(role) && n.model != model)
    {
        if !serving {
            let mut copy = node.clone();
            copy.name = format!("{}-{}", node.name, format!("{role:?}").to_lowercase());
            copy.model = model.to_string();
            copy.roles = vec![role];
            copies.push(copy);
        }
        node.roles = roles_of(node).into_iter().filter(|r| *r != role).collect();
    }
    // A node left with no role would read as "every role": it has no part in this arm.
    fleet
        .nodes
        .retain(|n| !n.roles.is_empty() || n.model == model);
    fleet.nodes.extend(copies);
}

/// Describes settings for reports: `model=x, max_actions=20`.
pub fn describe(settings: &[Setting]) -> String {
    settings
        .iter()
        .map(|s| match s {
            Setting::Model(Role::Worker, m) => format!("model={m}"),
            Setting::Model(role, m) => format!("{}_model={m}", format!("{role:?}").to_lowercase()),
            Setting::ActionMode(m) => format!("action_mode={m}"),
            Setting::MaxActions(n) => format!("max_actions={n}"),
            Setting::Sut(s) => format!("sut={s}"),
            Setting::Fleet(p) => format!("fleet={}", p.display()),
            Setting::Knob(name, value) => format!("knob:{name}={value}"),
            Setting::Sampling(name, value) => format!("{name}={value}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Receives each arm's progress: the arm's label ("A" or "B") and the event.
pub type ArmEvents = Arc<dyn Fn(&str, &RunEvent) + Send + Sync>;

/// Runs both arms, interleaved by replicate.
pub async fn run_ab(
    base: &RunConfig,
    arms: (&[Setting], &[Setting]),
    experiment: &str,
    on_event: ArmEvents,
) -> Result<(Vec<RunSummary>, Vec<RunSummary>), RunError> {
    let a = arm_config(base, arms.0).map_err(RunError::Fleet)?;
    let b = arm_config(base, arms.1).map_err(RunError::Fleet)?;
    // Both arms' models are checked before either runs.
    for (label, arm) in [("A", &a), ("B", &b)] {
        crate::sut::check_models(&arm.fleet, &arm.knobs)
            .await
            .map_err(|err| RunError::Fleet(format!("arm {label}: {err}")))?;
    }
    let (mut done_a, mut done_b) = (Vec::new(), Vec::new());
    for replicate in 1..=base.replicates {
        let order = if replicate % 2 == 1 {
            ["A", "B"]
        } else {
            ["B", "A"]
        };
        for arm in order {
            let mut config = if arm == "A" { a.clone() } else { b.clone() };
            config.first_replicate = replicate;
            config.replicates = 1;
            config.experiment = format!("{experiment}:{arm}");
            let events = on_event.clone();
            let label = arm.to_string();
            let summary = run_suite(
                config,
                Arc::new(move |event: &RunEvent| events(&label, event)),
            )
            .await?;
            if arm == "A" {
                done_a.push(summary);
            } else {
                done_b.push(summary);
            }
        }
    }
    Ok((done_a, done_b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn sampling_settings_are_checked_and_change_only_the_builders() {
        assert_eq!(
            parse_setting("temperature=0.7").unwrap(),
            Setting::Sampling("temperature".into(), "0.7".into())
        );
        assert!(parse_setting("temperature=3")
            .unwrap_err()
            .contains("0..=2"));
        assert!(parse_setting("top_p=0").unwrap_err().contains("above 0"));
        assert!(parse_setting("seed=-1")
            .unwrap_err()
            .contains("whole number"));
        let mut fleet = Fleet::from_yaml(
            "nodes:\n  - {name: big, url: 'http://a', model: q, roles: [worker, judge]}\n  - {name: mini, url: 'http://b', model: g, roles: [judge]}\n",
            "f",
        )
        .unwrap();
        set_builder_sampling(&mut fleet, "seed", "7").unwrap();
        let view: Vec<(&str, Vec<Role>, Option<u64>)> = fleet
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.roles.clone(), n.sampling.seed))
            .collect();
        assert_eq!(
            view,
            vec![
                ("big-others", vec![Role::Judge], None),
                ("big", vec![Role::Worker], Some(7)),
                ("mini", vec![Role::Judge], None),
            ]
        );
    }

    #[test]
    fn settings_parse_with_clear_errors() {
        assert_eq!(
            parse_setting("model=qwen3.6-27b"),
            Ok(Setting::Model(Role::Worker, "qwen3.6-27b".into()))
        );
        assert_eq!(parse_setting("max_actions=20"), Ok(Setting::MaxActions(20)));
        assert!(parse_setting("temprature=0")
            .unwrap_err()
            .contains("unknown setting `temprature`"));
        assert!(parse_setting("model").unwrap_err().contains("KEY=VALUE"));
        // A knob arm is checked against the registry before any run.
        assert_eq!(
            parse_setting("knob:verify.review=false"),
            Ok(Setting::Knob("verify.review".into(), "false".into()))
        );
        assert!(parse_setting("knob:verify.reviews=false")
            .unwrap_err()
            .contains("no knob is called `verify.reviews`"));
        assert!(parse_setting("knob:fix.rounds=99")
            .unwrap_err()
            .contains("outside its safe range"));
    }

    #[test]
    fn a_model_setting_picks_the_workers_serving_it_and_changes_nothing_else() {
        let fleet = Fleet::from_yaml(
            "nodes:\n  - {name: a, url: 'http://a', model: careful}\n  - {name: b, url: 'http://b', model: sloppy, roles: [worker]}\n",
            "f",
        )
        .unwrap();
        let base = RunConfig {
            replicates: 3,
            ..RunConfig::new(Vec::new(), Sut::Single, fleet, "f", "r.csv")
        };
        // A knob arm changes that knob and nothing else.
        let knobbed = arm_config(
            &base,
            &[Setting::Knob("judge.enabled".into(), "false".into())],
        )
        .unwrap();
        assert!(!knobbed.knobs.get(swarm::knobs::JUDGE_ENABLED));
        assert_eq!(knobbed.knobs.changed().len(), 1);
        assert_eq!(knobbed.fleet, base.fleet);
        let arm = arm_config(&base, &[Setting::Model(Role::Worker, "sloppy".into())]).unwrap();
        let workers: Vec<&str> = arm
            .fleet
            .with_role(Role::Worker)
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(workers, vec!["b"]);
        assert!(
            arm.fleet.nodes[0].has_role(Role::Judge),
            "node a still judges"
        );
        assert_eq!(
            (arm.knobs.changed().len(), arm.judge_samples, arm.sut),
            (0, 3, Sut::Single)
        );
        // `max_actions=` is the knob `build.max_actions`, for the single agent as for the swarm.
        let budget = arm_config(&base, &[Setting::MaxActions(12)]).unwrap();
        assert_eq!(budget.knobs.get(swarm::knobs::BUILD_MAX_ACTIONS), 12);
        let unknown = arm_config(&base, &[Setting::Model(Role::Worker, "gemma".into())]).unwrap();
        assert!(
            unknown
                .fleet
                .with_role(Role::Worker)
                .iter()
                .all(|n| n.model == "gemma"),
            "no node serves it: every worker is asked for it"
        );
        // ...through single-role copies: node a still judges with its own model.
        let judges: Vec<(&str, &str)> = unknown
            .fleet
            .with_role(Role::Judge)
            .iter()
            .map(|n| (n.name.as_str(), n.model.as_str()))
            .collect();
        assert_eq!(judges, vec![("a", "careful")]);
        let builders: Vec<&str> = unknown
            .fleet
            .with_role(Role::Worker)
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(builders, vec!["a-worker", "b-worker"]);
        assert!(
            !unknown.fleet.nodes.iter().any(|n| n.name == "b"),
            "b had no other role: it takes no part"
        );
        // A judge-model arm changes the judges only.
        let judged = arm_config(&base, &[Setting::Model(Role::Judge, "gemma".into())]).unwrap();
        let workers: Vec<(&str, &str)> = judged
            .fleet
            .with_role(Role::Worker)
            .iter()
            .map(|n| (n.name.as_str(), n.model.as_str()))
            .collect();
        assert_eq!(workers, vec![("a", "careful"), ("b", "sloppy")]);
        let judges: Vec<(&str, &str)> = judged
            .fleet
            .with_role(Role::Judge)
            .iter()
            .map(|n| (n.name.as_str(), n.model.as_str()))
            .collect();
        assert_eq!(judges, vec![("a-judge", "gemma")]);
        assert_eq!(
            parse_setting("judge_model=gemma"),
            Ok(Setting::Model(Role::Judge, "gemma".into()))
        );
    }
}
