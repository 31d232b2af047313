#!/usr/bin/env bash
# bench/probes/run.sh — what probes cost kubes: N pods (500 by default) with an httpGet
# readiness probe every second, kubes' CPU over 60 s of steady state, and the latency
# from a probe seeing /readyz change to the pod's Ready condition changing on a watch;
# prints a Markdown table (see bench/probes/README.md).
#
#   bench/probes/run.sh                    # 500 pods, ~15 minutes here, as root
#   bench/probes/run.sh --scale 0.2        # 100 pods
#   bench/probes/run.sh --out /tmp/pr.md   # also write the table to a file
#   KUBES=/path/to/kubes bench/probes/run.sh
#
# Needs root (it runs containers). Builds the kubes-demo image with images/build.sh
# (cached). Everything lives in one temporary directory that is removed at the end; the
# kubes server is stopped by PID and `kubes server --cleanup` removes its containers,
# networks and cgroups, also after a failure or Ctrl-C. Only 127.0.0.1 and the pods' own
# addresses are used. The harness (probebench.py) reuses bench/pods' and
# bench/workloads' Python modules.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kubes="${KUBES:-$root/build/kubes}"
images="${KUBES_IMAGES_DIR:-$root/build/images}"

die() { echo "bench/probes/run.sh: $*" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || die "run as root (it starts containers)"
[[ -x "$kubes" ]] || die "no kubes binary at $kubes (build it: ninja -C build -j1 kubes)"

bash "$root/images/build.sh" "$images" >/dev/null
[[ -f "$images/kubes-demo.tar" ]] || die "images/build.sh made no kubes-demo.tar"

source "$root/bench/harness.sh"
run_harness probebench "$here/probebench.py" "$@"
