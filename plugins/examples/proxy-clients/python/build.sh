#!/bin/sh
# Builds proxy-clients.wasm (or OUT.wasm: ./build.sh [OUT.wasm]) with componentize-py (PyPI: componentize-py
# 0.25.x, on PATH or named by $COMPONENTIZE_PY), against the repository's
# contract and Python SDK. WASI is stubbed out: the sandbox provides none.
set -eu
out="$(realpath -m "${1:-$(dirname "$0")/proxy-clients.wasm}")"
cd "$(dirname "$0")"
"${COMPONENTIZE_PY:-componentize-py}" -d ../../../../wit -w policy-plugin componentize \
  -p . -p ../../../sdk-python app --stub-wasi -o "$out"
echo "built $out"
