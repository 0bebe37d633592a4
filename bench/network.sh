#!/usr/bin/env bash
# Networking speed, berthd and a reference dockerd in the same run:
#  1. HTTP throughput (wrk) to busybox httpd through a published port on 127.0.0.1, 1 KiB and
#     1 MiB responses, against the same httpd run on the host (the ceiling). berthd publishes
#     with nftables DNAT; dockerd here runs its userland proxy (docker-proxy) on its own bridge,
#     with --iptables=false so it adds no iptables chains to the host.
#  2. Container start-to-exit latency with a bridge network vs `--network none`.
# Needs root, Debian's docker.io (dockerd, docker-proxy), wrk and a release build.
#
#   bench/network.sh [SECONDS] [RUNS] [ROUNDS]
#     (wrk seconds per measurement, default 3; runs of docker run, 20; wrk rounds, 10)
source "$(dirname "$0")/lib.sh"
secs=${1:-3}
runs=${2:-20}
rounds=${3:-10}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }

# Private names and subnets: nothing here is shared with a real berthd or dockerd.
tag=$(printf '%04x' $((RANDOM)))
berth_bridge=bnb$tag
docker_bridge=bnd$tag
berthd_args=(--bridge-name "$berth_bridge" --nft-table "berth_bench$tag" --bip "10.247.$((RANDOM % 250)).1/24")
host_pid=
net_cleanup() {
  for s in "${berth_sock:-}" "${ref_sock:-}"; do
    [ -S "$s" ] && DOCKER_HOST=unix://$s docker rm -f nb-web >/dev/null 2>&1 || true
  done
  [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null || true
  bench_cleanup
  ip link del "$docker_bridge" 2>/dev/null || true
  ip link del "$berth_bridge" 2>/dev/null || true
  nft delete table ip "berth_bench$tag" 2>/dev/null || true
}
trap net_cleanup EXIT

ip link add "$docker_bridge" type bridge
ip addr add "10.246.$((RANDOM % 250)).1/24" dev "$docker_bridge"
ip link set "$docker_bridge" up
bench_start --bridge "$docker_bridge"

# The same files for every server: 1 KiB and 1 MiB.
mkdir -p "$work/www"
head -c 1024 /dev/zero > "$work/www/1k"
head -c 1048576 /dev/zero > "$work/www/1m"
serve='mkdir -p /www && head -c 1024 /dev/zero > /www/1k && head -c 1048576 /dev/zero > /www/1m && exec httpd -f -p 8080 -h /www'

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)); }

host_port=$(free_port)
busybox httpd -f -p "127.0.0.1:$host_port" -h "$work/www" &
host_pid=$!
berth_port=$(free_port)
DOCKER_HOST=unix://$berth_sock docker run -d --name nb-web -p "127.0.0.1:$berth_port:8080" busybox sh -c "$serve" >/dev/null
docker_port=$(free_port)
DOCKER_HOST=unix://$ref_sock docker run -d --name nb-web -p "127.0.0.1:$docker_port:8080" busybox sh -c "$serve" >/dev/null

wait_http() { for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/1k" && return 0; sleep 0.1; done
  echo "nothing serves 127.0.0.1:$1" >&2; exit 1; }
for p in "$host_port" "$berth_port" "$docker_port"; do wait_http "$p"; done

# requests/s of wrk against 127.0.0.1:PORT/PATH
rps() { wrk -t2 -c16 -d"${secs}s" "http://127.0.0.1:$1/$2" | awk '/Requests\/sec/ {print $2}'; }

# Each size ROUNDS times, the three servers in rotating order. busybox httpd listens with a
# backlog of 9, so SYN drops (1 s retry each, on the host as in containers) make single runs
# swing by ±10%: each round gives a ratio to the host run next to it in time, and the ratios'
# mean is printed with its standard error, so a difference smaller than the noise shows as such.
printf 'HTTP through a published port on 127.0.0.1 (wrk -t2 -c16, %ss each, %d rounds)\n' "$secs" "$rounds"
for size in 1k 1m; do
  : > "$work/rounds.$size"
  for r in $(seq 1 "$rounds"); do
    case $((r % 3)) in
      1) order="host berth docker" ;;
      2) order="berth docker host" ;;
      0) order="docker host berth" ;;
    esac
    for who in $order; do
      case $who in
        host) h=$(rps "$host_port" "$size") ;;
        berth) b=$(rps "$berth_port" "$size") ;;
        docker) d=$(rps "$docker_port" "$size") ;;
      esac
    done
    printf '    round %d %s: host %s berth %s docker %s req/s\n' "$r" "$size" "$h" "$b" "$d" >&2
    echo "$h $b $d" >> "$work/rounds.$size"
  done
  # mean req/s of each, and the mean ± standard error of the per-round ratios to the host
  awk -v size="$size" '
    { h += $1; b += $2; d += $3; rb[NR] = $2 / $1; rd[NR] = $3 / $1 }
    function stat(r, n,   i, m, v) { for (i = 1; i <= n; i++) m += r[i]; m /= n
      for (i = 1; i <= n; i++) v += (r[i] - m) ^ 2
      return sprintf("%.3f ± %.3f", m, n > 1 ? sqrt(v / (n - 1) / n) : 0) }
    END { n = NR; printf "  %s: host %.0f req/s | berthd %.0f req/s (%s of host) | dockerd %.0f req/s (%s of host)\n",
      size, h / n, b / n, stat(rb, n), d / n, stat(rd, n) }' "$work/rounds.$size"
done
printf '  target: berthd >= 0.900 of host (mean of the rounds ± its standard error)\n'

run_true() { DOCKER_HOST=unix://$1 docker run --rm "${@:2}" busybox true; }
time_runs() { # socket, run flags… → mean seconds per run
  run_true "$@"   # warm-up
  mean_seconds "$runs" run_true "$@"
}
printf 'docker run --rm busybox true, mean of %d runs\n' "$runs"
for d in berthd dockerd; do
  s=$berth_sock; [ "$d" = dockerd ] && s=$ref_sock
  none=$(time_runs "$s" --network none)
  bridge=$(time_runs "$s")
  printf '  %-7s: --network none %ss | bridge %ss | bridge cost %s ms\n' "$d" "$none" "$bridge" \
    "$(awk -v a="$bridge" -v b="$none" 'BEGIN { printf "%.1f", (a - b) * 1000 }')"
done
printf '  target: berthd bridge cost <= 20 ms\n'
