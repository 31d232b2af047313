# Sourced by bench/workloads/run.sh and bench/probes/run.sh: runs one Python harness on a
# copy of the kubes binary in a temporary directory, and cleans up after it — also after
# a failure, Ctrl-C or a killed harness (the harness's --cleanup DIR removes what it left).
#
#   run_harness NAME HARNESS.py ARGS...    (needs $root, $kubes, $images set)
run_harness() {
  local name="$1" harness="$2"
  shift 2
  work="$(mktemp -d "/tmp/kubes-$name.XXXXXX")"
  bench_pid=""
  bench_harness="$harness"
  cleanup() {
    if [[ -n "$bench_pid" ]] && kill -0 "$bench_pid" 2>/dev/null; then
      kill -TERM "$bench_pid" 2>/dev/null || true
      wait "$bench_pid" 2>/dev/null || true
    fi
    # The harness cleans up after itself; this catches what a killed harness left.
    /usr/bin/python3 -B "$bench_harness" --cleanup "$work" || true
    rm -rf "$work"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  # A copy of the binary, so a rebuild during the run changes nothing; the label says
  # which code was measured.
  cp "$kubes" "$work/kubes"
  local commit label
  commit="$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
  label="tree $commit, binary built $(date -u -r "$kubes" '+%Y-%m-%d %H:%M UTC')"
  /usr/bin/python3 -B "$harness" --work "$work" --kubes "$work/kubes" --images "$images" --label "$label" "$@" &
  bench_pid=$!
  wait "$bench_pid"
}
