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
#     (wrk seconds per measurement, default 5; runs of docker run, 20; wrk rounds, 3)
source "$(dirname "$0")/lib.sh"
secs=${1:-5}
runs=${2:-20}
rounds=${3:-3}
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

# Each size ROUNDS times, the three servers in rotating order; req/s averaged. busybox httpd
# listens with a backlog of 9, so SYN drops (1 s retry each, on the host as in containers)
# make single 5 s runs swing by ±20%.
sum() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
mean() { awk -v a="$1" -v n="$rounds" 'BEGIN { printf "%.2f", a / n }'; }
printf 'HTTP through a published port on 127.0.0.1 (wrk -t2 -c16, %ss each, mean of %d rounds)\n' "$secs" "$rounds"
for size in 1k 1m; do
  h=0 b=0 d=0
  for r in $(seq 1 "$rounds"); do
    case $((r % 3)) in
      1) order="host berth docker" ;;
      2) order="berth docker host" ;;
      0) order="docker host berth" ;;
    esac
    for who in $order; do
      case $who in
        host) x=$(rps "$host_port" "$size"); h=$(sum "$h" "$x") ;;
        berth) x=$(rps "$berth_port" "$size"); b=$(sum "$b" "$x") ;;
        docker) x=$(rps "$docker_port" "$size"); d=$(sum "$d" "$x") ;;
      esac
      printf '    round %d %s %s: %s req/s\n' "$r" "$size" "$who" "$x" >&2
    done
  done
  h=$(mean "$h"); b=$(mean "$b"); d=$(mean "$d")
  printf '  %s: host %s req/s | berthd %s req/s (%s of host) | dockerd %s req/s (%s of host)\n' \
    "$size" "$h" "$b" "$(ratio "$b" "$h")" "$d" "$(ratio "$d" "$h")"
done
printf '  target: berthd >= 0.900 of host\n'

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
