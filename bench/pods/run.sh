#!/usr/bin/env bash
# bench/pods/run.sh — pod start latency and density of kubes on this machine, next to
# `podman kube play` and a bare `runc run`; prints a Markdown table (see bench/README.md, "Pods").
#
#   bench/pods/run.sh                    # full run, ~10 minutes, as root
#   bench/pods/run.sh --scale 0.1        # every count x0.1, for a quick try
#   bench/pods/run.sh --out /tmp/pods.md # also write the table to a file
#   KUBES=/path/to/kubes bench/pods/run.sh
#
# Needs root (it runs containers). Builds the busybox image with images/build.sh (cached)
# and installs podman from Debian if it is missing. Everything lives in one temporary
# directory that is removed at the end; the kubes server is stopped by PID and
# `kubes server --cleanup` removes its containers, networks and cgroups, also after a
# failure or Ctrl-C. podman runs with a configuration of its own inside that directory:
# the machine's /etc/containers is not changed. Only 127.0.0.1 and the pods' own
# addresses are used.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kubes="${KUBES:-$root/build/kubes}"
images="${KUBES_IMAGES_DIR:-$root/build/images}"

die() { echo "bench/pods/run.sh: $*" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || die "run as root (it starts containers)"
[[ -x "$kubes" ]] || die "no kubes binary at $kubes (build it: ninja -C build -j1 kubes)"
command -v runc >/dev/null || die "runc is missing: apt-get install runc"

bash "$root/images/build.sh" "$images" >/dev/null
if ! command -v podman >/dev/null; then
  echo "bench/pods/run.sh: installing podman from Debian (the peer)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null; }
fi

work="$(mktemp -d /tmp/kubes-podbench.XXXXXX)"
bench_pid=""
cleanup() {
  if [[ -n "$bench_pid" ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  # The harness cleans up after itself; this catches what a killed harness left.
  /usr/bin/python3 "$here/podbench.py" --cleanup "$work" || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A copy of the binary, so a rebuild during the run changes nothing; the label says
# which code was measured.
cp "$kubes" "$work/kubes"
commit="$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
label="tree $commit, binary built $(date -u -r "$kubes" '+%Y-%m-%d %H:%M UTC')"
/usr/bin/python3 "$here/podbench.py" --work "$work" --kubes "$work/kubes" --images "$images" --label "$label" "$@" &
bench_pid=$!
wait "$bench_pid"
