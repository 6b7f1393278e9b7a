//! `swarm fleet calibrate`: the simulator's latency constants measured on a real server.
//!
//! Three kinds of request, each with a fresh nonce at the start of its prompt so nothing of
//! it is in any slot's cache:
//! - **prefill**: a prompt of about a thousand tokens and a one-token reply; the server's
//!   `timings.prompt_per_second` is the prefill speed;
//! - **decode**: a short prompt and a reply of up to 96 tokens, alone on the server; its
//!   `timings.predicted_per_second` is one stream's generation speed, and what the request's
//!   wall has beyond its prefill and its decoding is the per-request overhead;
//! - **parallel**: `parallel` decode requests at once; how much each stream slows down gives
//!   the slow-down per extra busy slot (`share`: k streams each run at `1 ÷ (1 + share ×
//!   (k − 1))` of one alone).
//!
//! Medians over `rounds` of each. The time between two requests of a worker (its tools run)
//! is not a server's figure: it keeps the default.

use super::Calibration;
use crate::llm::{ChatRequest, ChatResponse, LlmClient, Message, Role};
use serde::{Deserialize, Serialize};

/// What was measured, and the constants it gives (the file `--calibration` reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationFile {
    /// Prompt tokens prefilled per token generated, per second.
    pub prefill_per_decode: f64,
    /// Seconds each request costs besides its tokens.
    pub overhead_s: f64,
    /// Slow-down per extra busy slot.
    pub share: f64,
    /// Seconds between two requests of a worker (not measured here: the default).
    pub tool_s: f64,
    /// The measurements behind them.
    #[serde(default)]
    pub measured: Option<Measurement>,
}

/// The raw medians.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The server (no key).
    pub url: String,
    /// The model.
    pub model: String,
    /// When, RFC 3339.
    pub at: String,
    /// Requests of each kind.
    pub rounds: u32,
    /// Prefill speed, tokens/s.
    pub prefill_tokens_per_second: f64,
    /// One stream's generation speed, tokens/s.
    pub decode_tokens_per_second: f64,
    /// Streams run at once for `share`.
    pub parallel: u32,
    /// Each stream's generation speed with `parallel` at once, tokens/s (None: 1 slot).
    pub parallel_tokens_per_second: Option<f64>,
}

impl CalibrationFile {
    /// The simulator's constants.
    pub fn calibration(&self) -> Calibration {
        Calibration {
            prefill_per_decode: self.prefill_per_decode,
            overhead_s: self.overhead_s,
            tool_s: self.tool_s,
            share: self.share,
            source: "calibrated",
        }
    }

    /// Reads and checks a file written by `swarm fleet calibrate` (or by hand).
    pub fn read(path: &std::path::Path) -> Result<CalibrationFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        let file: CalibrationFile = serde_json::from_str(&text).map_err(|err| {
            format!(
                "{} is not a calibration (swarm fleet calibrate writes one): {err}",
                path.display()
            )
        })?;
        let checks = [
            (
                "prefill_per_decode",
                file.prefill_per_decode,
                0.01,
                10_000.0,
            ),
            ("overhead_s", file.overhead_s, 0.0, 60.0),
            ("share", file.share, 0.0, 4.0),
            ("tool_s", file.tool_s, 0.0, 600.0),
        ];
        for (name, value, low, high) in checks {
            if !value.is_finite() || value < low || value > high {
                return Err(format!(
                    "{}: {name} is {value}; it must be between {low} and {high}",
                    path.display()
                ));
            }
        }
        Ok(file)
    }

    /// The table `swarm fleet calibrate` prints.
    pub fn table(&self) -> String {
        let mut text = String::new();
        if let Some(m) = &self.measured {
            text.push_str(&format!(
                "measured on {} ({}), {} request(s) of each kind, medians:\n",
                m.url, m.model, m.rounds
            ));
            text.push_str(&format!(
                "  prefill                {:>9.1} tokens/s\n  decode, one stream     {:>9.1} tokens/s\n",
                m.prefill_tokens_per_second, m.decode_tokens_per_second
            ));
            if let Some(parallel) = m.parallel_tokens_per_second {
                text.push_str(&format!(
                    "  decode, {} streams      {:>9.1} tokens/s each\n",
                    m.parallel, parallel
                ));
            }
        }
        text.push_str(&format!(
            "simulator constants:\n  prefill_per_decode     {:>9.2}\n  overhead_s             {:>9.3}\n  share                  {:>9.3}\n  tool_s                 {:>9.2}  (not a server figure: the default)\n",
            self.prefill_per_decode, self.overhead_s, self.share, self.tool_s
        ));
        text
    }
}

/// Filler words for the prefill prompt: varied enough that a tokenizer cannot fold them.
const WORDS: [&str; 24] = [
    "harbor", "lantern", "quartz", "meadow", "copper", "violet", "tundra", "saddle", "ember",
    "walnut", "glacier", "pepper", "orbit", "canyon", "thistle", "marble", "falcon", "juniper",
    "cobalt", "river", "sonnet", "basalt", "mango", "prism",
];

fn prefill_prompt(nonce: u64) -> String {
    let mut rng = crate::rng::SplitMix64::new(nonce);
    let words: Vec<&str> = (0..700)
        .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
        .collect();
    format!(
        "[{nonce:016x}] Here is a list of words: {}. Reply with the first word only.",
        words.join(" ")
    )
}

fn decode_prompt(nonce: u64) -> String {
    format!("[{nonce:016x}] Write the numbers from one to two hundred in words, separated by commas, and nothing else.")
}

fn request(model: &str, text: String, max_tokens: u32) -> ChatRequest {
    let mut request = ChatRequest::new(model, vec![Message::text(Role::User, text)]);
    request.max_tokens = Some(max_tokens);
    request.temperature = Some(0.0);
    request
}

/// The median of the finite values.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    super::median(&mut values)
}

async fn ask(client: &LlmClient, request: &ChatRequest) -> Result<ChatResponse, String> {
    client.chat(request).await.map_err(|err| err.to_string())
}

/// Measures `client`'s server serving `model`; `seed` makes the nonces (two runs with the
/// same seed would find their prompts cached: give each run its own).
pub async fn calibrate(
    client: &LlmClient,
    url: &str,
    model: &str,
    rounds: u32,
    parallel: u32,
    seed: u64,
) -> Result<CalibrationFile, String> {
    let rounds = rounds.max(1);
    let mut nonce = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        nonce = nonce.wrapping_add(0x2545_F491_4F6C_DD1D);
        nonce
    };
    let mut prefill = Vec::new();
    for _ in 0..rounds {
        let reply = ask(client, &request(model, prefill_prompt(next()), 1)).await?;
        prefill.push(reply.usage.prefill_tokens_per_second.unwrap_or(f64::NAN));
    }
    let prefill_tps = median(prefill).ok_or(
        "the server reported no prompt speed (`timings.prompt_per_second`): calibrate needs llama-server's timings",
    )?;
    let mut decode = Vec::new();
    let mut walls = Vec::new();
    for _ in 0..rounds {
        let reply = ask(client, &request(model, decode_prompt(next()), 96)).await?;
        let Some(speed) = reply.usage.tokens_per_second else {
            return Err("the server reported no generation speed (`timings.predicted_per_second`): calibrate needs llama-server's timings".into());
        };
        if reply.usage.completion_tokens < 8 {
            return Err(format!(
                "the model answered only {} token(s): too few to time its generation",
                reply.usage.completion_tokens
            ));
        }
        let uncached = reply
            .usage
            .prompt_tokens
            .saturating_sub(reply.usage.cached_prompt_tokens.unwrap_or(0));
        decode.push(speed);
        walls.push((
            reply.total_ms as f64 / 1000.0,
            uncached,
            reply.usage.completion_tokens,
        ));
    }
    let decode_tps = median(decode).ok_or("no generation speed was measured")?;
    let overhead = median(
        walls
            .iter()
            .map(|(wall, prompt, completion)| {
                wall - *prompt as f64 / prefill_tps - *completion as f64 / decode_tps
            })
            .collect(),
    )
    .unwrap_or(0.0)
    .max(0.0);
    let parallel = parallel.max(1);
    let mut parallel_tps = None;
    let mut share = Calibration::default().share;
    if parallel > 1 {
        let mut speeds = Vec::new();
        for _ in 0..rounds {
            let requests: Vec<ChatRequest> = (0..parallel)
                .map(|_| request(model, decode_prompt(next()), 96))
                .collect();
            let replies = futures::future::join_all(requests.iter().map(|r| ask(client, r))).await;
            for reply in replies {
                speeds.extend(reply?.usage.tokens_per_second);
            }
        }
        if let Some(each) = median(speeds) {
            parallel_tps = Some(each);
            share = ((decode_tps / each - 1.0) / f64::from(parallel - 1)).clamp(0.0, 4.0);
        }
    }
    Ok(CalibrationFile {
        prefill_per_decode: prefill_tps / decode_tps,
        overhead_s: overhead,
        share,
        tool_s: Calibration::default().tool_s,
        measured: Some(Measurement {
            url: url.to_string(),
            model: model.to_string(),
            at: crate::clock::now_rfc3339(),
            rounds,
            prefill_tokens_per_second: prefill_tps,
            decode_tokens_per_second: decode_tps,
            parallel,
            parallel_tokens_per_second: parallel_tps,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Scenario, SimFleet};

    /// Calibrates a one-node scripted fleet described by `yaml`.
    async fn calibrate_sim(
        yaml: &str,
        rounds: u32,
        parallel: u32,
    ) -> Result<CalibrationFile, String> {
        let scenario = Scenario::from_yaml(yaml, "inline").unwrap();
        let fleet = SimFleet::start(scenario, "127.0.0.1").await.unwrap();
        let node = &fleet.nodes[0];
        let client = LlmClient::new(crate::llm::ClientConfig::new(node.url.clone())).unwrap();
        calibrate(&client, &node.url, &node.model, rounds, parallel, 7).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_simulated_server_is_measured_as_it_was_made() {
        // Prefill 2,000 tokens/s, decode 100 tokens/s: 20 prompt tokens per generated one.
        // swarm-sim streams each slot at full speed (no sharing between slots).
        let reply = "one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve, thirteen, fourteen, fifteen, sixteen, seventeen, eighteen, nineteen, twenty";
        let yaml = format!(
            "nodes: [{{name: a, tokens_per_second: 100, prefill_tokens_per_second: 2000, slots: 2}}]\ndefault_reply: {{content: '{reply}'}}"
        );
        let file = calibrate_sim(&yaml, 2, 2).await.unwrap();
        let measured = file.measured.clone().unwrap();
        assert_eq!(measured.prefill_tokens_per_second, 2000.0);
        let ratio = file.prefill_per_decode / 20.0;
        assert!((0.8..1.25).contains(&ratio), "{}", file.table());
        assert!(file.share < 0.2, "{}", file.table());
        assert!(file.overhead_s < 0.5, "{}", file.table());
        assert_eq!(file.tool_s, Calibration::default().tool_s);
        // What it writes, `simulate --calibration` reads back.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calibration.json");
        std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
        let read = CalibrationFile::read(&path).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
        assert!(close(read.prefill_per_decode, file.prefill_per_decode));
        assert!(close(read.overhead_s, file.overhead_s) && close(read.share, file.share));
        assert_eq!(read.calibration().source, "calibrated");
        assert!(
            file.table().contains("prefill_per_decode"),
            "{}",
            file.table()
        );
    }

    #[tokio::test]
    async fn a_reply_too_short_to_time_is_refused_with_why() {
        // A reply of one token cannot time a model's generation.
        let err = calibrate_sim("nodes: [{name: a}]\ndefault_reply: {content: hi}", 1, 1)
            .await
            .unwrap_err();
        assert!(err.contains("too few to time"), "{err}");
    }

    #[test]
    fn a_bad_calibration_file_is_refused_naming_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(
            &path,
            r#"{"prefill_per_decode": -1, "overhead_s": 0.1, "share": 0.2, "tool_s": 0.5}"#,
        )
        .unwrap();
        let err = CalibrationFile::read(&path).unwrap_err();
        assert!(err.contains("prefill_per_decode is -1"), "{err}");
        std::fs::write(&path, "not json").unwrap();
        let err = CalibrationFile::read(&path).unwrap_err();
        assert!(err.contains("is not a calibration"), "{err}");
        let err = CalibrationFile::read(&dir.path().join("missing.json")).unwrap_err();
        assert!(err.contains("cannot read"), "{err}");
    }
}
