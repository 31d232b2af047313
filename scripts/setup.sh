#!/usr/bin/env bash
# Installs everything kubes needs to build and test on Debian 12 (run as root).
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

packages=(
  # build
  cmake ninja-build ccache g++ clang pkg-config
  # libraries
  libboost-dev libboost-system-dev libssl-dev libsqlite3-dev nlohmann-json3-dev libyaml-cpp-dev zlib1g-dev
  libarchive-dev libcurl4-openssl-dev
  # the node: OCI runtimes, CNI plugins, networking tools (the container monitor is kubes' own)
  runc crun containernetworking-plugins iproute2 iptables nftables
  # starter images built from Debian packages, a local registry for pull tests
  busybox-static tzdata mmdebstrap docker-registry skopeo umoci
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3-kubernetes python3-pytest python3-yaml
  # the peer the benchmarks compare the store with
  etcd-server
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v kubectl >/dev/null; then
  echo "setup: kubectl is not installed. kubes is driven by the real kubectl (v1.32);" >&2
  echo "       install it from your distribution or https://kubernetes.io/docs/tasks/tools/." >&2
  exit 1
fi
echo "setup: ok"
