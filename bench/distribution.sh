#!/usr/bin/env bash
# Image distribution throughput, berthd vs a reference dockerd in the same run: push and pull of
# a random-content image (incompressible, ~SIZE_MB) through a local registry, and save/load of
# it. Each client is measured against both `berth registry serve` and Debian's docker-registry
# (distribution 2.x), each started fresh for every measurement, so the registries are compared
# for the same client too. Needs root, docker.io (dockerd), docker-registry and a release build.
#
#   bench/distribution.sh [SIZE_MB] [ROUNDS]      (defaults 200 and 2)
source "$(dirname "$0")/lib.sh"
size_mb=${1:-200}
rounds=${2:-2}
command -v docker-registry >/dev/null || { echo "needs docker-registry (apt-get install docker-registry)" >&2; exit 1; }
bench_start

# The image: one layer holding SIZE_MB of random bytes, imported into both daemons.
mkdir -p "$work/rootfs"
head -c "$((size_mb * 1000 * 1000))" /dev/urandom > "$work/rootfs/random.bin"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
rm -rf "$work/rootfs"
for s in "$berth_sock" "$ref_sock"; do DOCKER_HOST=unix://$s docker import "$work/rootfs.tar" distbench:1 >/dev/null; done
rm -f "$work/rootfs.tar"
# Each timed step starts with nothing left to write back from the previous one (the imports,
# the other client's transfer), so the order of the measurements does not bias them.
sync

port=25300
reg_pid=
# start_registry berth|distribution → sets $reg (host:port) and $reg_pid
start_registry() {
  port=$((port + 1))
  reg=127.0.0.1:$port
  rm -rf "$work/reg"; mkdir -p "$work/reg"
  if [ "$1" = berth ]; then
    "$bin/berth" registry serve --addr "$reg" --root "$work/reg/data" > "$work/reg/log" 2>&1 &
  else
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
      "$work/reg/data" "$reg" > "$work/reg/config.yml"
    docker-registry serve "$work/reg/config.yml" > "$work/reg/log" 2>&1 &
  fi
  reg_pid=$!
  bench_pids+=("$reg_pid")
  for _ in $(seq 1 100); do curl -sf "http://$reg/v2/" >/dev/null && return 0; sleep 0.1; done
  echo "registry $1 did not start" >&2; exit 1
}
stop_registry() { kill "$reg_pid"; while kill -0 "$reg_pid" 2>/dev/null; do sleep 0.05; done; }

now() { date +%s.%N; }
mbps() { awk -v mb="$size_mb" -v s="$1" -v n="${2:-1}" 'BEGIN { printf "%.1f", mb * n / s }'; }

# CPU seconds (user + system) the registry process has used so far.
ticks=$(getconf CLK_TCK)
reg_cpu() { awk -v t="$ticks" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$reg_pid/stat"; }

# transfer SOCKET REGISTRY-KIND → "push_seconds pull_seconds push_server_cpu pull_server_cpu"
transfer() {
  local sock=$1 kind=$2 t0 t1 t2 c0 c1 c1b c2
  start_registry "$kind"
  local image=$reg/distbench:1
  DOCKER_HOST=unix://$sock docker tag distbench:1 "$image"
  sync
  c0=$(reg_cpu)
  t0=$(now)
  DOCKER_HOST=unix://$sock docker push -q "$image" >/dev/null
  t1=$(now)
  c1=$(reg_cpu)
  # Drop every local copy of the layer so the pull downloads and unpacks it.
  DOCKER_HOST=unix://$sock docker rmi "$image" distbench:1 >/dev/null
  sync
  c1b=$(reg_cpu)
  t1b=$(now)
  DOCKER_HOST=unix://$sock docker pull -q "$image" >/dev/null
  t2=$(now)
  c2=$(reg_cpu)
  DOCKER_HOST=unix://$sock docker tag "$image" distbench:1
  DOCKER_HOST=unix://$sock docker rmi "$image" >/dev/null
  stop_registry
  awk -v a="$t0" -v b="$t1" -v c="$t1b" -v d="$t2" -v e="$c0" -v f="$c1" -v g="$c1b" -v h="$c2" \
    'BEGIN { printf "%.3f %.3f %.3f %.3f\n", b - a, d - c, f - e, h - g }'
}

# saveload SOCKET → "save_seconds load_seconds"
saveload() {
  local sock=$1 t0 t1 t2 t3
  t0=$(now)
  DOCKER_HOST=unix://$sock docker save -o "$work/save.tar" distbench:1
  t1=$(now)
  DOCKER_HOST=unix://$sock docker rmi distbench:1 >/dev/null
  t2=$(now)
  DOCKER_HOST=unix://$sock docker load -q -i "$work/save.tar" >/dev/null
  t3=$(now)
  rm -f "$work/save.tar"
  awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { printf "%.3f %.3f\n", b - a, d - c }'
}

# Each pairing ROUNDS times, the two registries in alternating order (whichever runs first
# after the previous step pays for leftover writeback and cold caches), seconds summed.
declare -A push pull push_cpu pull_cpu
add() { awk -v a="${1:-0}" -v b="$2" 'BEGIN { print a + b }'; }
for client in berthd dockerd; do
  sock=$berth_sock; [ "$client" = dockerd ] && sock=$ref_sock
  for r in $(seq 1 "$rounds"); do
    order="berth distribution"; [ $((r % 2)) = 0 ] && order="distribution berth"
    for kind in $order; do
      read -r p q pc qc < <(transfer "$sock" "$kind")
      printf 'round %d: %-7s -> %-12s push %ss (registry CPU %ss) pull %ss (registry CPU %ss)\n' \
        "$r" "$client" "$kind" "$p" "$pc" "$q" "$qc" >&2
      push[$client.$kind]=$(add "${push[$client.$kind]:-}" "$p")
      pull[$client.$kind]=$(add "${pull[$client.$kind]:-}" "$q")
      push_cpu[$client.$kind]=$(add "${push_cpu[$client.$kind]:-}" "$pc")
      pull_cpu[$client.$kind]=$(add "${pull_cpu[$client.$kind]:-}" "$qc")
    done
  done
done
read -r berth_save berth_load < <(saveload "$berth_sock")
read -r ref_save ref_load < <(saveload "$ref_sock")

printf 'image: one layer of %d MB random bytes; push/pull: mean of %d rounds per pairing\n\n' "$size_mb" "$rounds"
# registry CPU seconds per transfer, mean over the rounds
cpu_mean() { awk -v s="$1" -v n="$rounds" 'BEGIN { printf "%.2f", s / n }'; }
printf '%-8s %-22s %10s %10s %16s %16s\n' client registry "push MB/s" "pull MB/s" "push reg CPU s" "pull reg CPU s"
for client in berthd dockerd; do
  for kind in berth distribution; do
    name="berth registry serve"; [ "$kind" = distribution ] && name="docker-registry 2.x"
    printf '%-8s %-22s %10s %10s %16s %16s\n' "$client" "$name" "$(mbps "${push[$client.$kind]}" "$rounds")" \
      "$(mbps "${pull[$client.$kind]}" "$rounds")" "$(cpu_mean "${push_cpu[$client.$kind]}")" "$(cpu_mean "${pull_cpu[$client.$kind]}")"
  done
done
printf '\n%-8s %10s %10s\n' client "save MB/s" "load MB/s"
printf '%-8s %10s %10s\n' berthd "$(mbps "$berth_save")" "$(mbps "$berth_load")"
printf '%-8s %10s %10s\n' dockerd "$(mbps "$ref_save")" "$(mbps "$ref_load")"
printf '\nratios berthd/dockerd (MB/s; target >= 1.5 for push and pull), through docker-registry:\n'
printf '  push %s  pull %s  save %s  load %s\n' \
  "$(ratio "${push[dockerd.distribution]}" "${push[berthd.distribution]}")" \
  "$(ratio "${pull[dockerd.distribution]}" "${pull[berthd.distribution]}")" \
  "$(ratio "$ref_save" "$berth_save")" "$(ratio "$ref_load" "$berth_load")"
printf 'ratios berth registry / docker-registry (MB/s; target >= 1), same client:\n'
for client in berthd dockerd; do
  printf '  %-8s push %s  pull %s\n' "$client" \
    "$(ratio "${push[$client.distribution]}" "${push[$client.berth]}")" \
    "$(ratio "${pull[$client.distribution]}" "${pull[$client.berth]}")"
done
