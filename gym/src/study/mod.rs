//! Study reproductions. `qwopus-vs-vanilla` reproduces the published comparison of
//! qwopus3.6-27b and vanilla qwen3.6-27b: the five apps of the published study
//! (`tasks/qwopus-study`: chaos-fern, antic-turmite, logfunnel, fsdrift, byte-oracle), the same binary
//! and knobs, the whole swarm pipeline (SUT `swarm`), and only the model changed — every node
//! that plans, scouts, builds or plays the user serves the arm's model. Judge nodes keep
//! their model in both arms, so the grading is the same for both (a node that also judges is
//! split: its judge role stays on the original model).

pub mod cost;
pub mod judge;
pub mod report;

pub use cost::{estimate_cost, CostEstimate};
pub use report::{render_study, study_table, study_table_with, FourScores, StudyTable, PUBLISHED};
use serde::Serialize;
use swarm::{Fleet, Role};

/// A study this version knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StudyDesign {
    /// Its name on the command line.
    pub name: &'static str,
    /// The suite it runs.
    pub suite: &'static str,
    /// What it compares.
    pub about: &'static str,
}

/// The known studies.
pub const STUDIES: [StudyDesign; 1] = [StudyDesign {
    name: "qwopus-vs-vanilla",
    suite: "qwopus-study",
    about: "the study's five apps, SUT swarm, only the builder model changed (every non-judge node serves the arm's model)",
}];

/// The study called `name`, or an error listing the known ones.
pub fn design(name: &str) -> Result<StudyDesign, String> {
    STUDIES
        .iter()
        .copied()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            let known: Vec<&str> = STUDIES.iter().map(|s| s.name).collect();
            format!("no study is called `{name}`; known: {}", known.join(", "))
        })
}

/// `fleet` with every node that is not only a judge serving `model`; judging stays on the
/// original models (a node that also judges gets a judge-only copy keeping its model).
pub fn arm_fleet(fleet: &Fleet, model: &str) -> Fleet {
    let mut nodes = Vec::new();
    for node in &fleet.nodes {
        let roles: Vec<Role> = if node.roles.is_empty() {
            swarm::ALL_ROLES.to_vec()
        } else {
            node.roles.clone()
        };
        let judges = roles.contains(&Role::Judge);
        let others: Vec<Role> = roles
            .iter()
            .copied()
            .filter(|r| *r != Role::Judge)
            .collect();
        if judges {
            let mut judge = node.clone();
            judge.roles = vec![Role::Judge];
            if !others.is_empty() {
                judge.name = format!("{}-judge", node.name);
            }
            nodes.push(judge);
        }
        if !others.is_empty() {
            let mut builder = node.clone();
            builder.model = model.to_string();
            builder.roles = others;
            nodes.push(builder);
        }
    }
    Fleet { nodes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn every_builder_serves_the_arm_model_and_judges_keep_theirs() {
        let fleet = Fleet::from_yaml(
            "nodes:\n  - {name: big, url: 'http://a', model: qwen, slots: 2}\n  - {name: mini, url: 'http://b', model: gemma, roles: [judge]}\n  - {name: lap, url: 'http://c', model: qwen, roles: [worker, brain]}\n",
            "f",
        )
        .unwrap();
        let arm = arm_fleet(&fleet, "qwopus");
        let view: Vec<(&str, &str, Vec<Role>)> = arm
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.model.as_str(), n.roles.clone()))
            .collect();
        assert_eq!(
            view,
            vec![
                ("big-judge", "qwen", vec![Role::Judge]),
                (
                    "big",
                    "qwopus",
                    vec![Role::Planner, Role::Worker, Role::Scout, Role::Brain]
                ),
                ("mini", "gemma", vec![Role::Judge]),
                ("lap", "qwopus", vec![Role::Worker, Role::Brain]),
            ]
        );
        assert_eq!(arm.nodes[1].slots, 2);
        assert!(design("qwopus-vs-vanila")
            .unwrap_err()
            .contains("known: qwopus-vs-vanilla"));
    }
}
