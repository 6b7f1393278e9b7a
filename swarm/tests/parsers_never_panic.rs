//! Property tests: no parser panics on any input — arbitrary bytes, and real responses
//! mutated (bytes flipped, cut short, spliced).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use swarm::agent::{actions_from_reply, first_json_object};
use swarm::llm::{
    classify_http_error, detect_context_overflow, parse_llama_props, parse_llama_slots,
    parse_lmstudio_models, parse_ollama, parse_openai_models, parse_vllm_metrics,
    recover_text_tool_calls, split_think, ReplyAssembler, SseDecoder, SseItem,
};

/// Real response shapes, recorded from the backends' documented formats.
const REAL: &[&str] = &[
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"write_file\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"path\\\": \\\"a\\\"}\"}}]},\"finish_reason\":\"\"}]}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"hm\"}}]}\n\n: ping\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"<think>x</think>hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":1}},\"timings\":{\"predicted_per_second\":9.5,\"cache_n\":1}}\n\n",
    "<tool_call>\n{\"name\": \"run\", \"arguments\": {\"command\": \"ls\"}}\n</tool_call>",
    "<tool_call>\n<function=write_file>\n<parameter=path>\na.py\n</parameter>\n<parameter=content>\nx\n</parameter>\n</function>\n</tool_call>",
    "[TOOL_REQUEST]{\"name\": \"done\", \"arguments\": {\"summary\": \"s\"}}[END_TOOL_REQUEST]",
    "[TOOL_CALLS][{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}] [TOOL_CALLS]run[ARGS]{\"command\":\"ls\"}",
    "{\"error\":{\"code\":400,\"message\":\"the request exceeds the available context size\",\"type\":\"exceed_context_size_error\",\"n_prompt_tokens\":5210,\"n_ctx\":4096}}",
    "{\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens\",\"code\":400}",
    "{\"error\":\"Trying to keep the first 6120 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens\"}",
    "{\"models\":[{\"type\":\"llm\",\"key\":\"q\",\"max_context_length\":32768,\"capabilities\":{\"trained_for_tool_use\":true},\"loaded_instances\":[{\"id\":\"q\",\"config\":{\"context_length\":8192}}]}]}",
    "{\"object\":\"list\",\"data\":[{\"id\":\"q\",\"state\":\"loaded\",\"loaded_context_length\":4096}]}",
    "{\"models\":[{\"name\":\"qwen3:8b\",\"model\":\"qwen3:8b\",\"context_length\":8192}]}",
    "{\"default_generation_settings\":{\"n_ctx\":4096},\"total_slots\":2,\"chat_template_caps\":{\"supports_tools\":true}}",
    "[{\"id\":0,\"is_processing\":true},{\"id\":1,\"state\":0}]",
    "vllm:num_requests_running{model_name=\"q\"} 3.0\nvllm:num_requests_waiting{model_name=\"q\"} 1.0\n",
    "{\"object\":\"list\",\"data\":[{\"id\":\"Qwen/Qwen3-32B\",\"max_model_len\":32768}]}",
];

fn exercise(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let mut decoder = SseDecoder::new();
    let mut items = decoder.push(bytes);
    items.extend(decoder.finish());
    let mut assembler = ReplyAssembler::new();
    for item in items {
        if let SseItem::Event { data, .. } = item {
            if let Ok(value) = serde_json::from_str(&data) {
                assembler.push_chunk(&value);
            }
        }
    }
    if let Ok(value) = serde_json::from_slice(bytes) {
        assembler.push_full(&value);
    }
    let reply = assembler.finish();
    let _ = actions_from_reply(&reply, 1);
    let _ = recover_text_tool_calls(&text);
    let _ = split_think(&text);
    let _ = first_json_object(&text);
    let _ = detect_context_overflow(&text);
    let _ = classify_http_error(400, "u", &text);
    let _ = parse_lmstudio_models(bytes);
    let _ = parse_ollama(bytes, Some(bytes));
    let _ = parse_llama_props(bytes);
    let _ = parse_llama_slots(bytes);
    let _ = parse_vllm_metrics(bytes);
    let _ = parse_openai_models(bytes);
    let steps = swarm::console::console_steps(&text);
    let _ = swarm::console::fixtures(&text);
    let _ = swarm::console::parse_console(&text);
    let lines: Vec<String> = text.lines().map(String::from).collect();
    let _ = swarm::console::output_matches(&lines, &text);
    let _ = swarm::console::explain_mismatch(&lines, "a\nb");
    for step in steps {
        let _ = swarm::console::output_matches(&step.expected, &text);
    }
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..REAL.len(),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        any::<usize>(),
        0..REAL.len(),
    )
        .prop_map(|(pick, flips, cut, splice)| {
            let mut bytes = REAL[pick].as_bytes().to_vec();
            for (at, byte) in flips {
                if !bytes.is_empty() {
                    let index = at % bytes.len();
                    bytes[index] = byte;
                }
            }
            let cut = cut % (bytes.len() + 1);
            bytes.truncate(cut);
            bytes.extend_from_slice(REAL[splice].as_bytes());
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_real_responses_never_panic(bytes in mutated()) {
        exercise(&bytes);
    }

    #[test]
    fn tag_soup_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "<tool_call>", "</tool_call>", "<function=", "<function=x>", "<parameter=", "<parameter=k>", "</parameter>",
        "</function>", "[TOOL_REQUEST]", "[END_TOOL_REQUEST]", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "<think>",
        "</think>", "{", "}", "\"name\"", ":", "\"x\"", "[", "]", "é", "\n", " ",
        "```console\n", "```\n", "$ ", "? 1\n", "[..]", "...\n", "file=a.txt",
    ]), 0..40)) {
        exercise(parts.concat().as_bytes());
    }
}

#[test]
fn chunked_sse_equals_whole_sse() {
    // Splitting a stream at every byte gives the same events as feeding it whole.
    for sample in REAL.iter().take(2) {
        let mut whole = SseDecoder::new();
        let expected = whole.push(sample.as_bytes());
        let mut split = SseDecoder::new();
        let got: Vec<SseItem> = sample
            .as_bytes()
            .iter()
            .flat_map(|b| split.push(&[*b]))
            .collect();
        assert_eq!(got, expected);
    }
}
