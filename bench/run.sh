#!/usr/bin/env bash
# bench/run.sh — measure kubes (and etcd, when installed) on this machine.
#
#   bench/run.sh                      # full run, a few minutes; prints a Markdown table
#   bench/run.sh --scale 0.1          # every count x0.1, for a quick try
#   bench/run.sh --wait-compaction    # also wait ~10 min for kubes' own 5-minute compaction
#   KUBES=/path/to/kubes bench/run.sh # measure another binary (default: build/kubes)
#   bench/pods/run.sh                 # pods: start latency and density vs podman (root; README "Pods")
#
# Builds bench/kubes_bench (ninja -j1), copies the kubes binary so a rebuild during the
# run changes nothing, and runs everything in one temporary directory that is removed
# at the end. Every server it starts listens on 127.0.0.1 only and is stopped by PID.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
kubes="${KUBES:-$build/kubes}"

[[ -x "$kubes" ]] || { echo "run.sh: no kubes binary at $kubes (build it: ninja -C build kubes)" >&2; exit 1; }
[[ -f "$build/build.ninja" ]] || cmake -S "$root" -B "$build" -G Ninja >/dev/null
ninja -C "$build" -j1 kubes_bench >/dev/null

etcd="$(command -v etcd || true)"
[[ -n "$etcd" ]] || echo "run.sh: etcd not found, the etcd peer is skipped (apt-get install etcd-server)" >&2

work="$(mktemp -d /tmp/kubes-bench.XXXXXX)"
bench_pid=""
cleanup() {
  if [[ -n "$bench_pid" ]] && kill -0 "$bench_pid" 2>/dev/null; then kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$kubes" "$work/kubes"
# Which code was measured: the work tree's commit (and whether it had edits) and when
# the binary was built.
commit="$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
label="tree $commit, binary built $(date -u -r "$kubes" '+%Y-%m-%d %H:%M UTC')"
"$build/bench/kubes_bench" --kubes "$work/kubes" ${etcd:+--etcd "$etcd"} --work-dir "$work" --label "$label" "$@" &
bench_pid=$!
wait "$bench_pid"
