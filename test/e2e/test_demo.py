"""kubes-demo (cmd/kubes-demo), the web server of kubes' examples, in a pod on a real
node: the downward API tells it who it is, /readyz follows READY_AFTER, /exit makes the
container restart with that exit code, and SIGTERM stops it gracefully.

The demo is reached from a busybox pod over the pod network (wget to the pod IP), as
examples/demo/README.md does. The tests share one demo pod and run in file order: the
READY_AFTER check needs a fresh pod, and the last test deletes it."""
import datetime
import json
import os
import time

import pytest
import yaml

from conftest import EXAMPLES, wait_for

MANIFEST = os.path.join(EXAMPLES, "demo", "pod.yaml")
# The test's READY_AFTER: long enough that the first check surely comes before it ends.
READY_AFTER = 20


@pytest.fixture(scope="module")
def demo_cluster(demo_node_cluster):
    return demo_node_cluster


def pod(c, name):
    return c.get_json("pod", name)


def container_status(c, name):
    statuses = pod(c, name).get("status", {}).get("containerStatuses", [])
    return statuses[0] if statuses else {}


def wget(c, url, *extra):
    """Fetches url from the client pod; returns kubectl's CompletedProcess (busybox wget
    exits 1 and says "server returned error: HTTP/1.1 503 ..." on an error status)."""
    # No -T: busybox 1.35's static wget crashes (SIGSEGV) when given a timeout.
    return c.kubectl("exec", "client", "--", "wget", "-qO-", *extra, url, check=False)


def demo_manifest():
    """examples/demo/pod.yaml with the test's READY_AFTER."""
    docs = list(yaml.safe_load_all(open(MANIFEST)))
    demo = next(d for d in docs if d["metadata"]["name"] == "demo")
    for env in demo["spec"]["containers"][0]["env"]:
        if env["name"] == "READY_AFTER":
            env["value"] = f"{READY_AFTER}s"
    return yaml.safe_dump_all(docs)


def started_at(status):
    t = status["state"]["running"]["startedAt"]
    return datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


@pytest.fixture(scope="module")
def demo(demo_cluster):
    """The example's two pods, running; yields the demo's base URL."""
    c = demo_cluster
    c.kubectl("apply", "-f", "-", input=demo_manifest())
    # Running, not Ready: once the kubelet runs the readiness probe, Ready comes only
    # after READY_AFTER, and the first test wants to see /readyz fail before that.
    for name in ("client", "demo"):
        wait_for(lambda: "running" in container_status(c, name).get("state", {}), timeout=90,
                 what=f"pod {name} to run")
    yield f"http://{pod(c, 'demo')['status']['podIP']}:8080"
    c.kubectl("delete", "pod", "client", "demo", "--grace-period=1", "--ignore-not-found", "--wait=false")


def test_readyz_fails_until_ready_after_then_passes(demo_cluster, demo):
    c = demo_cluster
    wait_for(lambda: wget(c, demo + "/healthz").returncode == 0, timeout=30, interval=0.2, what="the demo to listen")
    r = wget(c, demo + "/readyz")
    assert r.returncode != 0 and "503" in r.stderr, (r.stdout, r.stderr)
    assert wget(c, demo + "/control/readyz").stdout.startswith("readyz: fail (ok in ")
    assert wget(c, demo + "/healthz").stdout == "ok\n"
    wait_for(lambda: wget(c, demo + "/readyz").returncode == 0, timeout=READY_AFTER + 40, interval=0.5,
             what="/readyz to pass")
    passed = time.time()
    started = started_at(container_status(c, "demo"))
    assert passed - started >= READY_AFTER - 1, f"/readyz passed {passed - started:.1f}s after the start"
    assert wget(c, demo + "/readyz").stdout == "ok\n"


def test_root_reports_the_pod_from_the_downward_api(demo_cluster, demo):
    c = demo_cluster
    r = wget(c, demo + "/?format=json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["pod"] == "demo"
    assert got["namespace"] == "default"
    assert got["node"] == c.node_name
    assert got["hostname"] == "demo"
    assert got["client"].startswith(pod(c, "client")["status"]["podIP"] + ":")
    text = wget(c, demo + "/").stdout
    assert text.startswith("kubes-demo 1.0 answered from pod default/demo\n"), text
    assert f"node:      {c.node_name}\n" in text
    # The request is in the container's log.
    wait_for(lambda: '"GET /?format=json HTTP/1.1" 200' in c.kubectl("logs", "demo").stdout,
             what="the access log line")


def test_pod_ip_env_is_the_pod_ip(demo_cluster, demo):
    c = demo_cluster
    got = json.loads(wget(c, demo + "/?format=json").stdout)
    assert got["podIP"] == pod(c, "demo")["status"]["podIP"]


def test_control_and_headers(demo_cluster, demo):
    c = demo_cluster
    assert wget(c, demo + "/control/healthz?state=fail").stdout == "healthz: fail\n"
    r = wget(c, demo + "/healthz")
    assert r.returncode != 0 and "503" in r.stderr
    assert wget(c, demo + "/control/healthz?state=ok").stdout == "healthz: ok\n"
    assert wget(c, demo + "/healthz").returncode == 0
    echoed = wget(c, demo + "/headers", "--header", "X-Probe: by-hand").stdout
    assert echoed.startswith("GET /headers HTTP/1.1\n") and "X-Probe: by-hand\n" in echoed, echoed


def test_exit_restarts_the_container_with_that_code(demo_cluster, demo):
    c = demo_cluster
    before = container_status(c, "demo")
    assert before["restartCount"] == 0
    r = wget(c, demo + "/exit?code=3")
    assert r.stdout == "exiting with code 3\n", (r.stdout, r.stderr)
    st = wait_for(lambda: (s := container_status(c, "demo")).get("restartCount", 0) >= 1 and s, timeout=60,
                  what="the container to be restarted")
    last = st["lastState"]["terminated"]
    assert last["exitCode"] == 3 and last["reason"] == "Error", last
    assert last["containerID"] == before["containerID"]
    # The new container runs and serves again.
    wait_for(lambda: "running" in container_status(c, "demo").get("state", {}), timeout=60,
             what="the restarted container to run")
    wait_for(lambda: wget(c, demo + "/healthz").returncode == 0, timeout=30, what="the restarted demo to answer")
    previous = c.kubectl("logs", "demo", "--previous").stdout
    assert "exiting with code 3" in previous


def test_sigterm_is_a_graceful_stop(demo_cluster, demo):
    """The pod's SHUTDOWN_DELAY is 3 s: deletion takes that long, not the 30 s grace
    period that a server ignoring SIGTERM would need."""
    c = demo_cluster
    wait_for(lambda: wget(c, demo + "/healthz").returncode == 0, timeout=30, what="the demo to answer")
    with c.kubectl_stream("logs", "-f", "demo") as log:
        log.wait_line(lambda l: "serving http on :8080" in l, what="the start line")
        start = time.monotonic()
        c.kubectl("delete", "pod", "demo", "--wait=false")
        log.wait_line(lambda l: "shutting down (SIGTERM)" in l, what="SIGTERM to arrive")
        log.wait_line(lambda l: "still serving for 3s (SHUTDOWN_DELAY)" in l, what="the delay")
        log.wait_line(lambda l: l.endswith(" stopped"), timeout=30, what="the clean exit")
    wait_for(lambda: c.kubectl("get", "pod", "demo", check=False).returncode != 0, timeout=30,
             what="the pod to be gone")
    took = time.monotonic() - start
    assert 2.5 <= took < 20, took
