#!/usr/bin/env bash
# Start-to-exit latency of `docker run --rm busybox true`, berthd vs a reference dockerd, in the
# same run, plus berthd's idle RSS. Needs root, Debian's docker.io (for dockerd) and a release
# build (`cargo build --release --bins`).
#
#   bench/run-latency.sh [RUNS]      (default 20)
source "$(dirname "$0")/lib.sh"
runs=${1:-20}
bench_start

run_true() { DOCKER_HOST=unix://$1 docker run --rm --network none busybox true; }
time_runs() { # socket → mean seconds per run
  run_true "$1"   # warm-up
  mean_seconds "$runs" run_true "$1"
}

sleep 1
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$berthd_pid/status")
berth_s=$(time_runs "$berth_sock")
docker_s=$(time_runs "$ref_sock")
printf 'docker run --rm busybox true, mean of %d runs\n' "$runs"
printf '  berthd : %ss\n' "$berth_s"
printf '  dockerd: %ss\n' "$docker_s"
printf '  ratio berthd/dockerd: %s (target <= 0.333)\n' "$(ratio "$berth_s" "$docker_s")"
printf 'berthd idle RSS: %d KiB (target < 20480)\n' "$rss_kb"
