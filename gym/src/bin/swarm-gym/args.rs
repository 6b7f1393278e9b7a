//! The flag groups several commands share: which tasks of a suite run, where the fleet is
//! (a fleet file, or one server), and how turns are graded beyond their hidden checks.

use clap::Args;
use std::path::PathBuf;
use swarm::Fleet;

/// Which of a suite's tasks run (shared by run, ab and study).
#[derive(Args, Default)]
pub(crate) struct TaskSelection {
    /// Only these tasks (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub(crate) tasks: Vec<String>,
    /// Only the first N usable tasks (after --tasks), for a quick try.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) limit: Option<u32>,
}

impl TaskSelection {
    /// Whether only part of the suite runs.
    pub(crate) fn partial(&self) -> bool {
        !self.tasks.is_empty() || self.limit.is_some()
    }
}

/// Where a command's fleet is: a fleet file, or one server playing every role.
#[derive(Args)]
pub(crate) struct FleetArgs {
    /// Fleet file (nodes with roles; examples/fleets/ has two).
    #[arg(long, conflicts_with = "url")]
    pub(crate) fleet: Option<PathBuf>,
    /// Instead of a fleet file: one server (LM Studio, Ollama, llama-server, vLLM) playing
    /// every role, e.g. http://127.0.0.1:1234.
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// The model --url serves (default: the one the server has loaded).
    #[arg(long)]
    pub(crate) model: Option<String>,
}

impl FleetArgs {
    /// How rows name the fleet: the file, or the server.
    pub(crate) fn label(&self) -> String {
        match (&self.fleet, &self.url) {
            (Some(path), _) => path.display().to_string(),
            (None, Some(url)) => url.clone(),
            (None, None) => String::new(),
        }
    }

    /// The fleet file read, or the one server of --url probed (its model and slots said on
    /// stderr). The API key of --url comes from the variable `SWARM_API_KEY_ENV` names.
    pub(crate) fn load(&self, runtime: &tokio::runtime::Runtime) -> Result<Fleet, String> {
        if self.model.is_some() && self.url.is_none() {
            return Err(
                "--model names the model of --url; a fleet file names each node's model".into(),
            );
        }
        match (&self.fleet, &self.url) {
            (Some(path), _) => Fleet::load(path).map_err(|err| err.to_string()),
            (None, Some(url)) => {
                let key_env = std::env::var(swarm::settings::ENV_API_KEY_ENV).ok();
                let fleet = runtime
                    .block_on(Fleet::one_node(url, self.model.as_deref(), key_env))
                    .map_err(|err| err.to_string())?;
                for node in &fleet.nodes {
                    eprintln!(
                        "swarm-gym: one node, every role: {} serving {} ({} slot(s))",
                        node.url, node.model, node.slots
                    );
                }
                Ok(fleet)
            }
            (None, None) => Err("name the fleet: --fleet FILE, or --url URL [--model ID]".into()),
        }
    }
}

/// How turns are graded beyond their hidden checks (shared by run, ab and study).
#[derive(Args)]
pub(crate) struct GradingArgs {
    /// Samples per judge node per turn (the fleet's `judge` nodes grade requirements, code
    /// quality and bugs).
    #[arg(long, default_value_t = 3)]
    pub(crate) judge_samples: u32,
    /// Mutants per turn for test_depth (the app's own tests run against each); 0 leaves
    /// test_depth unmeasured.
    #[arg(long, default_value_t = 20)]
    pub(crate) mutants: usize,
    /// Seed of the test_depth mutant sample.
    #[arg(long, default_value_t = 1)]
    pub(crate) mutant_seed: u64,
}

impl GradingArgs {
    pub(crate) fn test_depth(&self) -> graders::TestDepthOptions {
        graders::TestDepthOptions {
            mutants: self.mutants,
            seed: self.mutant_seed,
            ..graders::TestDepthOptions::default()
        }
    }
}

/// Who plays the user: the task's scripted turns, or (`--simulate-user`) the fleet's brain.
#[derive(Args, Clone)]
pub(crate) struct UserArgs {
    /// The fleet's `brain` node plays the user: it rewords the task's later turns (keeping
    /// every concrete requirement, or the scripted request is used), then, in a persona from
    /// tasks/personas.yaml, chooses its own next moves with checks it writes (vetted: each
    /// must fail before the turn) until it stops or --max-turns.
    #[arg(long)]
    pub(crate) simulate_user: bool,
    /// With --simulate-user: most turns in a session, the task's own included.
    #[arg(long, default_value_t = gym::session::DEFAULT_MAX_TURNS, requires = "simulate_user")]
    pub(crate) max_turns: usize,
    /// With --simulate-user: the seed that draws each session's persona (in user.json).
    #[arg(long, default_value_t = 0, requires = "simulate_user")]
    pub(crate) user_seed: u64,
}

impl UserArgs {
    /// These settings on `config`.
    pub(crate) fn apply(&self, config: gym::RunConfig) -> gym::RunConfig {
        gym::RunConfig {
            simulate_user: self.simulate_user,
            max_turns: self.max_turns,
            user_seed: self.user_seed,
            ..config
        }
    }
}
