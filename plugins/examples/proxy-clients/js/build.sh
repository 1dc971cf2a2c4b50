#!/bin/sh
# Builds proxy-clients.wasm (or OUT.wasm: ./build.sh [OUT.wasm]) with componentize-js (npm:
# @bytecodealliance/componentize-js, on PATH or named by $COMPONENTIZE_JS),
# against the repository's contract and JavaScript SDK. Every WASI feature
# is disabled: the sandbox provides none.
set -eu
out="$(realpath -m "${1:-$(dirname "$0")/proxy-clients.wasm}")"
cd "$(dirname "$0")"
# componentize-js reads modules below the source's directory only: the SDK
# is copied next to it (a project of your own keeps its copy, see
# `palisade new rule --lang js`).
mkdir -p sdk
cp ../../../sdk-js/palisade.js sdk/palisade.js
"${COMPONENTIZE_JS:-componentize-js}" app.js -w ../../../../wit -n policy-plugin \
  -d stdio random clocks http fetch-event -o "$out"
echo "built $out"
