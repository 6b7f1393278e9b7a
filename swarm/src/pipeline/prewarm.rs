//! Warm-ups: the workers' prompts share a stable prefix (the system prompt, the spec, how the
//! app is run and accepted, the frozen contracts — byte for byte the same for every worker),
//! so a server slot that holds it in its prompt cache serves a new worker's first request
//! from cache. A slot with nothing to do is given that prefix before a worker needs it:
//! during CONTRACT the part before the contracts (the contract agent's own preamble), at the
//! start of BUILD the whole of it on every slot the first dispatch left free. llama-server
//! only (where a request names its slot); knob `sched.prewarm`.

use super::context::{agent_config, Ctx};
use super::Event;
use crate::fleet::live as nodes;
use crate::fleet::Role;
use std::time::Instant;
use tokio::task::JoinSet;

/// Sends one warm-up of `preamble` to each worker slot that has a cache to fill, is up, and
/// is not in `skip` (node index, slot). Each request runs on its own, detached, and records
/// a `warm_up` event: one still running when the next phase starts goes on, and a worker
/// sent to that slot waits for it at the server, then finds the prefix cached (a failed one
/// leaves the slot only slower, never wrong).
pub(super) fn warm(ctx: &Ctx, stage: &str, preamble: &str, skip: &[(usize, u32)]) {
    if !ctx.knobs.get(crate::knobs::SCHED_PREWARM) {
        return;
    }
    let mut running = JoinSet::new();
    for index in nodes::with_role(&ctx.nodes, Role::Worker) {
        let live = &ctx.nodes[index];
        if live.down() {
            continue;
        }
        for slot in 0..live.slots.max(1) {
            let Some(server_slot) = live.cache_slot(slot) else {
                continue;
            };
            if skip.contains(&(index, slot)) {
                continue;
            }
            let mut config = agent_config(ctx, index, 1);
            config.preamble = Some(preamble.to_string());
            config.cache_slot = Some(server_slot);
            let request = crate::agent::warm_up_request(&config);
            let client = live.client.clone();
            let recorder = ctx.recorder.clone();
            let node = live.node.name.clone();
            let stage = stage.to_string();
            running.spawn(async move {
                let started = Instant::now();
                let reply = client.chat(&request).await;
                let ms = started.elapsed().as_millis() as u64;
                let (prompt_tokens, cached_tokens, error) = match reply {
                    Ok(reply) => (
                        reply.usage.prompt_tokens,
                        reply
                            .usage
                            .cached_prompt_tokens
                            .unwrap_or(0)
                            .min(reply.usage.prompt_tokens),
                        None,
                    ),
                    Err(err) => (0, 0, Some(err.to_string())),
                };
                recorder.emit(Event::WarmUp {
                    node,
                    slot: server_slot,
                    stage,
                    prompt_tokens,
                    cached_tokens,
                    ms,
                    error,
                });
            });
        }
    }
    running.detach_all();
}
