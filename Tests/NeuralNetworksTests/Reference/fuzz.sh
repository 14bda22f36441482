#!/usr/bin/env bash
# Fuzzes the model-file and CSV loaders (FuzzTests) in a release build.
#
#   Tests/NeuralNetworksTests/Reference/fuzz.sh [cases]      # default 10000
#
# Every case is a damaged input that must load or throw a descriptive error;
# a crash ends the run with a non-zero status. Environment, all optional:
#   FUZZ_SEED=n        another fixed seed (the default is the test's own)
#   FUZZ_VERBOSE=1     print each case and its outcome (to find the input of a crash)
#   FUZZ_BUILD_PATH=d  build in d instead of .build
set -euo pipefail

cases="${1:-10000}"
if ! [[ "$cases" =~ ^[0-9]+$ ]]; then
    echo "usage: $0 [number of cases]" >&2
    exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

build=()
if [[ -n "${FUZZ_BUILD_PATH:-}" ]]; then build=(--build-path "$FUZZ_BUILD_PATH"); fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

start=$SECONDS
status=0
FUZZ_CASES="$cases" swift test -c release -Xswiftc -target-cpu -Xswiftc native ${build[@]+"${build[@]}"} \
    --filter FuzzTests 2>&1 | tee "$log" || status=$?

summary="$(grep -a '^FuzzTests: [0-9]* cases run' "$log" || true)"
if [[ -z "$summary" ]]; then
    echo "fuzz.sh: no summary — the test crashed or did not run (exit status $status); rerun with FUZZ_VERBOSE=1 to see the last case" >&2
    exit $(( status == 0 ? 1 : status ))
fi
ran="$(sed -n 's/^FuzzTests: \([0-9]*\) cases run.*/\1/p' <<<"$summary")"
echo "fuzz.sh: $ran of $cases cases ran in $(( SECONDS - start )) s (including the build), exit status $status"
exit "$status"
