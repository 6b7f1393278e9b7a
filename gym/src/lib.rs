//! swarm-gym: tasks with hidden checks, a multi-turn runner, graders, results and A/B
//! statistics. The library is built up by issues 3 and 5; today only the `swarm-gym` binary's
//! command surface exists, and every command says it is not available yet.
