#!/usr/bin/python3
"""Workload benchmark: how fast kubes' Deployment and ReplicaSet controllers, with the
node, turn a scale into running pods and back, and what 1,000 Deployments cost the
control plane. Run through bench/workloads/run.sh (which makes the work directory,
copies the binary and removes everything afterwards); see bench/README.md, "Workloads".

  workbench.py --work DIR --kubes BIN --images DIR [--scale F] [--repeat N] [--out FILE] [--label TEXT]
  workbench.py --cleanup DIR      undo whatever a run in DIR left (idempotent)

Phases, in order:
  scale  a server with a node: a warm-up pod; then, --repeat times, 100 bare pods at
         once (the same measure as bench/pods' "at once": this run's reference, taken
         right before each Deployment run so both see the same load) and a Deployment
         of busybox `sleep 3600` pods scaled 0 -> 200 -> 0 through /scale.
  many   a server with --disable-node: 1,000 Deployments of one replica (their pods stay
         Pending), the server's RSS and how long until the ReplicaSets and Pods exist.
Each phase's failure is reported under the table and the next phase still runs; each
phase's server is stopped (and its node cleaned up) before the next starts.

Reuses bench/pods: the API client, the watch, the server and the host helpers.
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "pods"))

import host  # noqa: E402
from cluster import BUSYBOX, ApiError, KubesServer, PodWatch, parallel_create  # noqa: E402
from host import (State, monitor_pids, exit_on_signals, free_slash16s, harness_args, log, mounts_under,  # noqa: E402
                  rss_kib, stop_pid, unmount_under)
from podbench import CREATE_THREADS, kubes_at_once, kubes_flags, node_pod_capacity  # noqa: E402
from cpu import CpuMeter, thread_cpu  # noqa: E402
import results  # noqa: E402

host.PROGRAM = "workbench"

SCALE_TIMEOUT = 600  # s, for each wait of the scale phase
MANY_TIMEOUT = 900   # s, for each wait of the 1,000-Deployments phase


class Counts:
    def __init__(self, scale, repeat):
        def scaled(n, least):
            return max(least, round(n * scale))
        self.replicas = scaled(200, 2)
        self.bare = scaled(100, 2)
        self.deployments = scaled(1000, 2)
        self.repeat = max(1, repeat)


# ---- objects ----------------------------------------------------------------------------------

def deployment_manifest(name, replicas):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "sleep", "image": BUSYBOX,
                                                           "command": ["sleep", "3600"]}]}}}}


def create_deployment(api, ns, name, replicas):
    status, obj = api.request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments",
                              deployment_manifest(name, replicas))
    if status not in (201, 409):  # 409 after a retried POST: the first attempt got through
        raise ApiError(f"create deployment {ns}/{name}: HTTP {status}: {(obj or {}).get('message', obj)}")


def scale(api, ns, name, replicas):
    """PUT of the Deployment's Scale subresource, as `kubectl scale` does it."""
    api.must("PUT", f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale",
             {"apiVersion": "autoscaling/v1", "kind": "Scale",
              "metadata": {"name": name, "namespace": ns}, "spec": {"replicas": replicas}})


class DeploymentWatch(PodWatch):
    """The pod watch on /apis/apps/v1/deployments, also keeping every status read, with
    its client-side time, so "when did it first report availableReplicas N" is known."""

    def __init__(self, api):
        super().__init__(api, "/apis/apps/v1/deployments")
        self.history = {}  # namespace/name -> [(monotonic time, status)]

    def _note(self, obj, now):
        super()._note(obj, now)
        with self.cond:
            self.history.setdefault(self._key(obj), []).append((now, obj.get("status", {})))
            self.cond.notify_all()

    def first(self, key, since, predicate):
        """The first time at or after `since` a status satisfying `predicate` was read."""
        with self.cond:
            for t, st in self.history.get(key, []):
                if t >= since and predicate(st):
                    return t
        return None


def wait_until(watch, predicate, timeout, what):
    """Waits on the watch's condition until predicate() (called under it) holds."""
    deadline = time.monotonic() + timeout
    with watch.cond:
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{what}: not after {timeout} s")
            watch.cond.wait(min(left, 0.5))


def in_ns(d, ns):
    """{key: time} of the entries of a watch dictionary in namespace ns."""
    prefix = ns + "/"
    return {k: t for k, t in d.items() if k.startswith(prefix)}


# ---- servers and their record ----------------------------------------------------------------

class ServerRecord:
    """This server's entry in the run's state (what the cleanup needs: binary, flags,
    whether it ran a node, and its PID as soon as KubesServer.start knows it)."""

    def __init__(self, state, name, srv, node):
        self.state = state
        self.name = name
        servers = state.get("servers", {})
        servers[name] = {"binary": srv.binary, "flags": srv.flags, "node": node, "pid": None, "cleaned": False}
        state.set("servers", servers)

    def set(self, key, value):  # KubesServer.start's state.set("kubes_pid", pid)
        if key == "kubes_pid":
            self.update(pid=value)

    def update(self, **fields):
        servers = self.state.get("servers")
        servers[self.name].update(fields)
        self.state.set("servers", servers)


def stop_server(state, name):
    """Stops the server recorded as `name` and, when it ran a node, removes what the
    node made with `kubes server --cleanup`. Returns the cleanup's run time (or None)."""
    rec = state.get("servers", {}).get(name)
    if not rec or rec["cleaned"]:
        return None
    stop_pid(rec["pid"], rec["binary"])
    took = None
    if rec["node"]:
        log(f"{name}: `kubes server --cleanup` removes the node's containers, networks and cgroups")
        t0 = time.monotonic()
        KubesServer.cleanup(rec["binary"], rec["flags"])
        took = time.monotonic() - t0
    servers = state.get("servers")
    servers[name]["cleaned"] = True
    state.set("servers", servers)
    return took


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def wait_no_monitor(srv, timeout=180):
    deadline = time.monotonic() + timeout
    while srv.monitors():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(srv.monitors())} container monitors of the node still running after {timeout} s")
        time.sleep(0.2)
    return time.monotonic()


# ---- phase 1: scale 0 -> N -> 0 ----------------------------------------------------------------

class ScaleRun:
    """One Deployment scaled 0 -> N -> 0; times in seconds from the PUT of each scale."""

    def __init__(self):
        self.bare = None  # the reference just before: first POST -> last Ready of the bare pods
        self.created = self.ready = self.available = None  # up: last pod seen / Ready, availableReplicas N
        self.ready_p50 = None  # up: median over the pods of (Ready - first seen)
        self.gone = self.no_monitor = None  # down: last pod DELETED, last container monitor exited
        self.cpu_up = self.cpu_down = None
        self.rss_ready = None


def scale_once(srv, pods, deps, ns, n):
    api = srv.api
    run = ScaleRun()
    api.create_namespace(ns)
    create_deployment(api, ns, "sleep", 0)
    key = f"{ns}/sleep"
    # The controller has seen it (and made its empty ReplicaSet) before the clock starts.
    wait_until(deps, lambda: deps.first(key, 0, lambda st: st.get("observedGeneration", 0) >= 1) is not None,
               60, f"deployment {key} observed")
    time.sleep(1)

    log(f"scale: {ns}: 0 -> {n}")
    meter = CpuMeter(srv.proc.pid, time.monotonic)
    t0 = time.monotonic()
    scale(api, ns, "sleep", n)
    wait_until(pods, lambda: len(in_ns(pods.ready, ns)) >= n, SCALE_TIMEOUT, f"{n} pods of {ns} Ready")
    wait_until(deps, lambda: deps.first(key, t0, lambda st: st.get("availableReplicas", 0) >= n) is not None,
               SCALE_TIMEOUT, f"deployment {key} availableReplicas {n}")
    run.cpu_up = meter.stop()
    seen, ready = in_ns(pods.seen, ns), in_ns(pods.ready, ns)
    run.created = max(seen.values()) - t0
    run.ready = max(ready.values()) - t0
    run.available = deps.first(key, t0, lambda st: st.get("availableReplicas", 0) >= n) - t0
    run.ready_p50 = statistics.median(ready[k] - seen[k] for k in ready)
    time.sleep(2)
    run.rss_ready = rss_kib(srv.proc.pid)

    log(f"scale: {ns}: {n} -> 0")
    meter = CpuMeter(srv.proc.pid, time.monotonic)
    t0 = time.monotonic()
    scale(api, ns, "sleep", 0)
    wait_until(pods, lambda: not (in_ns(pods.seen, ns).keys() - pods.deleted.keys()), SCALE_TIMEOUT,
               f"every pod of {ns} deleted")
    run.cpu_down = meter.stop()
    run.gone = max(in_ns(pods.deleted, ns).values()) - t0
    run.no_monitor = wait_no_monitor(srv) - t0
    api.request("DELETE", f"/apis/apps/v1/namespaces/{ns}/deployments/sleep")
    return run


def scale_phase(args, state, res, octets):
    c = res.counts
    node_name = f"workbench-{os.getpid()}"
    data = os.path.join(args.work, "cluster")
    import_dir = os.path.join(data, "images", "import")
    os.makedirs(import_dir)
    shutil.copy(os.path.join(args.images, "busybox.tar"), import_dir)
    srv = KubesServer(args.kubes, data, kubes_flags(args.kubes, octets, node_name, max(c.replicas, c.bare)))
    rec = ServerRecord(state, "scale", srv, node=True)
    watches = []
    try:
        log("scale: starting the server and its node")
        srv.start(rec)
        node = srv.wait_node_ready(node_name)
        res.kubes_runtime = node["status"].get("nodeInfo", {}).get("containerRuntimeVersion", "?")
        pods_cap, addresses, cidr = node_pod_capacity(srv.api, node_name)
        if min(pods_cap, addresses) < c.replicas:
            raise RuntimeError(f"the node takes {pods_cap} pods and its CIDR {cidr} has {addresses} addresses: "
                               f"fewer than {c.replicas}")
        pods, deps = PodWatch(srv.api), DeploymentWatch(srv.api)
        for w in (pods, deps):
            w.start()
            watches.append(w)
        time.sleep(2)
        res.rss_node_idle = rss_kib(srv.proc.pid)
        res.threads_idle = threads_seen(srv.proc.pid)

        log("scale: warm-up pod")
        srv.api.create_namespace("warmup")
        kubes_at_once(srv, pods, "warmup", ["warmup-0"], pods.ready, 60)
        srv.delete_pods("warmup")

        for r in range(c.repeat):
            ns = f"bare-{r}"
            log(f"scale: {ns}: reference, {c.bare} bare pods at once")
            srv.api.create_namespace(ns)
            sent, ready = kubes_at_once(srv, pods, ns, [f"bare-{i:03d}" for i in range(c.bare)], pods.ready,
                                        SCALE_TIMEOUT)
            srv.delete_pods(ns)
            run = scale_once(srv, pods, deps, f"scale-{r}", c.replicas)
            run.bare = max(ready.values()) - min(sent.values())
            res.scale_runs.append(run)
    finally:
        for w in watches:
            w.stop()
        log("scale: stopping the server")
        res.stop_s["scale"] = timed(srv.stop)
        res.cleanup_s = stop_server(state, "scale")


def threads_seen(pid):
    """(thread count, sorted distinct names) of the process now."""
    threads = thread_cpu(pid)
    return len(threads), sorted({name for name, _ in threads.values()})


# ---- phase 2: 1,000 Deployments on a control plane without a node -----------------------------

def many_phase(args, state, res, octets):
    n = res.counts.deployments
    ns = "many"
    data = os.path.join(args.work, "control-plane")
    os.makedirs(data)
    flags = ["--cluster-cidr", f"10.{octets[0]}.0.0/16", "--service-cidr", f"10.{octets[1]}.0.0/16",
             "--node-name", f"workbench-cp-{os.getpid()}", "--disable-node"]
    srv = KubesServer(args.kubes, data, flags)
    rec = ServerRecord(state, "many", srv, node=False)
    watches = []
    try:
        log("many: starting a server with --disable-node")
        srv.start(rec)
        rs, pods = PodWatch(srv.api, "/apis/apps/v1/replicasets"), PodWatch(srv.api)
        for w in (rs, pods):
            w.start()
            watches.append(w)
        srv.api.create_namespace(ns)
        time.sleep(2)
        res.rss_cp_idle = rss_kib(srv.proc.pid)

        log(f"many: {n} Deployments of 1 replica, {CREATE_THREADS} clients")
        meter = CpuMeter(srv.proc.pid, time.monotonic)
        names = [f"web-{i:04d}" for i in range(n)]
        sent = parallel_create(srv.api, ns, names, min(CREATE_THREADS, n),
                               create=lambda name: create_deployment(srv.api, ns, name, 1))
        posted = time.monotonic()
        res.rss_cp_posted = rss_kib(srv.proc.pid)
        with rs.cond:
            res.rs_at_posted = len(in_ns(rs.seen, ns))
        with pods.cond:
            res.pods_at_posted = len(in_ns(pods.seen, ns))
        first = min(sent.values())
        res.post_s = posted - first

        wait_until(rs, lambda: len(in_ns(rs.seen, ns)) >= n, MANY_TIMEOUT, f"{n} ReplicaSets")
        wait_until(pods, lambda: len(in_ns(pods.seen, ns)) >= n, MANY_TIMEOUT, f"{n} Pods")
        res.cpu_many = meter.stop()
        rs_seen, pod_seen = in_ns(rs.seen, ns), in_ns(pods.seen, ns)
        res.rs_all_s = max(rs_seen.values()) - first
        res.rs_after_post_s = max(rs_seen.values()) - posted
        res.pods_all_s = max(pod_seen.values()) - first
        # ReplicaSet <deployment>-<hash>: from the POST of its Deployment to its ADDED.
        res.rs_latency = [t - sent[k.split("/", 1)[1].rsplit("-", 1)[0]] for k, t in rs_seen.items()]
        time.sleep(2)
        res.rss_cp_all = rss_kib(srv.proc.pid)
    finally:
        for w in watches:
            w.stop()
        log("many: stopping the server")
        res.stop_s["many"] = timed(srv.stop)
        stop_server(state, "many")


# ---- the run and its cleanup ------------------------------------------------------------------

def instance_id(data_dir):
    """The name kubes gives a data dir's node (cmd/kubes/node_flags.cc: FNV-1a of the
    data dir's real path): its bridge is kubes-<id>, its run state /run/kubes/<id>."""
    h = 2166136261
    for byte in os.path.realpath(data_dir).encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return f"{h:08x}"


def leftovers(work):
    """What of this run's node is still on the host (nothing, after a good cleanup)."""
    data = os.path.join(work, "cluster")
    node = instance_id(data)
    left = []
    if os.path.exists(f"/run/kubes/{node}"):
        left.append(f"/run/kubes/{node}")
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    ours = [line.split(":")[1].strip() for line in links.splitlines() if f"kubes-{node}" in line]
    if ours:
        left.append(f"{len(ours)} network links of kubes-{node}")
    if monitor_pids(data):
        left.append(f"{len(monitor_pids(data))} container monitor processes")
    if mounts_under(work):
        left.append(f"{len(mounts_under(work))} mounts under {work}")
    return left


def cleanup(work):
    """Undoes whatever a run in `work` made and left (after a crash or an interrupt too);
    returns what is still there afterwards."""
    state = State(work)
    for name in state.get("servers", {}):
        stop_server(state, name)
    unmount_under(work)
    left = leftovers(work)
    for what in left:
        log(f"left after the cleanup: {what}")
    return left


def parse_args():
    p = harness_args(__doc__)
    p.add_argument("--repeat", type=int, default=2, help="how many times the 0 -> 200 -> 0 run is made")
    return p.parse_args()


def main():
    args = parse_args()
    if args.cleanup:
        cleanup(args.cleanup)
        return 0
    if not (args.work and args.kubes and args.images):
        sys.exit("workbench.py: --work, --kubes and --images are required (use bench/workloads/run.sh)")
    exit_on_signals()
    state = State(args.work)
    state.set("pid", os.getpid())
    res = results.Results(Counts(args.scale, args.repeat), args.label)
    res.kubes_version = results.tool_version([args.kubes, "version"])
    octets = free_slash16s(4)
    try:
        for name, phase in (("scale", lambda: scale_phase(args, state, res, octets[:2])),
                            ("many", lambda: many_phase(args, state, res, octets[2:]))):
            try:
                phase()
            except Exception as e:  # one phase failing must not hide the other's numbers
                log(f"{name} phase failed: {e}")
                res.errors.append(f"{name}: {e}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        res.errors += [f"left after the cleanup: {what}" for what in cleanup(args.work)]
    table = results.render(res)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    return 1 if res.errors else 0


if __name__ == "__main__":
    sys.exit(main())
