#!/usr/bin/env bash
# Start-to-exit latency of `docker run --rm busybox true`, berthd vs a reference dockerd, in the
# same run, plus berthd's idle RSS. Needs root, Debian's docker.io (for dockerd) and a release
# build (`cargo build --release --bins`).
#
#   bench/run-latency.sh [RUNS]      (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
bin=${CARGO_TARGET_DIR:-target}/release
[ -x "$bin/berthd" ] || { echo "build first: cargo build --release --bins" >&2; exit 1; }
command -v dockerd >/dev/null || { echo "needs dockerd (apt-get install docker.io)" >&2; exit 1; }

work=$(mktemp -d /tmp/bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  grep -F "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
  for d in /sys/fs/cgroup/*/"berth-bench-$$" /sys/fs/cgroup/"berth-bench-$$"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  true
}
trap cleanup EXIT

scripts/make-busybox-image.sh "$work/img" >/dev/null
echo "{}" > "$work/daemon.json"

"$bin/berthd" --data-root "$work/berth" --exec-root "$work/berth-exec" -H "unix://$work/berth.sock" \
  --cgroup-parent "berth-bench-$$" --config-file "$work/daemon.json" > "$work/berthd.log" 2>&1 &
pids+=($!); berthd_pid=$!
dockerd -H "unix://$work/ref.sock" --data-root "$work/ref" --exec-root "$work/ref-exec" \
  --pidfile "$work/ref.pid" --bridge none --iptables=false > "$work/dockerd.log" 2>&1 &
pids+=($!)

wait_sock() { for _ in $(seq 1 200); do DOCKER_HOST=unix://$1 docker version >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "daemon at $1 did not start" >&2; exit 1; }
wait_sock "$work/berth.sock"
wait_sock "$work/ref.sock"

time_runs() { # socket → mean seconds per run
  local sock=$1
  DOCKER_HOST=unix://$sock docker load -q -i "$work/img/busybox.tar" >/dev/null
  DOCKER_HOST=unix://$sock docker run --rm --network none busybox true   # warm-up
  local start end
  start=$(date +%s.%N)
  for _ in $(seq 1 "$runs"); do DOCKER_HOST=unix://$sock docker run --rm --network none busybox true; done
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%.4f", (e - s) / n }'
}

sleep 1
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$berthd_pid/status")
berth_s=$(time_runs "$work/berth.sock")
docker_s=$(time_runs "$work/ref.sock")
ratio=$(awk -v a="$berth_s" -v b="$docker_s" 'BEGIN { printf "%.3f", a / b }')
printf 'docker run --rm busybox true, mean of %d runs\n' "$runs"
printf '  berthd : %ss\n' "$berth_s"
printf '  dockerd: %ss\n' "$docker_s"
printf '  ratio berthd/dockerd: %s (target <= 0.333)\n' "$ratio"
printf 'berthd idle RSS: %d KiB (target < 20480)\n' "$rss_kb"
