#!/usr/bin/env bash
# One command from a fresh Debian 12 (as root) to a running container, offline:
# installs build dependencies, builds berth in release mode, installs berthd/berth/berth-shim to
# /usr/local/bin, starts berthd (default roots, socket /run/berth/berth.sock), builds the busybox
# image from Debian's busybox-static, imports it and runs `echo hello` in a container.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --bins
bin=${CARGO_TARGET_DIR:-target}/release
install -m 0755 "$bin/berthd" "$bin/berth" "$bin/berth-shim" /usr/local/bin/

if ! berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup berthd > /var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
  berth version >/dev/null || { echo "berthd did not start; see /var/log/berthd.log" >&2; exit 1; }
  echo "berthd started (pid $!, log /var/log/berthd.log)"
fi

mkdir -p /var/cache/berth-images
scripts/make-busybox-image.sh /var/cache/berth-images >/dev/null
berth load -i /var/cache/berth-images/busybox.tar
berth run --rm busybox echo hello
