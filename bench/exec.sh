#!/usr/bin/env bash
# exec latency, concurrent starts and memory per container, berthd vs a reference dockerd in the
# same run:
#   1. `docker exec C true`, mean of RUNS (target: berthd at most half of dockerd's time);
#   2. 50 concurrent `docker run -d busybox sleep` (wall time for all of them);
#   3. RSS of berthd + its shims, and of dockerd + containerd + its shims, with those 50 running
#      (target: < 2 MiB per berth shim).
# Needs root, Debian's docker.io and a release build (`cargo build --release --bins`).
#
#   bench/exec.sh [RUNS] [N]      (defaults 50 and 50)
source "$(dirname "$0")/lib.sh"
runs=${1:-50}
n=${2:-50}
bench_start

dk() { local s=$1; shift; DOCKER_HOST=unix://$s docker "$@"; }
exec_true() { dk "$1" exec bench-exec true; }

# 1. exec latency
for s in "$berth_sock" "$ref_sock"; do dk "$s" run -d --network none --name bench-exec busybox sleep 100000 >/dev/null; done
exec_true "$berth_sock"; exec_true "$ref_sock"   # warm-up
berth_exec=$(mean_seconds "$runs" exec_true "$berth_sock")
docker_exec=$(mean_seconds "$runs" exec_true "$ref_sock")

# 2. n concurrent `docker run -d`
run_many() { # socket → wall seconds to start n containers at once
  local s=$1 start end
  start=$(date +%s.%N)
  for i in $(seq 1 "$n"); do dk "$s" run -d --network none --name "bench-$i" busybox sleep 100000 >/dev/null & done
  wait
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}
berth_many=$(run_many "$berth_sock")
docker_many=$(run_many "$ref_sock")
berth_running=$(dk "$berth_sock" ps -q | wc -l)
docker_running=$(dk "$ref_sock" ps -q | wc -l)

# 3. memory with them running
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
sum_rss() { local t=0 p; for p in "$@"; do t=$((t + $(rss "$p"))); done; echo "$t"; }
# Private memory (RssAnon) and proportional set size (Pss: shared binary pages divided among
# the processes that map them) — RSS counts the shared pages of the binary in every process.
anon() { awk '/RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
sum_of() { local f=$1 t=0 p; shift; for p in "$@"; do t=$((t + $($f "$p"))); done; echo "$t"; }
shim_pids=$(pgrep -f "berth-shim $work/" || true)
shim_count=$(echo "$shim_pids" | grep -c . || true)
shims_kb=$(sum_rss $shim_pids)
berthd_kb=$(rss "$berthd_pid")
ref_pid=$(cat "$work/ref.pid")
containerd_pids=$(pgrep -f "containerd.*$work/ref-exec" || true)
ref_shim_pids=$(pgrep -f "containerd-shim.*-namespace moby" | while read -r p; do
  grep -qF "$work" "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done || true)
ref_shim_pids=${ref_shim_pids:-$(pgrep -f containerd-shim || true)}
ref_shim_count=$(echo "$ref_shim_pids" | grep -c . || true)
ref_shims_kb=$(sum_rss $ref_shim_pids)
dockerd_kb=$(( $(rss "$ref_pid") + $(sum_rss $containerd_pids) ))

printf 'docker exec C true, mean of %d runs\n' "$runs"
printf '  berthd : %ss\n  dockerd: %ss\n' "$berth_exec" "$docker_exec"
printf '  ratio berthd/dockerd: %s (target <= 0.5)\n' "$(ratio "$berth_exec" "$docker_exec")"
printf '%d concurrent docker run -d (wall time for all)\n' "$n"
printf '  berthd : %ss (%d running)\n  dockerd: %ss (%d running)\n' "$berth_many" "$berth_running" "$docker_many" "$docker_running"
printf '  ratio berthd/dockerd: %s\n' "$(ratio "$berth_many" "$docker_many")"
printf 'RSS with %d containers running\n' "$((n + 1))"
printf '  berthd: %d KiB, %d shims: %d KiB (%d KiB each; target < 2048)\n' \
  "$berthd_kb" "$shim_count" "$shims_kb" "$((shims_kb / (shim_count > 0 ? shim_count : 1)))"
printf '  dockerd+containerd: %d KiB, %d containerd shims: %d KiB (%d KiB each)\n' \
  "$dockerd_kb" "$ref_shim_count" "$ref_shims_kb" "$((ref_shims_kb / (ref_shim_count > 0 ? ref_shim_count : 1)))"
per() { echo $(( $1 / ($2 > 0 ? $2 : 1) )); }
printf 'per shim, private (RssAnon) / proportional (Pss)\n'
printf '  berth-shim: %d KiB / %d KiB\n' "$(per "$(sum_of anon $shim_pids)" "$shim_count")" "$(per "$(sum_of pss $shim_pids)" "$shim_count")"
printf '  containerd-shim: %d KiB / %d KiB\n' "$(per "$(sum_of anon $ref_shim_pids)" "$ref_shim_count")" "$(per "$(sum_of pss $ref_shim_pids)" "$ref_shim_count")"

# Remove the containers before the daemons stop (the exit trap removes the rest).
for s in "$berth_sock" "$ref_sock"; do dk "$s" rm -f $(dk "$s" ps -aq) >/dev/null 2>&1 || true; done
