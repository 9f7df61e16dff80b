#!/usr/bin/env bash
# Benchmark of `bulkhead audit docker` against a private test dockerd (never the machine's own)
# at 0, 10, 50 and 200 running containers, beside the raw API time (one container list plus one
# inspect per container over one connection), and beside the time the daemon needs to answer every
# request of an audit sent concurrently by a client that does nothing else. Prints a table, then
# the CPU time per run of the daemon and of bulkhead and the floor that work sets on this
# machine's cores; README records the figures with the machine they came from.
#
#   bench/docker-audit/run.sh [SIZES] [ROUNDS]   e.g. bench/docker-audit/run.sh 0,10,50,200
#                                                  or  bench/docker-audit/run.sh 50 8
#
# ROUNDS (default 1) repeats the measurement, each round on a fresh daemon: the figures move more
# from one daemon instance to the next than within one. The target is then judged on the median
# ratio of the rounds, and the spread is printed.
#
# Needs root, docker.io and busybox-static (as the test suite). Target: at 50 containers,
# `bulkhead audit docker` within 1.5x of the raw API time. Exit status 1 when the target is missed.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p bulkhead --bin bulkhead
cargo build --release -q -p bulkhead-collect --example docker_audit_bench
exec ./target/release/examples/docker_audit_bench ./target/release/bulkhead "${1:-0,10,50,200}" "${2:-1}"
