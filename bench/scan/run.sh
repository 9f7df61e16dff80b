#!/usr/bin/env bash
# Benchmark of `bulkhead scan`: generate a labelled corpus (1,000 Dockerfiles and 1,000
# Kubernetes files, half secure, half with injected problems), scan it with the release binary,
# and print wall time, peak memory, recall and precision against the labels.
#
#   bench/scan/run.sh [N_DOCKERFILES] [N_K8S] [SEED]
#
# Targets on a 2-core machine: under 1 s wall, under 100 MB, recall and precision above 99%.
# Exit status 1 when a target is not met.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p bulkhead --bin bulkhead
cargo build --release -q -p bulkhead-scan --example scan_corpus
corpus="${TMPDIR:-/tmp}/bulkhead-scan-corpus"
./target/release/examples/scan_corpus generate "$corpus" "${1:-1000}" "${2:-1000}" "${3:-20260101}"
# one warm-up run so the page cache holds the corpus, then the measured run
./target/release/bulkhead scan "$corpus/docker" "$corpus/k8s" --format json --fail-on never -o /dev/null
echo "nproc: $(nproc)"
./target/release/examples/scan_corpus measure ./target/release/bulkhead "$corpus"
