//! The simulated user's personas: a pool in `tasks/personas.yaml` (compiled in, so every
//! binary has it), each with how it words requests, how much a broken turn bothers it and
//! which moves it reaches for first. A session's persona is the task's when the task names a
//! pool id, else one drawn from the session's seed (recorded in every row).

use super::Move;
use serde::{Deserialize, Serialize};

/// The shipped pool.
const POOL: &str = include_str!("../../../tasks/personas.yaml");

/// How much a crash or a wrong answer bothers a persona.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tolerance {
    /// A broken turn is fixed before anything else.
    Low,
    /// Broken things get fixed when they get in the way.
    Medium,
    /// Bugs are shrugged off while features arrive.
    High,
}

/// One persona of the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// Short name (rows record it).
    pub id: String,
    /// Who the user is.
    pub description: String,
    /// How the user writes.
    pub wording: String,
    /// How much a broken turn bothers them.
    pub bug_tolerance: Tolerance,
    /// Moves in the order they reach for them.
    pub prefers: Vec<Move>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolFile {
    personas: Vec<Persona>,
}

/// Reads a pool; the error names what is wrong.
pub fn parse_pool(yaml: &str) -> Result<Vec<Persona>, String> {
    let file: PoolFile = serde_yaml_ng::from_str(yaml).map_err(|err| format!("personas: {err}"))?;
    if file.personas.is_empty() {
        return Err("personas: the pool is empty".into());
    }
    let mut ids = std::collections::BTreeSet::new();
    for persona in &file.personas {
        if persona.id.trim().is_empty() || !ids.insert(persona.id.as_str()) {
            return Err(format!(
                "personas: the id `{}` is empty or used twice",
                persona.id
            ));
        }
        if persona.prefers.is_empty() {
            return Err(format!("personas: `{}` prefers no move", persona.id));
        }
    }
    Ok(file.personas)
}

/// The shipped pool (`tasks/personas.yaml`).
pub fn pool() -> Vec<Persona> {
    // The shipped file is checked by a test; a broken one leaves an empty pool, which
    // `choose` answers with the task's own line.
    parse_pool(POOL).unwrap_or_default()
}

/// The session's persona: the pool's persona the task names (`persona: pragmatic`), else the
/// one `seed` draws. `None` only for an empty pool.
pub fn choose(pool: &[Persona], task_persona: &str, seed: u64) -> Option<Persona> {
    if let Some(named) = pool.iter().find(|p| p.id == task_persona.trim()) {
        return Some(named.clone());
    }
    if pool.is_empty() {
        return None;
    }
    let mut rng = swarm::rng::SplitMix64::new(seed);
    pool.get(rng.below(pool.len() as u64) as usize).cloned()
}

/// The session's seed: the run's user seed mixed with the task and replicate, so each
/// replicate of each task draws its own persona and a rerun with the same seed draws the same.
pub fn session_seed(user_seed: u64, task: &str, replicate: u32) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ user_seed;
    for byte in task.bytes().chain(replicate.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_pool_has_five_personas_each_with_moves() {
        let pool = parse_pool(POOL).unwrap();
        assert!(pool.len() >= 5, "{pool:?}");
        assert!(pool.iter().all(|p| !p.prefers.is_empty()));
    }

    #[test]
    fn a_task_may_name_its_persona_else_the_seed_draws_one_and_the_same_seed_the_same() {
        let pool = pool();
        assert_eq!(choose(&pool, "pragmatic", 7).unwrap().id, "pragmatic");
        let drawn = |seed| choose(&pool, "A data journalist.", seed).unwrap().id;
        assert_eq!(drawn(3), drawn(3));
        let all: std::collections::BTreeSet<String> = (0..200)
            .map(|r| drawn(session_seed(1, "todo", r)))
            .collect();
        assert_eq!(all.len(), pool.len(), "every persona is drawn: {all:?}");
        assert_ne!(session_seed(1, "todo", 1), session_seed(1, "todo", 2));
        assert_ne!(session_seed(1, "todo", 1), session_seed(2, "todo", 1));
    }

    #[test]
    fn a_broken_pool_is_refused_with_the_reason() {
        assert!(parse_pool("personas: []").unwrap_err().contains("empty"));
        let twice = "personas:\n  - {id: a, description: d, wording: w, bug_tolerance: low, prefers: [fix]}\n  - {id: a, description: d, wording: w, bug_tolerance: low, prefers: [fix]}\n";
        assert!(parse_pool(twice).unwrap_err().contains("used twice"));
        let bad_move = "personas:\n  - {id: a, description: d, wording: w, bug_tolerance: low, prefers: [dance]}\n";
        assert!(parse_pool(bad_move).unwrap_err().contains("dance"));
    }
}
