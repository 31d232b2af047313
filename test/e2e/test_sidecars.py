"""Sidecar containers and init containers re-run in a new sandbox, on a real node
(issue 4). Each test applies an example under examples/pods/sidecar-containers/ (or
init-containers/rerun.yaml) unmodified and checks what its README says to watch.

Sidecars are init containers with restartPolicy: Always (upstream KEP-753): they start
before the app containers and keep running, restart on their own with the crash
back-off whatever the pod's restartPolicy, do not keep a Job from completing, and stop
after the app containers in reverse order. Timings are checked in windows derived from
the configured values (grace periods, the 10 s crash back-off), with the kubelet's and
the container runtime's own timestamps; nothing sleeps a fixed time."""
import contextlib
import datetime
import glob
import json
import os
import re
import signal
import subprocess

import pytest

from conftest import EXAMPLES, applied, wait_for

PODS = os.path.join(EXAMPLES, "pods")
SLACK = 4  # seconds a busy 2-core machine may add to a container start or a status write
BACKOFF = 10  # the kubelet's initial crash back-off


def example(concept, name):
    path = os.path.join(PODS, concept, name)
    assert os.path.exists(path), f"missing example {path}"
    return path


@pytest.fixture(scope="module")
def cluster(demo_node_cluster):
    return demo_node_cluster


def pod(c, name):
    return c.get_json("pod", name)


def status_of(p, name):
    """The container status called `name`, init or regular."""
    st = p.get("status", {})
    for cs in st.get("initContainerStatuses", []) + st.get("containerStatuses", []):
        if cs["name"] == name:
            return cs
    return {}


def ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def row(c, *args):
    """The `kubectl get` table of one object as {column: value}."""
    out = c.kubectl("get", *args).stdout.splitlines()
    return dict(zip(re.split(r"\s{2,}", out[0].strip()), re.split(r"\s{2,}", out[1].strip())))


def events(c, name):
    items = json.loads(c.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}",
                                 "-o", "json").stdout)["items"]
    return [(e["type"], e["reason"], e["message"], e.get("involvedObject", {}).get("fieldPath", "")) for e in items]


def only_pod(c, selector):
    items = c.get_json("pods", "-l", selector)["items"]
    return items[0]["metadata"]["name"] if len(items) == 1 else None


# ---- the log shipper ----------------------------------------------------------------------

def test_log_shipper_sidecar_follows_the_apps_file(cluster):
    """logshipper.yaml: the sidecar runs beside the app for as long as the pod does and
    shows the app's log file; READY counts it (2/2) as kubectl does upstream."""
    c = cluster
    with applied(c, example("sidecar-containers", "logshipper.yaml")):
        name = wait_for(lambda: only_pod(c, "app=myapp"), timeout=30, what="the Deployment's pod")
        wait_for(lambda: row(c, "pod", name)["READY"] == "2/2", timeout=60, what="both containers ready")
        p = pod(c, name)
        shipper, app = status_of(p, "logshipper"), status_of(p, "myapp")
        assert "running" in shipper["state"] and shipper["started"] is True and shipper["ready"] is True
        assert p["status"]["phase"] == "Running"
        # The sidecar started first: the app only once it was started.
        assert ts(shipper["state"]["running"]["startedAt"]) <= ts(app["state"]["running"]["startedAt"])
        assert row(c, "pod", name)["STATUS"] == "Running"
        wait_for(lambda: "logging" in c.kubectl("logs", "deploy/myapp", "-c", "logshipper").stdout,
                 timeout=20, what="the app's lines in the sidecar's log")


# ---- independent restarts -----------------------------------------------------------------

def test_sidecar_restarts_with_back_off_in_a_never_pod(cluster):
    """restarts.yaml: `flaky` exits 1 every 3 s; under restartPolicy: Never it is
    restarted all the same — at once, then after the 10 s back-off — while the app keeps
    running, never restarted, and the pod stays Running."""
    c = cluster
    with applied(c, example("sidecar-containers", "restarts.yaml")):
        p = wait_for(lambda: status_of(p := pod(c, "sidecar-restarts"), "flaky").get("restartCount", 0) >= 2
                     and "running" in status_of(p, "flaky")["state"] and p,
                     timeout=3 + 3 + BACKOFF + 3 * SLACK + 10, what="flaky's third run")
        flaky, app = status_of(p, "flaky"), status_of(p, "app")
        # The third run waited out the back-off after the second one ended.
        gap = ts(flaky["state"]["running"]["startedAt"]) - ts(flaky["lastState"]["terminated"]["finishedAt"])
        assert BACKOFF - 1 <= gap <= BACKOFF + SLACK, f"restart {gap}s after the exit"
        assert flaky["lastState"]["terminated"]["exitCode"] == 1
        assert "running" in app["state"] and app["restartCount"] == 0
        assert p["status"]["phase"] == "Running"
        uid = p["metadata"]["uid"]
        assert ("Warning", "BackOff", f"Back-off restarting failed container flaky in pod sidecar-restarts_default({uid})",
                "spec.initContainers{flaky}") in events(c, "sidecar-restarts")
        # While it waits, the waiting reason and message are upstream's.
        st = wait_for(lambda: (s := status_of(pod(c, "sidecar-restarts"), "flaky"))["state"].get("waiting") and s,
                      timeout=3 + SLACK + 5, what="flaky to wait in CrashLoopBackOff")
        assert st["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert st["state"]["waiting"]["message"].startswith("back-off 20s restarting failed container=flaky pod=")
        assert "running" in status_of(pod(c, "sidecar-restarts"), "app")["state"]


# ---- Jobs ----------------------------------------------------------------------------------

def test_job_with_a_sidecar_completes(cluster):
    """job.yaml: the job's container exits 0; the sidecar, which would follow the file
    forever, is stopped by the kubelet (tail as PID 1 ignores SIGTERM, so SIGKILL at the
    end of the 5 s grace period: exit code 137, as upstream reports it), the pod
    Succeeds from its regular container alone and the Job completes."""
    c = cluster
    grace = 5
    with applied(c, example("sidecar-containers", "job.yaml")):
        wait_for(lambda: any(cond["type"] == "Complete" and cond["status"] == "True"
                             for cond in c.get_json("job", "myjob").get("status", {}).get("conditions", [])),
                 timeout=60 + grace, what="the Job to complete")
        job = c.get_json("job", "myjob")
        assert job["status"].get("succeeded") == 1 and not job["status"].get("failed")
        name = c.get_json("pods", "-l", "job-name=myjob")["items"][0]["metadata"]["name"]
        p = pod(c, name)
        assert p["status"]["phase"] == "Succeeded"
        main, shipper = status_of(p, "myjob"), status_of(p, "logshipper")
        assert main["state"]["terminated"]["exitCode"] == 0
        term = shipper["state"]["terminated"]
        assert (term["exitCode"], term["reason"]) == (137, "Error")
        # Stopped after the job's container, within the grace period (+ the runtime's say).
        stopped_after = ts(term["finishedAt"]) - ts(main["state"]["terminated"]["finishedAt"])
        assert 0 <= stopped_after <= grace + SLACK, stopped_after
        assert row(c, "pod", name)["STATUS"] == "Completed"
        assert ("Normal", "Killing", "Stopping container logshipper", "spec.initContainers{logshipper}") in \
            events(c, name)
        # It shipped the job's last line (tail -F picks the file up within a second).
        assert c.kubectl("logs", name, "-c", "logshipper").stdout.splitlines()[-1] == "logging 3"


# ---- termination order ----------------------------------------------------------------------

LOG_LINE = re.compile(r"^\[pod/shutdown-order/(\S+)\] (\S+) \d\d:\d\d:\d\d (.*)$")


def rfc3339nano(text):
    """kubectl --timestamps' time (nanoseconds) as seconds since the epoch."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", text)
    whole = ts(m.group(1) + "Z")
    return whole + (float("0." + m.group(2)) if m.group(2) else 0.0)


def test_termination_order_on_delete(cluster):
    """shutdown-order.yaml: on delete the app container gets SIGTERM first; logshipper
    (the later sidecar) only once the app has exited, proxy only once logshipper has —
    each container drains for 2 s, so the steps are 2 s apart, all within the one grace
    period. Every container gets its Killing event at once, as upstream's killContainer."""
    c = cluster
    path = example("sidecar-containers", "shutdown-order.yaml")
    with applied(c, path):
        wait_for(lambda: row(c, "pod", "shutdown-order")["READY"] == "3/3", timeout=60, what="all three running")
        with c.kubectl_stream("logs", "-f", "shutdown-order", "--all-containers", "--prefix", "--timestamps") as logs:
            started = set()
            for _ in range(3):
                line = logs.wait_line(lambda line: LOG_LINE.match(line) and "started" in line, timeout=20,
                                      what="the containers' first lines")
                started.add(LOG_LINE.match(line).group(1))
            assert started == {"proxy", "logshipper", "app"}
            c.kubectl("delete", "pod", "shutdown-order", "--wait=false")
            seen = {}
            for _ in range(6):
                line = logs.wait_line(lambda line: LOG_LINE.match(line) and "started" not in line,
                                      timeout=2 * 3 + 10 + SLACK, what="the next stop line")
                m = LOG_LINE.match(line)
                seen[(m.group(1), "SIGTERM" if "SIGTERM" in m.group(3) else "stopped")] = rfc3339nano(m.group(2))
        order = ["app", "logshipper", "proxy"]
        for earlier, later in zip(order, order[1:]):
            assert seen[(earlier, "stopped")] <= seen[(later, "SIGTERM")], (earlier, later, seen)
            step = seen[(later, "SIGTERM")] - seen[(earlier, "SIGTERM")]
            assert 2 <= step <= 2 + SLACK, (earlier, later, step)
        wait_for(lambda: c.kubectl("get", "pod", "shutdown-order", check=False).returncode != 0,
                 timeout=30, what="the pod to be gone")


# ---- init containers re-run in a new sandbox --------------------------------------------------

def pod_processes(uid):
    """PIDs of this pod's container processes (found by the pod's cgroup)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cgroup") as f:
                if f"pod{uid}" in f.read():
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


def simulate_reboot_of_pod(c, uid):
    """What a reboot leaves of one pod: kubes stopped (SIGTERM: containers survive), the
    pod's container processes killed, its network namespace gone from /run; the data
    dir — containers' records, logs, volumes, the IP lease — kept. Only this pod's
    processes and namespace are touched."""
    c.stop()
    for pid in pod_processes(uid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not pod_processes(uid), timeout=10, what="the pod's processes to be gone")
    netns = glob.glob(f"/run/kubes/*/netns/{uid}")
    assert len(netns) == 1, netns
    subprocess.run(["umount", netns[0]], check=True)
    os.remove(netns[0])
    c.start()


def test_init_containers_rerun_after_the_sandbox_is_recreated(cluster):
    """rerun.yaml after a simulated reboot: the kubelet finds the pod's sandbox gone,
    says SandboxChanged, sets up a new one (a new IP), runs the init container again —
    restartCount 1 — and only then the app container (restartCount 1), which prints
    both runs of the init container."""
    c = cluster
    with applied(c, example("init-containers", "rerun.yaml")):
        p = wait_for(lambda: "running" in status_of(p := pod(c, "init-rerun"), "app").get("state", {}) and p,
                     timeout=60, what="the app to run")
        uid, old_ip = p["metadata"]["uid"], p["status"]["podIP"]
        assert (status_of(p, "setup")["restartCount"], status_of(p, "app")["restartCount"]) == (0, 0)
        simulate_reboot_of_pod(c, uid)
        p = wait_for(lambda: "running" in (a := status_of(p := pod(c, "init-rerun"), "app")).get("state", {})
                     and a["restartCount"] == 1 and p, timeout=60, what="the app's run in the new sandbox")
        setup, app = status_of(p, "setup"), status_of(p, "app")
        assert setup["restartCount"] == 1
        assert setup["state"]["terminated"]["reason"] == "Completed"
        # The init container ran again before the app container started again.
        assert ts(setup["state"]["terminated"]["finishedAt"]) <= ts(app["state"]["running"]["startedAt"])
        assert p["status"]["podIP"] != old_ip, "a new sandbox gets a new IP"
        assert ("Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", "") in \
            events(c, "init-rerun")
        runs = wait_for(lambda: (out := c.kubectl("logs", "init-rerun", "-c", "app").stdout).count("setup ran") == 2
                        and out, timeout=20, what="the app to print both runs")
        assert runs.count("setup ran") == 2
        assert glob.glob(f"/run/kubes/*/netns/{uid}"), "the new sandbox's namespace"
        assert row(c, "pod", "init-rerun")["STATUS"] == "Running"


def test_init_containers_rerun_when_the_namespace_is_removed_under_the_pod(cluster):
    """rerun.yaml, as its README does it: the pod's network namespace removed while the
    pod runs (kubes keeps running). The app is stopped (Killing), then the same as after
    a reboot: a new sandbox, setup again, then app."""
    c = cluster
    with applied(c, example("init-containers", "rerun.yaml")):
        p = wait_for(lambda: "running" in status_of(p := pod(c, "init-rerun"), "app").get("state", {}) and p,
                     timeout=60, what="the app to run")
        uid, old_ip = p["metadata"]["uid"], p["status"]["podIP"]
        netns = glob.glob(f"/run/kubes/*/netns/{uid}")
        assert len(netns) == 1, netns
        subprocess.run(["umount", netns[0]], check=True)
        os.remove(netns[0])
        # The kubelet notices at its next sync of the pod (its periodic resync at the latest).
        p = wait_for(lambda: "running" in (a := status_of(p := pod(c, "init-rerun"), "app")).get("state", {})
                     and a["restartCount"] == 1 and p, timeout=60 + 30, what="the app's run in the new sandbox")
        assert status_of(p, "setup")["restartCount"] == 1
        assert p["status"]["podIP"] != old_ip
        evs = events(c, "init-rerun")
        assert ("Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", "") in evs
        assert ("Normal", "Killing", "Stopping container app", "spec.containers{app}") in evs
        assert c.kubectl("logs", "init-rerun", "-c", "app").stdout.count("setup ran") == 2
