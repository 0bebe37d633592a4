# Shared set-up for the benchmark scripts: sourced, not run. It starts a private berthd (release
# build) and a reference dockerd side by side on temp roots, loads the offline busybox image into
# both, and removes everything on exit. After `bench_start`:
#   $work            temp dir (removed on exit)
#   $berth_sock      berthd's socket      $berthd_pid
#   $ref_sock        dockerd's socket
#   bench_pids+=(…)  more pids to stop on exit
# Needs root, Debian's docker.io (dockerd) and `cargo build --release --bins`.
# Set the array `berthd_args` before `bench_start` to pass berthd more flags.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${CARGO_TARGET_DIR:-target}/release
[ -x "$bin/berthd" ] || { echo "build first: cargo build --release --bins" >&2; exit 1; }
command -v dockerd >/dev/null || { echo "needs dockerd (apt-get install docker.io)" >&2; exit 1; }

work=$(mktemp -d /tmp/bench.XXXXXX)
bench_pids=()
bench_cleanup() {
  for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${bench_pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  grep -F "$work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
  for d in /sys/fs/cgroup/*/"berth-bench-$$" /sys/fs/cgroup/"berth-bench-$$"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  true
}
trap bench_cleanup EXIT

wait_sock() { for _ in $(seq 1 200); do DOCKER_HOST=unix://$1 docker version >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "daemon at $1 did not start" >&2; exit 1; }

# bench_start [extra dockerd flags…]: both daemons up, busybox loaded into both.
bench_start() {
  scripts/make-busybox-image.sh "$work/img" >/dev/null
  echo "{}" > "$work/daemon.json"
  "$bin/berthd" --data-root "$work/berth" --exec-root "$work/berth-exec" -H "unix://$work/berth.sock" \
    --cgroup-parent "berth-bench-$$" --config-file "$work/daemon.json" ${berthd_args[@]+"${berthd_args[@]}"} \
    > "$work/berthd.log" 2>&1 &
  bench_pids+=($!); berthd_pid=$!
  dockerd -H "unix://$work/ref.sock" --data-root "$work/ref" --exec-root "$work/ref-exec" \
    --pidfile "$work/ref.pid" --bridge none --iptables=false "$@" > "$work/dockerd.log" 2>&1 &
  bench_pids+=($!)
  berth_sock=$work/berth.sock
  ref_sock=$work/ref.sock
  wait_sock "$berth_sock"
  wait_sock "$ref_sock"
  for s in "$berth_sock" "$ref_sock"; do DOCKER_HOST=unix://$s docker load -q -i "$work/img/busybox.tar" >/dev/null; done
}

# ratio A B → A/B with 3 decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# mean_seconds N CMD… → mean wall seconds of running CMD N times
mean_seconds() {
  local n=$1; shift
  local start end
  start=$(date +%s.%N)
  for _ in $(seq 1 "$n"); do "$@"; done
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$n" 'BEGIN { printf "%.4f", (e - s) / n }'
}
