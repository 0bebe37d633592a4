#!/usr/bin/env bash
# `docker build` (classic builder, DOCKER_BUILDKIT=0) of a 5-step Dockerfile, cold and fully
# cached, berthd vs a reference dockerd in the same run. Needs root, Debian's docker.io (for
# dockerd) and a release build (`cargo build --release --bins`).
#
#   bench/build.sh [RUNS]      (default 5)
source "$(dirname "$0")/lib.sh"
runs=${1:-5}
bench_start

ctx=$work/ctx
mkdir -p "$ctx"
printf 'payload %s\n' "$(seq 1 2000)" > "$ctx/data.txt"
cat > "$ctx/Dockerfile" <<'EOF'
FROM busybox
ENV APP=/app
WORKDIR /app
COPY data.txt .
RUN wc -l data.txt > lines.txt
CMD ["cat", "lines.txt"]
EOF

build() { # socket, extra flags… → one build, output discarded
  local sock=$1; shift
  DOCKER_HOST=unix://$sock DOCKER_BUILDKIT=0 docker build -q "$@" -t bench:build "$ctx" >/dev/null 2>&1
}
cold() { build "$1" --no-cache; }
cached() { build "$1"; }
time_builds() { # socket kind → mean seconds per build
  "$2" "$1"   # warm-up (and fills the cache for `cached`)
  mean_seconds "$runs" "$2" "$1"
}

berth_cold=$(time_builds "$berth_sock" cold)
docker_cold=$(time_builds "$ref_sock" cold)
berth_cached=$(time_builds "$berth_sock" cached)
docker_cached=$(time_builds "$ref_sock" cached)
printf 'docker build (classic builder), 5-step Dockerfile, mean of %d builds\n' "$runs"
printf '  cold   berthd %ss  dockerd %ss  ratio %s (target <= 1.0)\n' \
  "$berth_cold" "$docker_cold" "$(ratio "$berth_cold" "$docker_cold")"
printf '  cached berthd %ss  dockerd %ss  ratio %s (target <= 0.5)\n' \
  "$berth_cached" "$docker_cached" "$(ratio "$berth_cached" "$docker_cached")"
