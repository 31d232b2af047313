#!/usr/bin/python3
"""Pod start benchmark: how fast kubes starts pods on this machine, next to podman and
next to the bare OCI runtime. Run through bench/pods/run.sh (which makes the work
directory, copies the binary and removes everything afterwards); see bench/README.md, "Pods".

  podbench.py --work DIR --kubes BIN --images DIR [--scale F] [--out FILE] [--label TEXT]
  podbench.py --cleanup DIR      undo whatever a run in DIR left (idempotent)

Phases, in order: the floor (runc/crun run /bin/true), podman (one at a time, all at
once), kubes (one at a time, all at once, density). Each phase's failure is reported in
the table and the next phase still runs; everything a phase made is removed before the
next begins.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cluster import KubesServer, PodWatch, parallel_create  # noqa: E402
from host import (State, exit_on_signals, free_slash16s, harness_args, log, memory_sum_kib,  # noqa: E402
                  monitor_pids, rss_kib, stop_pid, unmount_under)
from peers import Podman, cleanup_floor, global_snapshot, make_bundle, run_floor  # noqa: E402
import report  # noqa: E402

CREATE_THREADS = 16
DENSITY_BATCH = 50


class Counts:
    def __init__(self, scale):
        def scaled(n, least):
            return max(least, round(n * scale))
        self.seq = scaled(100, 2)
        self.burst = scaled(100, 2)
        self.density = scaled(500, 2)
        self.floor = scaled(20, 5)
        # Seconds the density pods sleep before their memory is taken again: past the
        # watch cache's 75 s window of fresh history and several heap scavenger passes,
        # what a node of sleeping pods costs, not the tail of their start.
        self.settle = scaled(90, 10)


# ---- the floor ------------------------------------------------------------------------------

def floor_phase(args, res):
    bundle = make_bundle(args.work, os.path.join(args.images, "busybox.tar"))
    for runtime in ("runc", "crun"):
        if not shutil.which(runtime):
            res.floor[runtime] = (None, "not installed")
            continue
        log(f"floor: {runtime} run /bin/true x{res.counts.floor}")
        res.floor[runtime] = run_floor(runtime, bundle, os.path.join(args.work, "floor", runtime), res.counts.floor)


# ---- podman ---------------------------------------------------------------------------------

def podman_phase(args, state, res, octet):
    bridge = f"podbench{os.getpid():x}"[:15]
    state.set("podman", {"bridge": bridge, "before": global_snapshot()})
    pm = Podman(args.work, octet, bridge)
    try:
        pm.setup(os.path.join(args.images, "busybox.tar"))
        res.podman_version = pm.version()
        log("podman: warm-up pod (builds podman's pause image once)")
        pm.play_one_at_a_time(["warmup-0"])
        pm.clear()

        n = res.counts.seq
        log(f"podman: {n} pods one at a time")
        res.podman_seq = pm.play_one_at_a_time([f"seq-{i:03d}" for i in range(n)])
        res.check(pm.running_pods() == n, f"podman one at a time: {pm.running_pods()} of {n} pods Running")
        pm.clear()

        n = res.counts.burst
        log(f"podman: {n} pods at once")
        res.podman_burst, res.podman_burst_total = pm.play_at_once([f"burst-{i:03d}" for i in range(n)])
        res.check(pm.running_pods() == n, f"podman at once: {pm.running_pods()} of {n} pods Running")
        conmons = pm.conmons()
        res.podman_conmon = memory_sum_kib(conmons)
        pm.clear()
    finally:
        Podman.cleanup(args.work, bridge, state.get("podman")["before"])
        state.set("podman_cleaned", True)


# ---- kubes ----------------------------------------------------------------------------------

def kubes_flags(binary, octets, node_name, n_density):
    """Server flags for a node taking `n_density` pods, on the pod and service ranges
    10.<octets[0]>/16 and 10.<octets[1]>/16."""
    flags = ["--cluster-cidr", f"10.{octets[0]}.0.0/16", "--service-cidr", f"10.{octets[1]}.0.0/16",
             "--node-name", node_name]
    help_text = subprocess.run([binary, "server", "--help"], capture_output=True, text=True).stdout
    # Upstream's names for the two limits density runs into (kubelet --max-pods, 110 by
    # default; kube-controller-manager --node-cidr-mask-size, a /24 per node by default):
    # used when this kubes has them.
    if "--max-pods" in help_text:
        flags += ["--max-pods", str(max(110, n_density + 10))]
    if "--node-cidr-mask-size" in help_text and n_density > 250:
        flags += ["--node-cidr-mask-size", "22"]
    return flags


def node_pod_capacity(api, node_name):
    """How many pods the node can take: its allocatable pods and the addresses in its pod CIDR."""
    node = api.must("GET", f"/api/v1/nodes/{node_name}")
    pods = int(node["status"].get("allocatable", {}).get("pods", "110"))
    cidr = node["spec"].get("podCIDR", "")
    addresses = 2 ** (32 - int(cidr.split("/")[1])) - 3 if "/" in cidr else pods  # network, gateway, broadcast
    return pods, addresses, cidr


def kubes_one_at_a_time(srv, watch, ns, n):
    srv.api.create_namespace(ns)
    latencies = []
    for i in range(n):
        name = f"{ns}-{i:03d}"
        t0 = time.monotonic()
        srv.api.create_pod(ns, name)
        if watch.wait(watch.ready, [f"{ns}/{name}"], 60):
            raise RuntimeError(f"pod {ns}/{name} not Ready after 60 s")
        latencies.append(watch.ready[f"{ns}/{name}"] - t0)
    return latencies


def kubes_at_once(srv, watch, ns, names, which, timeout):
    """Creates `names` in parallel; returns ({name: send time}, {name: time seen in `which`})."""
    sent = parallel_create(srv.api, ns, names, min(CREATE_THREADS, len(names)))
    keys = [f"{ns}/{n}" for n in names]
    missing = watch.wait(which, keys, timeout)
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(names)} pods in {ns} not there after {timeout} s, e.g. {missing[0]}")
    return sent, {n: which[f"{ns}/{n}"] for n in names}


def kubes_phase(args, state, res, octets):
    node_name = f"podbench-{os.getpid()}"
    data = os.path.join(args.work, "cluster")
    import_dir = os.path.join(data, "images", "import")
    os.makedirs(import_dir)
    shutil.copy(os.path.join(args.images, "busybox.tar"), import_dir)
    flags = kubes_flags(args.kubes, octets, node_name, res.counts.density)
    srv = KubesServer(args.kubes, data, flags)
    state.set("kubes", {"binary": args.kubes, "flags": srv.flags})
    watch = None
    try:
        log("kubes: starting the server and its node")
        srv.start(state)
        node = srv.wait_node_ready(node_name)
        res.kubes_runtime = node["status"].get("nodeInfo", {}).get("containerRuntimeVersion", "?")
        watch = PodWatch(srv.api)
        watch.start()
        time.sleep(2)
        res.rss_idle = rss_kib(srv.proc.pid)

        log("kubes: warm-up pod")
        kubes_one_at_a_time(srv, watch, "warmup", 1)
        srv.delete_pods("warmup")

        log(f"kubes: {res.counts.seq} pods one at a time")
        res.kubes_seq = kubes_one_at_a_time(srv, watch, "seq", res.counts.seq)
        srv.delete_pods("seq")

        n = res.counts.burst
        log(f"kubes: {n} pods at once")
        srv.api.create_namespace("burst")
        sent, ready = kubes_at_once(srv, watch, "burst", [f"burst-{i:03d}" for i in range(n)], watch.ready, 300)
        res.kubes_burst = [ready[k] - sent[k] for k in sent]
        res.kubes_burst_total = max(ready.values()) - min(sent.values())
        res.kubes_monitors = memory_sum_kib(srv.monitors())
        res.rss_burst = rss_kib(srv.proc.pid)
        srv.delete_pods("burst")

        density_phase(srv, watch, res, node_name)
    finally:
        log("kubes: stopping the server")
        if watch:
            watch.stop()
        srv.stop()
        log("kubes: server stopped; --cleanup removes its containers, networks and cgroups")
        t0 = time.monotonic()
        KubesServer.cleanup(args.kubes, srv.flags)
        state.set("kubes_cleaned", True)
        res.kubes_cleanup_s = time.monotonic() - t0


def density_phase(srv, watch, res, node_name):
    pods, addresses, cidr = node_pod_capacity(srv.api, node_name)
    n = min(res.counts.density, pods, addresses)
    if n < res.counts.density:
        res.density_note = (f"{res.counts.density} asked, capped at {n}: the node allows {pods} pods "
                            f"and its pod CIDR {cidr} has {addresses} addresses")
    res.density_n = n
    log(f"kubes: density, {n} pods in batches of {DENSITY_BATCH}")
    srv.api.create_namespace("density")
    names = [f"density-{i:03d}" for i in range(n)]
    first, last = None, 0.0
    for b in range(0, n, DENSITY_BATCH):
        sent, running = kubes_at_once(srv, watch, "density", names[b:b + DENSITY_BATCH], watch.running, 300)
        first = min(sent.values()) if first is None else first
        last = max(last, max(running.values()))
    res.density_s = last - first
    time.sleep(2)
    monitors = srv.monitors()
    res.rss_density = rss_kib(srv.proc.pid)
    res.density_monitors = memory_sum_kib(monitors)
    log(f"kubes: the {n} pods sleep {res.counts.settle} s, then their memory is taken again")
    time.sleep(res.counts.settle)
    res.rss_settled = rss_kib(srv.proc.pid)
    res.density_monitors_settled = memory_sum_kib(srv.monitors())


# ---- the run and its cleanup ------------------------------------------------------------------

def cleanup(work):
    """Undoes whatever a run in `work` made and left (after a crash or an interrupt too)."""
    state = State(work)
    k = state.get("kubes")
    if k and not state.get("kubes_cleaned"):
        stop_pid(state.get("kubes_pid"), k["binary"])
        KubesServer.cleanup(k["binary"], k["flags"])
        state.set("kubes_cleaned", True)
    p = state.get("podman")
    if p and not state.get("podman_cleaned"):
        Podman.cleanup(work, p["bridge"], p["before"])
        state.set("podman_cleaned", True)
    cleanup_floor(work, state.get("pid", 0))
    for marker in (os.path.join(work, "cluster"), os.path.join(work, "podman")):
        if monitor_pids(marker):
            log(f"container monitors of {marker} are still running after the cleanup")
    unmount_under(work)


def parse_args():
    p = harness_args(__doc__)
    return p.parse_args()


def main():
    args = parse_args()
    if args.cleanup:
        cleanup(args.cleanup)
        return 0
    if not (args.work and args.kubes and args.images):
        sys.exit("podbench.py: --work, --kubes and --images are required (use bench/pods/run.sh)")
    exit_on_signals()
    state = State(args.work)
    state.set("pid", os.getpid())
    res = report.Results(Counts(args.scale), args.label)
    res.kubes_version = report.tool_version([args.kubes, "version"])
    octets = free_slash16s(3)
    try:
        for name, phase in (("floor", lambda: floor_phase(args, res)),
                            ("podman", lambda: podman_phase(args, state, res, octets[2])),
                            ("kubes", lambda: kubes_phase(args, state, res, octets[:2]))):
            try:
                phase()
            except Exception as e:  # one phase failing must not hide the others' numbers
                log(f"{name} phase failed: {e}")
                res.errors.append(f"{name}: {e}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cleanup(args.work)
    table = report.render(res)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    return 1 if res.errors else 0


if __name__ == "__main__":
    sys.exit(main())
