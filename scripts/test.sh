#!/usr/bin/env bash
# Runs the whole test suite: unit, golden, in-process API and end-to-end tests (the latter start
# real berthd daemons on private roots; they need root and BERTH_TEST_PRIVILEGED=1).
#
#   sudo BERTH_TEST_PRIVILEGED=1 scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ -z "${CARGO_TARGET_DIR:-}" ] && { [ -d /var/cache/berth-target ] || mkdir -p /var/cache/berth-target 2>/dev/null; }; then
  export CARGO_TARGET_DIR=/var/cache/berth-target
fi
cargo build --workspace --bins
cargo test --workspace --no-fail-fast -- --test-threads="${BERTH_TEST_THREADS:-2}"
