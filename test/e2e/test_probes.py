"""Probes and lifecycle hooks on a real node (issue 4): the examples under
examples/pods/probes/ and examples/pods/lifecycle-hooks/ behave as the Kubernetes
documentation describes — restarts on schedule, Ready following the readiness probe,
the startup probe holding the others back, postStart before Running, preStop before
the stop signal — with upstream's events.

Timings are checked against windows derived from each manifest's periods, read from
the container statuses' own timestamps (second resolution) wherever possible, so a test
that runs late still measures what the kubelet did and when."""
import datetime
import json
import os
import time

import pytest
import yaml

from conftest import EXAMPLES, start_node_cluster, stop_node_cluster, wait_for

PROBES = os.path.join(EXAMPLES, "pods", "probes")
HOOKS = os.path.join(EXAMPLES, "pods", "lifecycle-hooks")
SLACK = 5  # seconds of scheduling and container start-up a busy 2-core machine may add


@pytest.fixture(scope="module")
def cluster(starter_images):
    assert os.path.exists(os.path.join(starter_images, "kubes-demo.tar")), "images/build.sh made no kubes-demo.tar"
    c = start_node_cluster(starter_images, archives=("busybox.tar", "kubes-demo.tar"))
    try:
        # Every example at once: their timelines run side by side while the tests look.
        c.applied = c.kubectl("apply", "-f", PROBES)
        c.kubectl("apply", "-f", os.path.join(HOOKS, "prestop.yaml"))
        yield c
    finally:
        stop_node_cluster(c)


def ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def pod(c, name):
    return c.get_json("pod", name)


def cstatus(c, name, init=False):
    statuses = pod(c, name).get("status", {}).get("initContainerStatuses" if init else "containerStatuses", [])
    return statuses[0] if statuses else {}


def condition(p, kind):
    for cond in p.get("status", {}).get("conditions", []):
        if cond["type"] == kind:
            return cond
    return {}


def events(c, name):
    items = json.loads(c.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}",
                                 "-o", "json").stdout)["items"]
    return [(e["type"], e["reason"], e["message"]) for e in items]


def has_event(c, name, kind, reason, message):
    return (kind, reason, message) in events(c, name)


def apply(c, manifest):
    c.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest))


def manifest(path):
    with open(path) as f:
        return yaml.safe_load(f)


def restarted_run(c, name, restarts):
    """Waits until the container has restarted `restarts` times; returns the status."""
    return wait_for(lambda: (s := cstatus(c, name)).get("restartCount", 0) >= restarts and "running" in s["state"]
                    and s, timeout=150, interval=0.5, what=f"{name} to restart {restarts} times")


def test_probe_fields_are_no_longer_warned_about(cluster):
    # Accepted and acted on: no "stored but not acted on" warning for probes.
    assert "Warning" not in cluster.applied.stderr, cluster.applied.stderr


def test_liveness_exec_restarts_on_schedule(cluster):
    c = cluster
    spec = manifest(os.path.join(PROBES, "liveness-exec.yaml"))["spec"]["containers"][0]["livenessProbe"]
    period, threshold = spec["periodSeconds"], spec.get("failureThreshold", 3)
    healthy = 10  # the manifest's `sleep 10` before it removes /tmp/healthy
    # The first failing probe comes within one period of the file's removal, the kill
    # after `threshold` failures; the shell ignores SIGTERM, so SIGKILL follows 2 s later
    # (the kubelet's minimum, above the probe's terminationGracePeriodSeconds: 1).
    low = healthy + (threshold - 1) * period + 2 - 1
    high = healthy + threshold * period + 2 + SLACK
    for restarts in (1, 2):
        st = restarted_run(c, "liveness-exec", restarts)
        last = st["lastState"]["terminated"]
        ran = ts(last["finishedAt"]) - ts(last["startedAt"])
        assert low <= ran <= high, (f"run {restarts} lasted {ran}s, expected {low}..{high}", events(c, "liveness-exec"))
        assert last["exitCode"] == 137 and last["reason"] == "Error", last
        # Restarted at once (no back-off for the first kills), as upstream.
        assert ts(st["state"]["running"]["startedAt"]) - ts(last["finishedAt"]) <= 2 + SLACK
    assert has_event(c, "liveness-exec", "Warning", "Unhealthy",
                     "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n")
    assert has_event(c, "liveness-exec", "Normal", "Killing",
                     "Container liveness failed liveness probe, will be restarted")


def test_liveness_http_restarts_with_the_probe_user_agent(cluster):
    c = cluster
    st = restarted_run(c, "liveness-http", 1)
    last = st["lastState"]["terminated"]
    ran = ts(last["finishedAt"]) - ts(last["startedAt"])
    # /healthz fails from 10 s; two failures 2 s apart; kubes-demo stops at once on SIGTERM.
    assert 10 + 2 - 1 <= ran <= 10 + 2 * 2 + SLACK, (ran, events(c, "liveness-http"))
    assert last["exitCode"] == 0 and last["reason"] == "Completed", last  # a graceful stop
    assert has_event(c, "liveness-http", "Warning", "Unhealthy",
                     "Liveness probe failed: HTTP probe failed with statuscode: 503")
    assert has_event(c, "liveness-http", "Normal", "Killing", "Container demo failed liveness probe, will be restarted")
    previous = c.kubectl("logs", "liveness-http", "--previous").stdout
    assert '"GET /healthz HTTP/1.1" 200' in previous and '"kube-probe/1.32"' in previous, previous
    assert '"GET /healthz HTTP/1.1" 503' in previous


def test_readiness_follows_the_probe_without_restarts(cluster):
    c = cluster
    wait_for(lambda: condition(pod(c, "readiness"), "Ready").get("status") == "True", timeout=90, interval=0.5,
             what="readiness to be Ready")
    p = pod(c, "readiness")
    started = ts(p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"])
    became_ready = ts(condition(p, "Ready")["lastTransitionTime"])
    # READY_AFTER=10s; probed every 2 s (and once at once when the container started).
    assert 10 - 1 <= became_ready - started <= 10 + 2 + SLACK, became_ready - started
    assert has_event(c, "readiness", "Warning", "Unhealthy",
                     "Readiness probe failed: HTTP probe failed with statuscode: 503")

    # Told to fail, the pod turns not Ready within one period (failureThreshold 1).
    r = c.kubectl("exec", "readiness", "--", "wget", "-qO-", "localhost:8080/control/readyz?state=fail")
    assert r.stdout == "readyz: fail\n", r.stdout
    flipped = time.monotonic()
    wait_for(lambda: condition(pod(c, "readiness"), "Ready").get("status") == "False", timeout=2 + SLACK + 5,
             interval=0.2, what="Ready to turn False")
    assert time.monotonic() - flipped <= 2 + SLACK
    p = pod(c, "readiness")
    assert condition(p, "Ready")["reason"] == "ContainersNotReady"
    assert condition(p, "ContainersReady")["status"] == "False"
    st = p["status"]["containerStatuses"][0]
    assert st["ready"] is False and st["started"] is True and "running" in st["state"] and st["restartCount"] == 0
    out = c.kubectl("get", "pod", "readiness").stdout
    assert "0/1" in out and "Running" in out, out

    c.kubectl("exec", "readiness", "--", "wget", "-qO-", "localhost:8080/control/readyz?state=ok")
    wait_for(lambda: condition(pod(c, "readiness"), "Ready").get("status") == "True", timeout=2 + SLACK + 5,
             interval=0.2, what="Ready to come back")


def test_tcp_probes(cluster):
    c = cluster
    wait_for(lambda: condition(pod(c, "tcp"), "Ready").get("status") == "True", timeout=90, interval=0.5,
             what="tcp to be Ready")
    assert cstatus(c, "tcp")["restartCount"] == 0
    # Nothing listens on 9999: connection refused, in Go's words.
    apply(c, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tcp-refused"},
              "spec": {"terminationGracePeriodSeconds": 1,
                       "containers": [{"name": "demo", "image": "kubes-demo:1.0",
                                       "livenessProbe": {"tcpSocket": {"port": 9999}, "periodSeconds": 1,
                                                         "failureThreshold": 2}}]}})
    restarted_run(c, "tcp-refused", 1)
    ip = pod(c, "tcp-refused")["status"]["podIP"]
    assert has_event(c, "tcp-refused", "Warning", "Unhealthy",
                     f"Liveness probe failed: dial tcp {ip}:9999: connect: connection refused")
    c.kubectl("delete", "pod", "tcp-refused", "--wait=false")


def test_startup_probe_holds_the_others_back(cluster):
    c = cluster
    wait_for(lambda: condition(pod(c, "startup"), "Ready").get("status") == "True", timeout=90, interval=0.5,
             what="startup to be Ready")
    p = pod(c, "startup")
    st = p["status"]["containerStatuses"][0]
    assert st["started"] is True and st["restartCount"] == 0
    started = ts(st["state"]["running"]["startedAt"])
    # STARTUP_DELAY=12s: not Ready before the startup probe passed.
    assert ts(condition(p, "Ready")["lastTransitionTime"]) - started >= 12 - 1
    # In the access log, no liveness or readiness request before /startupz passed.
    log = c.kubectl("logs", "startup").stdout.splitlines()
    requests = [line for line in log if '"GET /' in line]
    first_ok = next(i for i, line in enumerate(requests) if '"GET /startupz HTTP/1.1" 200' in line)
    assert all("/startupz" in line for line in requests[:first_ok]), requests[:first_ok + 1]
    assert any("/healthz" in line for line in requests[first_ok:])

    # A start slower than the startup probe allows: killed, and restarted.
    apply(c, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "startup-too-slow"},
              "spec": {"containers": [{"name": "demo", "image": "kubes-demo:1.0",
                                       "env": [{"name": "STARTUP_DELAY", "value": "60s"}],
                                       "startupProbe": {"httpGet": {"path": "/startupz", "port": 8080},
                                                        "periodSeconds": 1, "failureThreshold": 3}}]}})
    st = restarted_run(c, "startup-too-slow", 1)
    ran = ts(st["lastState"]["terminated"]["finishedAt"]) - ts(st["lastState"]["terminated"]["startedAt"])
    assert ran <= 3 + 1 + SLACK, ran
    assert has_event(c, "startup-too-slow", "Normal", "Killing",
                     "Container demo failed startup probe, will be restarted")
    assert has_event(c, "startup-too-slow", "Warning", "Unhealthy",
                     "Startup probe failed: HTTP probe failed with statuscode: 503")
    c.kubectl("delete", "pod", "startup-too-slow", "--wait=false")


def test_exec_probe_timeout(cluster):
    c = cluster
    apply(c, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "exec-timeout"},
              "spec": {"terminationGracePeriodSeconds": 1,
                       "containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                       "readinessProbe": {"exec": {"command": ["sleep", "5"]}, "timeoutSeconds": 1,
                                                          "periodSeconds": 2}}]}})
    wait_for(lambda: has_event(c, "exec-timeout", "Warning", "Unhealthy",
                               'Readiness probe failed: command "sleep 5" timed out'),
             timeout=60, interval=0.5, what="the timeout event")
    st = cstatus(c, "exec-timeout")
    assert st["ready"] is False and "running" in st["state"]
    c.kubectl("delete", "pod", "exec-timeout", "--wait=false")


def test_sidecar_startup_probe_gates_the_app(cluster):
    c = cluster
    apply(c, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sidecar-startup"},
              "spec": {"terminationGracePeriodSeconds": 1,
                       "initContainers": [{"name": "sidecar", "image": "busybox:1.36", "restartPolicy": "Always",
                                           "command": ["sh", "-c", "sleep 4; touch /tmp/ready; exec sleep 3600"],
                                           "startupProbe": {"exec": {"command": ["test", "-f", "/tmp/ready"]},
                                                            "periodSeconds": 1, "failureThreshold": 30}}],
                       "containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}})
    wait_for(lambda: condition(pod(c, "sidecar-startup"), "Ready").get("status") == "True", timeout=90,
             interval=0.5, what="sidecar-startup to be Ready")
    sidecar, app = cstatus(c, "sidecar-startup", init=True), cstatus(c, "sidecar-startup")
    assert sidecar["started"] is True and sidecar["ready"] is True
    # The app started only after the sidecar's startup probe passed (4 s in).
    gap = ts(app["state"]["running"]["startedAt"]) - ts(sidecar["state"]["running"]["startedAt"])
    assert gap >= 4 - 1, gap
    c.kubectl("delete", "pod", "sidecar-startup", "--wait=false")


def test_post_start_runs_before_the_container_counts_as_running(cluster):
    c = cluster
    applied = time.monotonic()
    c.kubectl("apply", "-f", os.path.join(HOOKS, "poststart.yaml"))
    # While the hook runs (5 s) the container exists but is not Running yet.
    creating = wait_for(lambda: (s := cstatus(c, "poststart")).get("containerID")
                        and s["state"].get("waiting", {}).get("reason") == "ContainerCreating" and s,
                        timeout=60, interval=0.2, what="the container to exist while the hook runs")
    assert creating["started"] is False
    assert pod(c, "poststart")["status"]["phase"] == "Pending"
    wait_for(lambda: "running" in cstatus(c, "poststart").get("state", {}), timeout=60, interval=0.2,
             what="poststart to run")
    assert time.monotonic() - applied >= 5 - 0.5
    wait_for(lambda: "app read: Hello from the postStart handler" in c.kubectl("logs", "poststart").stdout,
             timeout=30, what="the app to read the hook's file")
    c.kubectl("delete", "pod", "poststart", "--grace-period=1", "--wait=false")


def test_failing_post_start_kills_the_container(cluster):
    c = cluster
    apply(c, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "poststart-fails"},
              "spec": {"terminationGracePeriodSeconds": 1,
                       "containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                       "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "exit 1"]}}}}]}})
    wait_for(lambda: cstatus(c, "poststart-fails").get("restartCount", 0) >= 1, timeout=90, interval=0.5,
             what="the container to be restarted")
    assert has_event(c, "poststart-fails", "Warning", "FailedPostStartHook", "PostStartHook failed")
    assert has_event(c, "poststart-fails", "Normal", "Killing", "FailedPostStartHook")
    st = cstatus(c, "poststart-fails")
    assert st["ready"] is False and st["started"] is False
    c.kubectl("delete", "pod", "poststart-fails", "--wait=false")


def test_pre_stop_runs_before_the_stop_signal(cluster):
    c = cluster
    wait_for(lambda: "running" in cstatus(c, "prestop").get("state", {}), timeout=90, interval=0.5,
             what="prestop to run")
    with c.kubectl_stream("logs", "-f", "prestop") as log:
        log.wait_line(lambda l: "serving http on :8080" in l, what="the start line")
        start = time.monotonic()
        c.kubectl("delete", "pod", "prestop", "--wait=false")
        log.wait_line(lambda l: "shutting down (SIGTERM)" in l, timeout=30, what="SIGTERM after the hook")
        signalled = time.monotonic() - start
    # The hook sleeps 5 s before SIGTERM; the demo then stops at once.
    assert 5 - 0.5 <= signalled <= 5 + SLACK, signalled
    wait_for(lambda: c.kubectl("get", "pod", "prestop", check=False).returncode != 0, timeout=30,
             what="the pod to be gone")
    assert time.monotonic() - start < 15


def test_failing_pre_stop_is_reported_and_the_stop_goes_on(cluster):
    c = cluster
    apply(c, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "prestop-fails"},
              "spec": {"terminationGracePeriodSeconds": 3,
                       "containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                       "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "exit 3"]}}}}]}})
    wait_for(lambda: "running" in cstatus(c, "prestop-fails").get("state", {}), timeout=90, interval=0.5,
             what="prestop-fails to run")
    start = time.monotonic()
    c.kubectl("delete", "pod", "prestop-fails", "--wait=false")
    wait_for(lambda: has_event(c, "prestop-fails", "Warning", "FailedPreStopHook", "PreStopHook failed"),
             timeout=30, interval=0.3, what="the FailedPreStopHook event")
    assert has_event(c, "prestop-fails", "Normal", "Killing", "Stopping container app")
    # `sleep` as PID 1 ignores SIGTERM: SIGKILL at the end of the 3 s grace period.
    wait_for(lambda: c.kubectl("get", "pod", "prestop-fails", check=False).returncode != 0, timeout=30,
             what="the pod to be gone")
    assert time.monotonic() - start < 3 + SLACK + 3
