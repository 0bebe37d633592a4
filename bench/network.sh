#!/usr/bin/env bash
# Networking speed, berthd and a reference dockerd in the same run:
#  1. HTTP throughput (wrk) to busybox httpd through a published port on 127.0.0.1, 1 KiB and
#     1 MiB responses, against the same httpd run on the host (the ceiling). berthd publishes
#     with nftables DNAT; dockerd here runs its userland proxy (docker-proxy) on its own bridge,
#     with --iptables=false so it adds no iptables chains to the host.
#     The host httpd runs twice: as a server runs on a host (in its own session, as busybox httpd
#     puts itself when it daemonizes), and in wrk's own session. With the kernel's autogroup
#     scheduling a session is a scheduling group, and so is a container's cgroup (on either
#     engine): on this CPU-bound loop, sharing wrk's group is worth several percent that have
#     nothing to do with the network path, so the target is judged against the first. A berthd
#     container with --network host (no veth, no NAT) shows what is left of the gap without any
#     network path. All three ratios are printed.
#  2. Container start-to-exit latency with a bridge network vs `--network none`, run in turn.
# Needs root, Debian's docker.io (dockerd, docker-proxy), wrk and a release build.
#
#   bench/network.sh [SECONDS] [RUNS] [ROUNDS] [CONNECTIONS]
#     (wrk seconds per measurement, default 3; runs of docker run, 20; wrk rounds, 10;
#     wrk connections, 16)
source "$(dirname "$0")/lib.sh"
secs=${1:-3}
runs=${2:-20}
rounds=${3:-10}
conns=${4:-16}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }

# Private names and subnets: nothing here is shared with a real berthd or dockerd.
tag=$(printf '%04x' $((RANDOM)))
berth_bridge=bnb$tag
docker_bridge=bnd$tag
berthd_args=(--bridge-name "$berth_bridge" --nft-table "berth_bench$tag" --bip "10.247.$((RANDOM % 250)).1/24")
host_pid=
same_pid=
net_cleanup() {
  for s in "${berth_sock:-}" "${ref_sock:-}"; do
    [ -S "$s" ] && DOCKER_HOST=unix://$s docker rm -f nb-web nb-hostnet >/dev/null 2>&1 || true
  done
  for p in $host_pid $same_pid; do kill "$p" 2>/dev/null || true; done
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

# The servers, all busybox httpd on 127.0.0.1, measured in turn:
#   host    on the host, in its own session (the ceiling)
#   session on the host, in wrk's session
#   hostnet a berthd container with --network host: all of a container but the network path
#   berth   a berthd container behind -p 127.0.0.1:PORT:8080
#   docker  a dockerd container behind -p 127.0.0.1:PORT:8080
names=(host session hostnet berth docker)
declare -A port
for n in "${names[@]}"; do port[$n]=$(free_port); done
setsid busybox httpd -f -p "127.0.0.1:${port[host]}" -h "$work/www" &
host_pid=$!
busybox httpd -f -p "127.0.0.1:${port[session]}" -h "$work/www" &
same_pid=$!
# setsid execs in place when its caller is not a group leader, as a background job of this
# script is not: once it has, check that the pid is the server's and leads its own session.
for _ in $(seq 1 50); do [ "$(cat "/proc/$host_pid/comm" 2>/dev/null)" = busybox ] && break; sleep 0.1; done
[ "$(awk '{print $6}' "/proc/$host_pid/stat")" = "$host_pid" ] || { echo "host httpd is not in its own session" >&2; exit 1; }
[ "$(awk '{print $6}' "/proc/$same_pid/stat")" != "$same_pid" ] || { echo "second host httpd should share this session" >&2; exit 1; }
DOCKER_HOST=unix://$berth_sock docker run -d --name nb-hostnet --network host busybox \
  sh -c "${serve/-p 8080/-p 127.0.0.1:${port[hostnet]}}" >/dev/null
DOCKER_HOST=unix://$berth_sock docker run -d --name nb-web -p "127.0.0.1:${port[berth]}:8080" busybox sh -c "$serve" >/dev/null
DOCKER_HOST=unix://$ref_sock docker run -d --name nb-web -p "127.0.0.1:${port[docker]}:8080" busybox sh -c "$serve" >/dev/null

wait_http() { for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/1k" && return 0; sleep 0.1; done
  echo "nothing serves 127.0.0.1:$1" >&2; exit 1; }
for n in "${names[@]}"; do wait_http "${port[$n]}"; done

# requests/s of wrk against 127.0.0.1:PORT/PATH
rps() { wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$1/$2" | awk '/Requests\/sec/ {print $2}'; }

# Each size ROUNDS times, the servers in rotating order. busybox httpd listens with a backlog
# of 9, so SYN drops (1 s retry each, on the host as in containers) make single runs swing by
# ±10%: each round gives ratios between runs close in time, and the ratios' mean is printed
# with its standard error, so a difference smaller than the noise shows as such.
printf 'HTTP through a published port on 127.0.0.1 (wrk -t2 -c%s, %ss each, %d rounds)\n' "$conns" "$secs" "$rounds"
for size in 1k 1m; do
  : > "$work/rounds.$size"
  for r in $(seq 1 "$rounds"); do
    declare -A got=()
    for i in "${!names[@]}"; do
      n=${names[$(((r + i) % ${#names[@]}))]}
      got[$n]=$(rps "${port[$n]}" "$size")
    done
    line=; for n in "${names[@]}"; do line+="${got[$n]} "; done
    printf '    round %d %s: %s req/s (%s)\n' "$r" "$size" "$line" "${names[*]}" >&2
    echo "$line" >> "$work/rounds.$size"
  done
  # mean req/s of each, and the mean ± standard error of per-round ratios (columns as in names)
  awk -v size="$size" '
    { for (i = 1; i <= NF; i++) sum[i] += $i
      sess[NR] = $2 / $1; hn[NR] = $3 / $1; b[NR] = $4 / $1; d[NR] = $5 / $1
      b_sess[NR] = $4 / $2; b_hn[NR] = $4 / $3 }
    function stat(r, n,   i, m, v) { for (i = 1; i <= n; i++) m += r[i]; m /= n
      for (i = 1; i <= n; i++) v += (r[i] - m) ^ 2
      return sprintf("%.3f ± %.3f", m, n > 1 ? sqrt(v / (n - 1) / n) : 0) }
    END { n = NR
      printf "  %s: host %.0f req/s | berthd %.0f req/s (%s of host) | dockerd %.0f req/s (%s of host)\n",
        size, sum[1] / n, sum[4] / n, stat(b, n), sum[5] / n, stat(d, n)
      printf "      host httpd in wrk'"'"'s session %.0f req/s (%s of host); berthd is %s of it\n",
        sum[2] / n, stat(sess, n), stat(b_sess, n)
      printf "      berthd --network host %.0f req/s (%s of host); berthd published is %s of it\n",
        sum[3] / n, stat(hn, n), stat(b_hn, n) }' "$work/rounds.$size"
done
printf '  target: berthd >= 0.900 of host, the httpd in its own session (mean of the rounds ± its standard error)\n'

run_true() { DOCKER_HOST=unix://$1 docker run --rm "${@:2}" busybox true; }
# seconds SOCKET FLAGS… → wall seconds of one run
seconds() { local t0; t0=$(date +%s.%N); run_true "$@"; awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.4f", e - s }'; }
# The two modes alternate run by run, so a drift of the machine over the runs weighs on both.
printf 'docker run --rm busybox true, mean of %d runs each, --network none and bridge alternating\n' "$runs"
for d in berthd dockerd; do
  s=$berth_sock; [ "$d" = dockerd ] && s=$ref_sock
  run_true "$s" --network none; run_true "$s"   # warm-up
  for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) = 1 ]; then n=$(seconds "$s" --network none); b=$(seconds "$s"); else b=$(seconds "$s"); n=$(seconds "$s" --network none); fi
    echo "$n $b"
  done | awk -v d="$d" '{ n += $1; b += $2; c[NR] = $2 - $1 }
    END { m = (b - n) / NR; for (i = 1; i <= NR; i++) v += (c[i] - m) ^ 2
      printf "  %-7s: --network none %.4fs | bridge %.4fs | bridge cost %.1f ± %.1f ms\n", d, n / NR, b / NR, m * 1000,
        (NR > 1 ? sqrt(v / (NR - 1) / NR) : 0) * 1000 }'
done
printf '  target: berthd bridge cost <= 20 ms\n'
