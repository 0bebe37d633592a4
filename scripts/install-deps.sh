#!/usr/bin/env bash
# Installs what berth needs to build and test on Debian 12, as root. Idempotent and quiet when
# everything is already there. The Rust toolchain itself (cargo, rustc >= 1.90) must be present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

pkgs=(libseccomp-dev pkg-config gcc busybox-static nftables iproute2 util-linux bsdutils runc procps curl skopeo docker-registry wrk)
# The docker CLI drives the end-to-end tests; Debian's docker.io provides it (and a reference
# dockerd for comparisons) when no docker client is on PATH.
command -v docker >/dev/null 2>&1 || pkgs+=(docker.io)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  # Never let a package start services (docker.io would start a dockerd with iptables rules).
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
command -v cargo >/dev/null 2>&1 || { echo "install-deps: cargo not found: install Rust (rustup) first" >&2; exit 1; }
