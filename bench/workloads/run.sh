#!/usr/bin/env bash
# bench/workloads/run.sh — how fast kubes' Deployment/ReplicaSet controllers and node turn a
# scale into Ready pods and back, and what 1,000 Deployments cost the control plane;
# prints a Markdown table (see bench/README.md, "Workloads").
#
#   bench/workloads/run.sh                    # full run, ~9 minutes here, as root
#   bench/workloads/run.sh --scale 0.1        # every count x0.1, for a quick try
#   bench/workloads/run.sh --repeat 3         # the 0 -> 200 -> 0 run three times (default 2)
#   bench/workloads/run.sh --out /tmp/wl.md   # also write the table to a file
#   KUBES=/path/to/kubes bench/workloads/run.sh
#
# Needs root (the first phase's server runs a node, which starts containers). Builds the
# busybox image with images/build.sh (cached). Everything lives in one temporary directory
# that is removed at the end; each kubes server is stopped by PID and the node's
# containers, networks and cgroups are removed with `kubes server --cleanup`, also after a
# failure or Ctrl-C. Only 127.0.0.1 and the pods' own addresses are used. The harness
# (workbench.py) reuses bench/pods' Python modules.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kubes="${KUBES:-$root/build/kubes}"
images="${KUBES_IMAGES_DIR:-$root/build/images}"

die() { echo "bench/workloads/run.sh: $*" >&2; exit 1; }
[[ "$(id -u)" == 0 ]] || die "run as root (it starts containers)"
[[ -x "$kubes" ]] || die "no kubes binary at $kubes (build it: ninja -C build -j1 kubes)"
command -v runc >/dev/null || die "runc is missing: apt-get install runc"

bash "$root/images/build.sh" "$images" >/dev/null

source "$root/bench/harness.sh"
run_harness workbench "$here/workbench.py" "$@"
