#!/usr/bin/python3
"""Probe benchmark: N bare pods of kubes-demo, each with an httpGet readiness probe every
second; what that costs kubes' CPU in steady state, and how long a probe's new answer
takes to reach the pod's Ready condition. Run through bench/probes/run.sh (which makes
the work directory, copies the binary and removes everything afterwards); see
bench/probes/README.md.

  probebench.py --work DIR --kubes BIN --images DIR [--scale F] [--out FILE] [--label TEXT]
  probebench.py --cleanup DIR      undo whatever a run in DIR left (idempotent)

Phases, on one `kubes server` with a node:
  start    N pods created from 16 clients at once; all Ready.
  steady   10 s to settle, then 60 s measured: kubes' CPU (process and threads; the
           containers are other processes and not in it), and the probes the demos
           answered in that time (from their access logs).
  latency  each pod's /readyz told to fail (the demo's control endpoint, from the
           host) and 3 s later to pass again, one pod after the other over 20 s. For
           each change: from the access-log line of the first probe that got the new
           answer (the demo's own clock, ms) to the watch reading the pod with its Ready
           condition changed (the harness's clock; the same machine, the same clock).
"""
import datetime
import http.client
import os
import re
import shutil
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pods"))
sys.path.insert(0, os.path.join(HERE, "..", "workloads"))

import host  # noqa: E402
from cluster import ApiError, KubesServer, PodWatch, is_ready, parallel_create  # noqa: E402
from cpu import CpuMeter, thread_user_system  # noqa: E402
from host import State, exit_on_signals, free_slash16s, harness_args, log, percentile, rss_kib  # noqa: E402
from podbench import CREATE_THREADS, kubes_flags, node_pod_capacity  # noqa: E402
from workbench import ServerRecord, cleanup as workbench_cleanup, stop_server  # noqa: E402

host.PROGRAM = "probebench"

NS = "probes"
STEADY_S = 60
SETTLE_S = 10
SPREAD_S = 20
HOLD_S = 3
START_TIMEOUT = 1200


def probe_pod(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "probebench"}},
            "spec": {"terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "demo", "image": "kubes-demo:1.0",
                                     "ports": [{"containerPort": 8080}],
                                     "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080},
                                                        "periodSeconds": 1, "timeoutSeconds": 1,
                                                        "successThreshold": 1, "failureThreshold": 1}}]}}


class ReadyWatch(PodWatch):
    """The pod watch, also keeping each pod's Ready changes with the wall-clock time at
    which the event was read (the access logs use the wall clock)."""

    def __init__(self, api):
        super().__init__(api)
        self.ready_now = {}
        self.changes = {}  # namespace/name -> [(wall time, ready)]

    def _note(self, pod, now):
        wall = time.time()
        super()._note(pod, now)
        key, ready = self._key(pod), is_ready(pod)
        with self.cond:
            if self.ready_now.get(key) != ready:
                self.ready_now[key] = ready
                self.changes.setdefault(key, []).append((wall, ready))
                self.cond.notify_all()

    def first_change(self, key, after, ready):
        with self.cond:
            for wall, r in self.changes.get(key, []):
                if wall >= after and r == ready:
                    return wall
        return None

    def count(self, ready):
        with self.cond:
            return sum(1 for k, r in self.ready_now.items() if k.startswith(NS + "/") and r == ready)


# ---- the demos' access logs --------------------------------------------------------------

LINE = re.compile(r'^\S+ \S+ \S+ (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z \S+ "GET /readyz HTTP/1\.1" (\d{3}) ')


def access_log(data, pod):
    """[(wall time, status)] of the probe requests in the pod's current log (CRI format:
    "<time> stdout F <demo line>"; the demo's line starts with its own time)."""
    meta = pod["metadata"]
    path = os.path.join(data, "logs", "pods", f"{meta['namespace']}_{meta['name']}_{meta['uid']}", "demo", "0.log")
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = LINE.match(line)
                if m and "kube-probe/" in line:
                    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
                    out.append((t.replace(tzinfo=datetime.timezone.utc).timestamp(), int(m.group(2))))
    except OSError:
        pass
    return out


def prober_user_system(before, after):
    """(user, system) seconds the prober's threads spent between two thread_user_system readings."""
    user = system = 0.0
    for tid, (name, u, s) in after.items():
        if "probe" not in name:
            continue
        _, u0, s0 = before.get(tid, (name, 0.0, 0.0))
        user += max(0.0, u - u0)
        system += max(0.0, s - s0)
    return user, system


def control(ip, state):
    """Tells a demo's /readyz what to answer; returns the wall time the answer came."""
    conn = http.client.HTTPConnection(ip, 8080, timeout=10)
    try:
        conn.request("GET", f"/control/readyz?state={state}")
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"control {ip}: HTTP {resp.status}")
        return time.time()
    finally:
        conn.close()


# ---- phases ----------------------------------------------------------------------------------

class Results:
    def __init__(self, n, label):
        self.n = n
        self.label = label
        self.start_s = None
        self.cpu = None
        self.probes_per_s = None
        self.rss_kib = None
        self.prober_user_system = (0.0, 0.0)
        self.latency = {}   # "fail"/"ok" -> [seconds]
        self.detect = {}    # "fail"/"ok" -> [seconds from the flip to the probe that saw it]
        self.missing = {}
        self.errors = []


def flip_cycle(srv, watch, pods, res):
    """Each pod's /readyz is told to fail, and HOLD_S later to pass again, the pods one
    after the other over SPREAD_S (so about N/SPREAD_S transitions a second each way, and
    only the pods of the last HOLD_S failing at any time); then, per pod, probe → watch
    for both changes."""
    fails, oks = {}, {}
    errors = []
    names = sorted(pods)
    start = time.monotonic()

    def cycle(part):
        for i, name in part:
            ip = pods[name]["status"]["podIP"]
            try:
                delay = start + SPREAD_S * i / len(names) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                fails[name] = control(ip, "fail")
            except (OSError, RuntimeError) as e:
                errors.append(f"{name}: {e}")

    def recover(part):
        for i, name in part:
            ip = pods[name]["status"]["podIP"]
            try:
                delay = start + SPREAD_S * i / len(names) + HOLD_S - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                oks[name] = control(ip, "ok")
            except (OSError, RuntimeError) as e:
                errors.append(f"{name}: {e}")

    indexed = list(enumerate(names))
    workers = [threading.Thread(target=f, args=(indexed[k::4],)) for f in (cycle, recover) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise RuntimeError(f"{len(errors)} control requests failed, first: {errors[0]}")
    deadline = time.monotonic() + 120
    keys = [f"{NS}/{n}" for n in names]
    with watch.cond:
        while time.monotonic() < deadline and not all(watch.first_change(k, oks[k.split("/")[1]], True) for k in keys):
            watch.cond.wait(0.5)
    time.sleep(1)  # the last access-log lines reach the files
    for state, flips, ready_after, want in (("fail", fails, False, 503), ("ok", oks, True, 200)):
        lat, det, missing = [], [], 0
        for name in names:
            flipped = flips[name]
            seen = watch.first_change(f"{NS}/{name}", flipped, ready_after)
            probe = next((t for t, status in access_log(srv.data_dir, pods[name]) if t >= flipped - 0.002 and
                          status == want), None)
            if seen is None or probe is None:
                missing += 1
                continue
            lat.append(seen - probe)
            det.append(probe - flipped)
        res.latency[state], res.detect[state], res.missing[state] = lat, det, missing


def run(args, state, res, octets):
    n = res.n
    node_name = f"probebench-{os.getpid()}"
    data = os.path.join(args.work, "cluster")
    import_dir = os.path.join(data, "images", "import")
    os.makedirs(import_dir)
    shutil.copy(os.path.join(args.images, "kubes-demo.tar"), import_dir)
    srv = KubesServer(args.kubes, data, kubes_flags(args.kubes, octets, node_name, n))
    rec = ServerRecord(state, "probes", srv, node=True)
    watch = None
    try:
        log("starting the server and its node")
        srv.start(rec)
        srv.wait_node_ready(node_name)
        pods_cap, addresses, cidr = node_pod_capacity(srv.api, node_name)
        if min(pods_cap, addresses) < n:
            raise RuntimeError(f"the node takes {pods_cap} pods and {cidr} has {addresses} addresses: fewer than {n}")
        watch = ReadyWatch(srv.api)
        watch.start()
        srv.api.create_namespace(NS)

        log(f"start: {n} pods with a readiness probe every second, {CREATE_THREADS} clients")
        names = [f"probe-{i:03d}" for i in range(n)]

        def create(name):
            status, obj = srv.api.request("POST", f"/api/v1/namespaces/{NS}/pods", probe_pod(name))
            if status not in (201, 409):
                raise ApiError(f"create {name}: HTTP {status}: {(obj or {}).get('message', obj)}")
        t0 = time.monotonic()
        parallel_create(srv.api, NS, names, min(CREATE_THREADS, n), create=create)
        missing = watch.wait(watch.ready, [f"{NS}/{p}" for p in names], START_TIMEOUT)
        if missing:
            raise RuntimeError(f"{len(missing)} pods not Ready after {START_TIMEOUT} s, e.g. {missing[0]}")
        res.start_s = time.monotonic() - t0
        pods = {p["metadata"]["name"]: p for p in srv.api.must("GET", f"/api/v1/namespaces/{NS}/pods")["items"]}

        log(f"steady: {SETTLE_S} s to settle, then {STEADY_S} s measured")
        time.sleep(SETTLE_S)
        meter = CpuMeter(srv.proc.pid, time.monotonic)
        threads0 = thread_user_system(srv.proc.pid)
        wall0 = time.time()
        time.sleep(STEADY_S)
        res.cpu = meter.stop()
        res.prober_user_system = prober_user_system(threads0, thread_user_system(srv.proc.pid))
        wall1 = time.time()
        res.rss_kib = rss_kib(srv.proc.pid)
        answered = sum(1 for p in pods.values() for t, _ in access_log(data, p) if wall0 <= t < wall1)
        res.probes_per_s = answered / (wall1 - wall0)

        log(f"latency: /readyz of {n} pods told to fail, and {HOLD_S} s later to pass, over {SPREAD_S} s")
        flip_cycle(srv, watch, pods, res)
    finally:
        if watch:
            watch.stop()
        log("stopping the server")
        stop_server(state, "probes")


def fmt_ms(values):
    if not values:
        return "—"
    return " / ".join(f"{percentile(values, q) * 1000:.0f}" for q in (50, 90, 99)) + f" / {max(values) * 1000:.0f}"


def render(res):
    rows = [f"**Probes** — {res.label}", "",
            "| measure | value |", "|---|---|",
            f"| pods, each with an httpGet readiness probe every 1 s | {res.n} |"]
    if res.start_s is not None:
        rows.append(f"| all created → all Ready | {res.start_s:.1f} s |")
    if res.cpu:
        c = res.cpu
        rows.append(f"| probes answered per second (access logs, 60 s) | {res.probes_per_s:.0f} |")
        rows.append(f"| kubes CPU over {STEADY_S} s (process, all threads) | {c.own:.2f} s = "
                    f"**{100 * c.own / c.seconds:.1f}% of one core** |")
        user, system = res.prober_user_system
        rows.append(f"| … of it, the prober (`kubelet-probe*` threads): user + system | "
                    f"{100 * sum(s for n, s in c.by_name.items() if 'probe' in n) / c.seconds:.1f}% = "
                    f"{100 * user / c.seconds:.1f}% + {100 * system / c.seconds:.1f}% |")
        groups = c.by_group() if c.named else {}
        if groups:
            rows.append("| … by group: node / controllers / rest / exited | " +
                        " / ".join(f"{100 * groups[g] / c.seconds:.1f}%" for g in
                                   ("node", "controllers", "rest", "exited threads")) + " |")
        rows.append(f"| children (runc, CNI, …) | {c.children:.2f} s |")
        rows.append(f"| kubes RSS | {res.rss_kib / 1024:.0f} MiB |")
    for state, what in (("fail", "Ready → not Ready"), ("ok", "not Ready → Ready")):
        if state in res.latency:
            rows.append(f"| probe → watch, {what}: p50 / p90 / p99 / max | {fmt_ms(res.latency[state])} ms "
                        f"({len(res.latency[state])} pods{', ' + str(res.missing[state]) + ' unmatched' if res.missing[state] else ''}) |")
            rows.append(f"| … flip → the probe that saw it: p50 / p90 / p99 / max | {fmt_ms(res.detect[state])} ms |")
    if res.cpu:
        top = ", ".join(f"{name} {100 * s / res.cpu.seconds:.1f}%" for name, s in res.cpu.top(8))
        rows += ["", f"Busiest threads over the {STEADY_S} s: {top}."]
    for e in res.errors:
        rows.append(f"\n**Error:** {e}")
    return "\n".join(rows)


def parse_args():
    return harness_args(__doc__).parse_args()


def main():
    args = parse_args()
    if args.cleanup:
        workbench_cleanup(args.cleanup)
        return 0
    if not (args.work and args.kubes and args.images):
        sys.exit("probebench.py: --work, --kubes and --images are required (use bench/probes/run.sh)")
    exit_on_signals()
    state = State(args.work)
    state.set("pid", os.getpid())
    res = Results(max(2, round(500 * args.scale)), args.label)
    octets = free_slash16s(2)
    try:
        run(args, state, res, octets)
    except Exception as e:  # the numbers measured so far are still printed
        log(f"failed: {e}")
        res.errors.append(str(e))
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        res.errors += [f"left after the cleanup: {what}" for what in workbench_cleanup(args.work)]
    table = render(res)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    return 1 if res.errors else 0


if __name__ == "__main__":
    sys.exit(main())
