"""Pod concepts on a real node (issue 4): container states, restart policy, init
containers, readiness gates, the downward API and QoS classes. Each test applies the
manifests of one example under examples/pods/<concept>/ unmodified and checks what its
README says to watch, through kubectl: `get` columns, `-o json` fields, events and
`describe`.

Timings are checked in windows derived from the configured values (the 10 s crash
back-off), using the kubelet's own timestamps where they exist (second resolution).
Where kubes differs from upstream the test states upstream's behaviour and is marked
xfail with what differs."""
import datetime
import json
import os
import re
import time

import pytest

import conftest
from conftest import EXAMPLES, wait_for

PODS = os.path.join(EXAMPLES, "pods")
SLACK = 4  # seconds a busy 2-core machine may add to a container start or a status write
BACKOFF = 10  # the kubelet's initial crash back-off


def example(concept, *files):
    paths = [os.path.join(PODS, concept, f) for f in files] or [os.path.join(PODS, concept)]
    for p in paths:
        assert os.path.exists(p), f"missing example {p}"
    return paths


@pytest.fixture(scope="module")
def cluster(demo_node_cluster):
    return demo_node_cluster


def applied(c, paths):
    """conftest.applied; the shell loops of the examples ignore SIGTERM: a grace period of 1 s."""
    return conftest.applied(c, paths, grace_period=1)


# ---- reading what kubectl shows ------------------------------------------------------

def pod(c, name, ns="default"):
    return c.get_json("pod", name, "-n", ns)


def cstatus(p, index=0, init=False):
    statuses = p.get("status", {}).get("initContainerStatuses" if init else "containerStatuses", [])
    return statuses[index] if len(statuses) > index else {}


def condition(p, kind):
    for cond in p.get("status", {}).get("conditions", []):
        if cond["type"] == kind:
            return cond
    return {}


def ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def columns(line):
    """One `kubectl get` line as its columns (kubectl pads columns with 3 spaces or more;
    a value such as "1 (5s ago)" has single spaces)."""
    return re.split(r"\s{2,}", line.strip())


def row(c, name, *extra, ns="default"):
    """The `kubectl get pod NAME` table as {column: value}."""
    out = c.kubectl("get", "pod", name, "-n", ns, *extra).stdout.splitlines()
    return dict(zip(columns(out[0]), columns(out[1])))


def events(c, name, ns="default"):
    items = json.loads(c.kubectl("get", "events", "-n", ns, "--field-selector", f"involvedObject.name={name}",
                                 "-o", "json").stdout)["items"]
    return [(e["type"], e["reason"], e["message"]) for e in items]


def describe_lines(c, name, ns="default"):
    """`kubectl describe pod` with each line's inner runs of spaces collapsed."""
    out = c.kubectl("describe", "pod", name, "-n", ns).stdout
    return [re.sub(r"\s+", " ", line.strip()) for line in out.splitlines()]


def latest_run(st):
    """The newest run of a container: `state` unless it is waiting between runs."""
    state = st.get("state", {})
    if "waiting" in state:
        return st.get("lastState", {}).get("terminated", {})
    return state.get("running") or state.get("terminated") or {}


# ---- container states -----------------------------------------------------------------

def test_container_states_and_last_state(cluster):
    """examples/pods/container-states/: Running (startedAt) → Terminated (exit code 3,
    Error, the termination message) kept as lastState while the next run goes on → Waiting
    with reason CrashLoopBackOff; and FallbackToLogsOnError's message from the log."""
    c = cluster
    with applied(c, example("container-states", "pod.yaml", "fallback.yaml")):
        st = wait_for(lambda: "running" in (s := cstatus(pod(c, "states-demo"))).get("state", {}) and s,
                      timeout=60, what="the worker to run")
        assert st["restartCount"] == 0 and st["ready"] and st["started"] and st["lastState"] == {}
        first_start = ts(st["state"]["running"]["startedAt"])
        assert row(c, "states-demo")["STATUS"] == "Running"

        # After 5 s it exits 3; restarted at once, the ended run is lastState.
        st = wait_for(lambda: (s := cstatus(pod(c, "states-demo"))).get("restartCount", 0) >= 1 and s,
                      timeout=5 + 2 * SLACK, what="the first restart")
        last = st["lastState"]["terminated"]
        assert (last["exitCode"], last["reason"], last["message"]) == (3, "Error", "out of widgets"), last
        assert ts(last["startedAt"]) == first_start
        # 5 s of work; whole seconds, so at least 5 apart (the times are truncated alike).
        assert 5 <= ts(last["finishedAt"]) - ts(last["startedAt"]) <= 5 + SLACK, last
        second = latest_run(st)
        assert ts(second["startedAt"]) - ts(last["finishedAt"]) <= SLACK, "the first restart comes at once"

        # The second run ends too: now the back-off, shown as Waiting.
        st = wait_for(lambda: (s := cstatus(pod(c, "states-demo"))).get("state", {}).get("waiting", {})
                      .get("reason") == "CrashLoopBackOff" and s, timeout=5 + 2 * SLACK,
                      what="CrashLoopBackOff after the second exit")
        uid = pod(c, "states-demo")["metadata"]["uid"]
        assert st["state"]["waiting"]["message"] == \
            f"back-off {BACKOFF}s restarting failed container=worker pod=states-demo_default({uid})"
        assert st["restartCount"] == 1 and not st["ready"] and not st["started"]
        last = st["lastState"]["terminated"]
        assert (last["exitCode"], last["reason"], last["message"]) == (3, "Error", "out of widgets"), last
        r = row(c, "states-demo")
        assert (r["READY"], r["STATUS"]) == ("0/1", "CrashLoopBackOff") and r["RESTARTS"].startswith("1 ("), r
        lines = describe_lines(c, "states-demo")
        at = lines.index("State: Waiting")
        assert lines[at + 1:at + 6] == ["Reason: CrashLoopBackOff", "Last State: Terminated", "Reason: Error",
                                        "Message: out of widgets", "Exit Code: 3"], lines[at:at + 8]
        assert "Restart Count: 1" in lines and "Ready: False" in lines

        # FallbackToLogsOnError: the end of the log is the message.
        p = wait_for(lambda: (p := pod(c, "fallback-demo"))["status"].get("phase") == "Failed" and p, timeout=60,
                     what="fallback-demo to fail")
        term = cstatus(p)["state"]["terminated"]
        assert (term["exitCode"], term["reason"]) == (1, "Error")
        assert term["message"] == "loading /etc/app/config.yaml\nconfig.yaml: no such file\n"
        assert row(c, "fallback-demo")["STATUS"] == "Error"


# ---- restart policy ---------------------------------------------------------------------

def test_restart_policies_and_back_off(cluster):
    """examples/pods/restart-policy/: Always restarts even exit 0, OnFailure only
    failures (a success is Completed/Succeeded), Never leaves Error/Failed; restarts after
    the first come after the back-off, 10 s from the end of the run, then 20 s."""
    c = cluster
    with applied(c, example("restart-policy")):
        # Follow on-failure-fails closely: when did RESTARTS reach 1 and 2?
        seen = {}
        run2_end = None

        def second_restart():
            nonlocal run2_end
            st = cstatus(pod(c, "on-failure-fails"))
            n = st.get("restartCount", 0)
            for k in range(1, n + 1):
                seen.setdefault(k, (time.monotonic(), st))
            if n == 1 and "waiting" in st.get("state", {}):
                run2_end = st["lastState"]["terminated"]
            return n >= 2 and st
        st = wait_for(second_restart, timeout=60 + BACKOFF + 2 * SLACK, interval=0.1,
                      what="on-failure-fails to restart twice")
        assert 1 in seen and run2_end, "RESTARTS 1 with the back-off message was never seen"
        uid = pod(c, "on-failure-fails")["metadata"]["uid"]
        # The first restart is immediate: the second run began within seconds of the pod.
        started = ts(pod(c, "on-failure-fails")["status"]["startTime"])
        assert ts(run2_end["startedAt"]) - started < BACKOFF / 2, run2_end
        # The second waits the back-off, counted from the end of the run before it.
        run3 = latest_run(st)
        waited = ts(run3["startedAt"]) - ts(run2_end["finishedAt"])
        assert BACKOFF <= waited <= BACKOFF + SLACK, (run2_end, run3)
        between = seen[2][0] - seen[1][0]
        assert BACKOFF - 1 <= between <= BACKOFF + SLACK, between
        # Then 20 s.
        st = wait_for(lambda: (s := cstatus(pod(c, "on-failure-fails")))["state"].get("waiting", {})
                      .get("message", "").startswith(f"back-off {2 * BACKOFF}s") and s, timeout=2 * SLACK,
                      what="the doubled back-off")
        assert st["state"]["waiting"]["message"] == \
            f"back-off {2 * BACKOFF}s restarting failed container=app pod=on-failure-fails_default({uid})"
        backoff = f"Back-off restarting failed container app in pod on-failure-fails_default({uid})"
        assert ("Warning", "BackOff", backoff) in events(c, "on-failure-fails")
        r = row(c, "on-failure-fails")
        assert r["STATUS"] == "CrashLoopBackOff" and r["RESTARTS"].startswith("2 ("), r
        assert pod(c, "on-failure-fails")["status"]["phase"] == "Running"

        # Always: exit 0 is restarted too, and backs off like a failure.
        st = wait_for(lambda: (s := cstatus(pod(c, "always"))).get("restartCount", 0) >= 1 and
                      "waiting" in s["state"] and s, timeout=30, what="always to back off")
        assert st["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert (st["lastState"]["terminated"]["exitCode"], st["lastState"]["terminated"]["reason"]) == (0, "Completed")
        assert pod(c, "always")["status"]["phase"] == "Running"
        assert row(c, "always")["STATUS"] == "CrashLoopBackOff"

        # OnFailure after exit 0: done, never restarted (it has had more than the back-off).
        p = pod(c, "on-failure-ok")
        st = cstatus(p)
        assert p["status"]["phase"] == "Succeeded" and st["restartCount"] == 0
        assert (st["state"]["terminated"]["exitCode"], st["state"]["terminated"]["reason"]) == (0, "Completed")
        assert (condition(p, "Ready")["status"], condition(p, "Ready")["reason"]) == ("False", "PodCompleted")
        assert row(c, "on-failure-ok")["STATUS"] == "Completed"

        # Never after exit 1: Error, Failed, not restarted.
        p = pod(c, "never")
        st = cstatus(p)
        assert p["status"]["phase"] == "Failed" and st["restartCount"] == 0
        assert (st["state"]["terminated"]["exitCode"], st["state"]["terminated"]["reason"]) == (1, "Error")
        r = row(c, "never")
        assert (r["STATUS"], r["RESTARTS"]) == ("Error", "0"), r


def test_failed_pod_is_not_ready_because_it_failed(cluster):
    c = cluster
    with applied(c, example("restart-policy", "never.yaml")):
        p = wait_for(lambda: (p := pod(c, "never"))["status"].get("phase") == "Failed" and p, timeout=60,
                     what="never to fail")
        for kind in ("Ready", "ContainersReady"):
            assert (condition(p, kind)["status"], condition(p, kind).get("reason")) == ("False", "PodFailed")


STOPPED_PODS = """
apiVersion: v1
kind: Pod
metadata: {name: stops-cleanly, labels: {test: terminal-phase}}
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - {name: app, image: kubes-demo:1.0}
---
apiVersion: v1
kind: Pod
metadata: {name: ignores-sigterm, labels: {test: terminal-phase}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox:1.28, command: [sleep, "3600"]}
"""


def test_deleted_pod_ends_in_a_terminal_phase(cluster):
    """Upstream's kubelet (since 1.27) writes a terminal phase before a deleted pod goes:
    Succeeded when its containers exited 0 on the stop signal (kubes-demo), Failed when
    they were killed (busybox sleep ignores SIGTERM: SIGKILL after the grace period, 137)
    — whatever the restart policy (Always here)."""
    c = cluster
    c.kubectl("apply", "-f", "-", input=STOPPED_PODS)
    try:
        for name in ("stops-cleanly", "ignores-sigterm"):
            wait_for(lambda: pod(c, name)["status"].get("phase") == "Running", timeout=60, what=f"{name} to run")
        with c.kubectl_stream("get", "pods", "-l", "test=terminal-phase", "-w",
                              "-o", "custom-columns=NAME:.metadata.name,PHASE:.status.phase") as watch:
            c.kubectl("delete", "pod", "stops-cleanly", "ignores-sigterm", "--wait=false")
            seen = set()

            def both_terminal(line):
                for name, phase in (("stops-cleanly", "Succeeded"), ("ignores-sigterm", "Failed")):
                    if name in line and phase in line:
                        seen.add(name)
                return len(seen) == 2
            watch.wait_line(both_terminal, timeout=60, what="stops-cleanly Succeeded and ignores-sigterm Failed")
    finally:
        c.kubectl("delete", "pod", "stops-cleanly", "ignores-sigterm", "--ignore-not-found", "--grace-period=1",
                  check=False, timeout=120)


# ---- init containers ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def myapp_run(cluster):
    """examples/pods/init-containers/myapp.yaml played through as its README does:
    returns the `kubectl get -w` lines and the pod as seen at each step."""
    c = cluster
    seen = {}
    with applied(c, example("init-containers", "myapp.yaml")):
        with c.kubectl_stream("get", "pod", "myapp-pod", "-w") as watch:
            watch.wait_line(lambda l: "Init:0/2" in l, timeout=60, what="Init:0/2")
            seen["first"] = wait_for(lambda: "running" in cstatus(p := pod(c, "myapp-pod"), 0, init=True)
                                     .get("state", {}) and p, timeout=30, what="init-myservice to run")
            wait_for(lambda: "waiting for myservice" in c.kubectl("logs", "myapp-pod", "-c", "init-myservice").stdout,
                     timeout=10, what="the init container's log")
            c.kubectl("exec", "myapp-pod", "-c", "init-myservice", "--", "touch", "/tmp/myservice")
            watch.wait_line(lambda l: "Init:1/2" in l, timeout=30, what="Init:1/2")
            seen["second"] = wait_for(lambda: "running" in cstatus(p := pod(c, "myapp-pod"), 1, init=True)
                                      .get("state", {}) and p, timeout=30, what="init-mydb to run")
            wait_for(lambda: c.kubectl("exec", "myapp-pod", "-c", "init-mydb", "--", "touch", "/tmp/mydb",
                                       check=False).returncode == 0, timeout=30, what="exec into init-mydb")
            watch.wait_line(lambda l: " Running " in l, timeout=30, what="Running")
            seen["lines"] = watch.drain()
        seen["final"] = pod(c, "myapp-pod")
        seen["describe"] = describe_lines(c, "myapp-pod")
        yield seen


def test_init_containers_run_in_order(cluster, myapp_run):
    """The documentation's myapp-pod: Init:0/2, Init:1/2, Running; Initialized False with
    the incomplete containers until both are Completed; each starts after the one before
    has finished; the app container waits with reason PodInitializing."""
    statuses = [columns(l)[2] for l in myapp_run["lines"] if not l.startswith("NAME")]
    order = [s for s in statuses if s in ("Init:0/2", "Init:1/2", "Running")]
    changes = [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s]
    assert changes == ["Init:0/2", "Init:1/2", "Running"], statuses
    assert set(statuses) <= {"Pending", "Init:0/2", "Init:1/2", "PodInitializing", "Running"}, statuses

    for step, incomplete in (("first", "[init-myservice init-mydb]"), ("second", "[init-mydb]")):
        p = myapp_run[step]
        assert p["status"]["phase"] == "Pending"
        init = condition(p, "Initialized")
        assert (init["status"], init["reason"], init["message"]) == \
            ("False", "ContainersNotInitialized", f"containers with incomplete status: {incomplete}")
        assert cstatus(p)["state"] == {"waiting": {"reason": "PodInitializing"}}
        assert not cstatus(p)["ready"]
    assert "running" in cstatus(myapp_run["second"], 1, init=True)["state"]
    assert cstatus(myapp_run["second"], 0, init=True)["state"]["terminated"]["reason"] == "Completed"

    p = myapp_run["final"]
    assert p["status"]["phase"] == "Running" and condition(p, "Initialized")["status"] == "True"
    myservice, mydb = (cstatus(p, i, init=True) for i in (0, 1))
    for st in (myservice, mydb):
        term = st["state"]["terminated"]
        assert (term["exitCode"], term["reason"], st["ready"], st["restartCount"]) == (0, "Completed", True, 0), st
    app = cstatus(p)
    assert app["ready"] and "running" in app["state"]
    assert ts(mydb["state"]["terminated"]["startedAt"]) >= ts(myservice["state"]["terminated"]["finishedAt"])
    assert ts(app["state"]["running"]["startedAt"]) >= ts(mydb["state"]["terminated"]["finishedAt"])
    lines = myapp_run["describe"]
    assert lines.index("Init Containers:") < lines.index("init-myservice:") < lines.index("init-mydb:") < \
        lines.index("Containers:")
    assert lines.count("Reason: Completed") == 2


def test_pod_initializing_shows_between_init_and_running(myapp_run):
    statuses = [columns(l)[2] for l in myapp_run["lines"] if not l.startswith("NAME")]
    assert "PodInitializing" in statuses[statuses.index("Init:1/2"):statuses.index("Running")], statuses


def test_init_container_not_started_yet_waits_with_pod_initializing(myapp_run):
    assert cstatus(myapp_run["first"], 1, init=True)["state"] == {"waiting": {"reason": "PodInitializing"}}


def test_failing_init_container_is_retried_or_fails_the_pod(cluster):
    """init-fails.yaml: the init container is restarted with the back-off
    (Init:CrashLoopBackOff), the app never starts; init-fails-never.yaml: one failure and
    the pod is Failed (Init:Error)."""
    c = cluster
    with applied(c, example("init-containers", "init-fails.yaml", "init-fails-never.yaml")):
        st = wait_for(lambda: (s := cstatus(pod(c, "init-fails"), init=True)).get("state", {}).get("waiting", {})
                      .get("reason") == "CrashLoopBackOff" and s, timeout=60, what="Init:CrashLoopBackOff")
        uid = pod(c, "init-fails")["metadata"]["uid"]
        assert st["state"]["waiting"]["message"] == \
            f"back-off {BACKOFF}s restarting failed container=migrate pod=init-fails_default({uid})"
        last = st["lastState"]["terminated"]
        assert (last["exitCode"], last["reason"]) == (1, "Error") and st["restartCount"] >= 1
        r = row(c, "init-fails")
        assert (r["READY"], r["STATUS"]) == ("0/1", "Init:CrashLoopBackOff"), r
        p = pod(c, "init-fails")
        assert p["status"]["phase"] == "Pending"
        assert cstatus(p)["state"] == {"waiting": {"reason": "PodInitializing"}} and "containerID" not in cstatus(p)
        backoff = f"Back-off restarting failed container migrate in pod init-fails_default({uid})"
        assert ("Warning", "BackOff", backoff) in events(c, "init-fails")
        assert c.kubectl("logs", "init-fails", "-c", "migrate").stdout == \
            "migrating the database\ncannot reach the database\n"

        p = wait_for(lambda: (p := pod(c, "init-fails-never"))["status"].get("phase") == "Failed" and p, timeout=60,
                     what="init-fails-never to fail")
        init = cstatus(p, init=True)
        assert (init["state"]["terminated"]["exitCode"], init["restartCount"]) == (1, 0)
        assert cstatus(p)["state"] == {"waiting": {"reason": "PodInitializing"}} and "containerID" not in cstatus(p)
        assert row(c, "init-fails-never")["STATUS"] == "Init:Error"


# ---- readiness gates ----------------------------------------------------------------------

GATE = "www.example.com/feature-1"


def set_gate(c, status):
    c.kubectl("patch", "pod", "gated", "--subresource=status", "-p",
              json.dumps({"status": {"conditions": [{"type": GATE, "status": status}]}}))


def test_readiness_gate_holds_ready_until_its_condition_is_true(cluster):
    c = cluster
    with applied(c, example("readiness-gates")):
        p = wait_for(lambda: condition(p := pod(c, "gated"), "ContainersReady").get("status") == "True" and p,
                     timeout=60, what="the container to be ready")
        ready = condition(p, "Ready")
        missing = f'corresponding condition of pod readiness gate "{GATE}" does not exist.'
        assert (ready["status"], ready["reason"], ready["message"]) == ("False", "ReadinessGatesNotReady", missing)
        r = row(c, "gated", "-o", "wide")
        assert (r["READY"], r["STATUS"], r["READINESS GATES"]) == ("1/1", "Running", "0/1"), r

        # The main resource ignores status; the status subresource takes it.
        c.kubectl("patch", "pod", "gated", "-p", json.dumps({"status": {"conditions": [{"type": GATE,
                                                                                        "status": "True"}]}}))
        assert condition(pod(c, "gated"), GATE) == {}
        set_gate(c, "True")
        p = wait_for(lambda: condition(p := pod(c, "gated"), "Ready").get("status") == "True" and p, timeout=10,
                     what="Ready once the gate is True")
        kinds = [cond["type"] for cond in p["status"]["conditions"]]
        assert sorted(kinds) == sorted(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                        "PodScheduled", GATE]), kinds
        assert row(c, "gated", "-o", "wide")["READINESS GATES"] == "1/1"
        lines = describe_lines(c, "gated")
        at = lines.index("Readiness Gates:")
        assert lines[at + 1:at + 3] == ["Type Status", f"{GATE} True"], lines[at:at + 4]

        set_gate(c, "False")
        p = wait_for(lambda: condition(p := pod(c, "gated"), "Ready").get("status") == "False" and p, timeout=10,
                     what="not Ready once the gate is False")
        ready = condition(p, "Ready")
        assert (ready["reason"], ready["message"]) == \
            ("ReadinessGatesNotReady", f'the status of pod readiness gate "{GATE}" is not "True", but False')
        r = row(c, "gated", "-o", "wide")
        assert (r["READY"], r["READINESS GATES"]) == ("1/1", "0/1"), r

        # A JSON patch on the status subresource works as well.
        index = [cond["type"] for cond in p["status"]["conditions"]].index(GATE)
        c.kubectl("patch", "pod", "gated", "--subresource=status", "--type=json", "-p",
                  json.dumps([{"op": "replace", "path": f"/status/conditions/{index}/status", "value": "True"}]))
        wait_for(lambda: condition(pod(c, "gated"), "Ready").get("status") == "True", timeout=10,
                 what="Ready after the JSON patch")


def test_kubelet_restores_its_conditions_after_a_merge_patch(cluster):
    c = cluster
    with applied(c, example("readiness-gates")):
        wait_for(lambda: condition(pod(c, "gated"), "ContainersReady").get("status") == "True", timeout=60,
                 what="the container to be ready")
        c.kubectl("patch", "pod", "gated", "--subresource=status", "--type=merge", "-p",
                  json.dumps({"status": {"conditions": [{"type": GATE, "status": "True"}]}}))
        p = wait_for(lambda: condition(p := pod(c, "gated"), "Ready").get("status") == "True" and p, timeout=20,
                     what="the kubelet to write Ready again")
        assert condition(p, "PodScheduled").get("status") == "True"


# ---- downward API -------------------------------------------------------------------------

def env_of(c, name):
    out = c.kubectl("exec", name, "--", "env").stdout
    return dict(line.split("=", 1) for line in out.splitlines() if line.startswith("MY_"))


def test_downward_api_environment(cluster):
    """The documentation's env exercise: fieldRef values from the pod, resourceFieldRef
    values with and without divisors, fixed when the container starts."""
    c = cluster
    with applied(c, example("downward-api", "env.yaml", "env-resources.yaml")):
        for name in ("dapi-envars-fieldref", "dapi-envars-resourcefieldref"):
            wait_for(lambda: "running" in cstatus(pod(c, name)).get("state", {}), timeout=60, what=f"{name} to run")
        p = pod(c, "dapi-envars-fieldref")
        env = env_of(c, "dapi-envars-fieldref")
        assert env == {
            "MY_NODE_NAME": c.node_name,
            "MY_POD_NAME": "dapi-envars-fieldref",
            "MY_POD_NAMESPACE": "default",
            "MY_POD_IP": p["status"]["podIP"],
            "MY_POD_SERVICE_ACCOUNT": "default",
            "MY_POD_UID": p["metadata"]["uid"],
            "MY_APP_LABEL": "dapi-demo",
            "MY_OWNER_ANNOTATION": "team-a",
            "MY_HOST_IP": p["status"]["hostIP"],
            "MY_HOST_IPS": ",".join(i["ip"] for i in p["status"]["hostIPs"]),
            "MY_POD_IPS": ",".join(i["ip"] for i in p["status"]["podIPs"]),
        }
        assert p["spec"]["nodeName"] == c.node_name
        # The loop prints them to the log too.
        wait_for(lambda: "MY_POD_NAME=dapi-envars-fieldref" in c.kubectl("logs", "dapi-envars-fieldref").stdout,
                 timeout=10, what="the log")
        assert env_of(c, "dapi-envars-resourcefieldref") == {
            "MY_CPU_REQUEST": "1", "MY_CPU_LIMIT": "1", "MY_MEM_REQUEST": "33554432", "MY_MEM_LIMIT": "67108864",
            "MY_CPU_LIMIT_MILLICORES": "250", "MY_MEM_LIMIT_MEBIBYTES": "64"}
        # Env is fixed at start: relabelling does not reach a running process.
        c.kubectl("label", "pod", "dapi-envars-fieldref", "app=relabelled", "--overwrite")
        assert env_of(c, "dapi-envars-fieldref")["MY_APP_LABEL"] == "dapi-demo"


VOLUME_POD = "kubernetes-downwardapi-volume-example"


@pytest.fixture(scope="module")
def volume_pods(cluster):
    c = cluster
    with applied(c, example("downward-api", "volume.yaml", "volume-resources.yaml")):
        for name in (VOLUME_POD, VOLUME_POD + "-2"):
            wait_for(lambda: "running" in cstatus(pod(c, name)).get("state", {}), timeout=60, what=f"{name} to run")
        yield


def cat(c, name, path):
    return c.kubectl("exec", name, "--", "cat", path).stdout


def test_downward_api_volume_files_follow_the_labels(cluster, volume_pods):
    """The documentation's volume exercise: labels and annotations as key="value" files,
    rewritten when the labels change (upstream within the kubelet's sync period: the wait
    allows that much); the files are symlinks into ..data; requests and limits with
    divisors as files."""
    c = cluster
    assert cat(c, VOLUME_POD, "/etc/podinfo/labels") == \
        'cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"'
    annotations = cat(c, VOLUME_POD, "/etc/podinfo/annotations").split("\n")
    assert 'build="two"' in annotations and 'builder="john-doe"' in annotations, annotations
    assert annotations == sorted(annotations)
    assert any(a.startswith("kubectl.kubernetes.io/last-applied-configuration=") for a in annotations)
    wait_for(lambda: 'rack="rack-22"' in c.kubectl("logs", VOLUME_POD).stdout, timeout=15, what="the log")

    c.kubectl("label", "pod", VOLUME_POD, "rack=rack-23", "--overwrite")
    wait_for(lambda: cat(c, VOLUME_POD, "/etc/podinfo/labels") ==
             'cluster="test-cluster1"\nrack="rack-23"\nzone="us-est-coast"', timeout=90, interval=0.5,
             what="the labels file to follow the label")
    wait_for(lambda: 'rack="rack-23"' in c.kubectl("logs", VOLUME_POD).stdout, timeout=15, what="the log to follow")
    links = c.kubectl("exec", VOLUME_POD, "--", "sh", "-c",
                      "readlink /etc/podinfo/labels; readlink /etc/podinfo/annotations").stdout
    assert links == "..data/labels\n..data/annotations\n"
    assert c.kubectl("exec", VOLUME_POD, "--", "readlink", "/etc/podinfo/..data").stdout.startswith("..")

    two = VOLUME_POD + "-2"
    got = {f: cat(c, two, f"/etc/podinfo/{f}") for f in ("cpu_limit", "cpu_request", "mem_limit", "mem_request")}
    assert got == {"cpu_limit": "250", "cpu_request": "125", "mem_limit": "64", "mem_request": "32"}
    wait_for(lambda: "250\n125\n64\n32" in c.kubectl("logs", two).stdout, timeout=15, what="the second pod's log")


def test_downward_api_volume_data_directory_is_timestamped(cluster, volume_pods):
    target = cluster.kubectl("exec", VOLUME_POD, "--", "readlink", "/etc/podinfo/..data").stdout.strip()
    assert re.fullmatch(r"\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+", target), target


# ---- QoS classes --------------------------------------------------------------------------

QOS = "qos-example"


def quantity_bytes(text):
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(text[:-len(suffix)]) * factor
    return int(text)


def burstable_oom_score_adj(c, request_bytes):
    """Upstream's policy.go: 1000 - 1000 × request / node memory, kept in 3…999."""
    capacity = quantity_bytes(c.get_json("node", c.node_name)["status"]["capacity"]["memory"])
    return min(max(1000 - (1000 * request_bytes) // capacity, 3), 999)


def cgroup_values(c, name, container=None):
    """(oom_score_adj, cpu shares, cpu quota, memory limit) of a container as it sees
    them, in cgroup v1 terms (read from the v2 files on a cgroup v2 machine)."""
    script = ("cat /proc/1/oom_score_adj; if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo v2; "
              "cat /sys/fs/cgroup/cpu.weight /sys/fs/cgroup/cpu.max /sys/fs/cgroup/memory.max; else echo v1; "
              "cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us "
              "/sys/fs/cgroup/memory/memory.limit_in_bytes; fi")
    args = ["exec", name, "-n", QOS] + (["-c", container] if container else []) + ["--", "sh", "-c", script]
    out = c.kubectl(*args).stdout.split("\n")
    adj, layout = int(out[0]), out[1]
    if layout == "v1":
        mem = int(out[4])
        return adj, int(out[2]), int(out[3]), None if mem >= 1 << 62 else mem
    weight, cpu_max, mem = int(out[2]), out[3].split(), out[4]
    # runc's conversion: weight = 1 + (shares - 2) × 9999 / 262142; invert for the small values here.
    shares = 2 if weight == 1 else round((weight - 1) * 262142 / 9999) + 2
    return adj, shares, -1 if cpu_max[0] == "max" else int(cpu_max[0]), None if mem == "max" else int(mem)


def test_qos_classes(cluster):
    """The documentation's four pods get Guaranteed, Burstable, BestEffort, Burstable;
    Burstable and BestEffort containers get their OOM score and cgroup settings."""
    c = cluster
    with applied(c, example("qos-classes")):
        want = {"qos-demo": "Guaranteed", "qos-demo-2": "Burstable", "qos-demo-3": "BestEffort",
                "qos-demo-4": "Burstable"}
        for name, qos in want.items():
            assert pod(c, name, QOS)["status"]["qosClass"] == qos, name
            assert f"QoS Class: {qos}" in describe_lines(c, name, QOS)
        out = c.kubectl("get", "pods", "-n", QOS, "-o",
                        "custom-columns=NAME:.metadata.name,QOS:.status.qosClass").stdout.splitlines()
        assert sorted(columns(l) for l in out[1:]) == sorted([n, q] for n, q in want.items())
        for name in ("qos-demo-2", "qos-demo-3", "qos-demo-4"):
            wait_for(lambda: condition(pod(c, name, QOS), "Ready").get("status") == "True", timeout=60,
                     what=f"{name} to be ready")
        mi = 1 << 20
        assert cgroup_values(c, "qos-demo-2") == (burstable_oom_score_adj(c, 100 * mi), 2, -1, 200 * mi)
        assert cgroup_values(c, "qos-demo-3") == (1000, 2, -1, None)
        assert cgroup_values(c, "qos-demo-4", "qos-demo-4-ctr-1") == (burstable_oom_score_adj(c, 200 * mi), 2, -1, None)
        # A Burstable pod's container without a request: 999, one less than BestEffort.
        assert cgroup_values(c, "qos-demo-4", "qos-demo-4-ctr-2") == (999, 2, -1, None)


def can_lower_oom_score_adj():
    """Whether this process (and so the kubes it starts) has CAP_SYS_RESOURCE."""
    with open("/proc/self/status") as f:
        caps = next(int(line.split()[1], 16) for line in f if line.startswith("CapEff:"))
    return bool(caps & (1 << 24))


def test_guaranteed_pod_runs_with_its_limits(cluster):
    """-997 as upstream; where kubes lacks CAP_SYS_RESOURCE (as on this machine) the kernel
    refuses any score below kubes' own, which the container then gets (as containerd's
    restrict_oom_score_adj does), instead of failing to start."""
    c = cluster
    with applied(c, example("qos-classes", "namespace.yaml", "qos-pod.yaml")):
        st = wait_for(lambda: (s := cstatus(pod(c, "qos-demo", QOS))) and
                      ("running" in s.get("state", {}) or s.get("restartCount", 0) > 0 or
                       "terminated" in s.get("state", {})) and s, timeout=60, what="qos-demo to run or fail")
        assert "running" in st["state"], st
        with open("/proc/self/oom_score_adj") as f:
            own = int(f.read())  # kubes inherits the test's score
        want = -997 if can_lower_oom_score_adj() else max(-997, own)
        assert cgroup_values(c, "qos-demo") == (want, 716, 70000, 200 << 20)


def pod_cgroup(c, name, controller):
    """The host directory of the pod's cgroup for a v1 controller (or the v2 tree)."""
    uid = pod(c, name, QOS)["metadata"]["uid"]
    root = "/sys/fs/cgroup" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else \
        os.path.join("/sys/fs/cgroup", controller)
    for dirpath, dirnames, _ in os.walk(root):
        if f"pod{uid}" in dirnames:
            return os.path.join(dirpath, f"pod{uid}")
    raise AssertionError(f"no cgroup pod{uid} under {root}")


def read(path):
    with open(path) as f:
        return f.read().strip()


def test_pod_cgroups_carry_the_pod_totals(cluster):
    c = cluster
    with applied(c, example("qos-classes", "namespace.yaml", "qos-pod-2.yaml", "qos-pod-3.yaml")):
        for name in ("qos-demo-2", "qos-demo-3"):
            wait_for(lambda: condition(pod(c, name, QOS), "Ready").get("status") == "True", timeout=60,
                     what=f"{name} to be ready")
        v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
        burstable_cpu, burstable_mem = pod_cgroup(c, "qos-demo-2", "cpu"), pod_cgroup(c, "qos-demo-2", "memory")
        besteffort_cpu = pod_cgroup(c, "qos-demo-3", "cpu")
        assert os.path.basename(os.path.dirname(burstable_cpu)) == "burstable", burstable_cpu
        assert os.path.basename(os.path.dirname(besteffort_cpu)) == "besteffort", besteffort_cpu
        if v2:
            assert read(os.path.join(besteffort_cpu, "cpu.weight")) == "1"
            assert read(os.path.join(burstable_mem, "memory.max")) == str(200 << 20)
        else:
            assert read(os.path.join(besteffort_cpu, "cpu.shares")) == "2"
            assert read(os.path.join(burstable_cpu, "cpu.shares")) == "2"
            assert read(os.path.join(burstable_mem, "memory.limit_in_bytes")) == str(200 << 20)


QUANTITIES = """
apiVersion: v1
kind: Pod
metadata: {name: same-quantities}
spec:
  containers:
  - name: app
    image: kubes-demo:1.0
    resources:
      limits: {cpu: "1", memory: 1Gi}
      requests: {cpu: 1000m, memory: "1073741824"}
---
apiVersion: v1
kind: Pod
metadata: {name: zero-request}
spec:
  containers:
  - name: app
    image: kubes-demo:1.0
    resources:
      requests: {cpu: "0"}
"""


def test_qos_class_compares_quantities(cluster):
    """As upstream's GetPodQOS: quantities compared by value (1 = 1000m), zero ones ignored."""
    out = cluster.kubectl("create", "--dry-run=server", "-o", "json", "-f", "-", input=QUANTITIES).stdout
    # One JSON document per object.
    decoder, items, at = json.JSONDecoder(), [], 0
    while out[at:].strip():
        item, end = decoder.raw_decode(out[at:].lstrip())
        at += len(out[at:]) - len(out[at:].lstrip()) + end
        items.append(item)
    got = {item["metadata"]["name"]: item["status"]["qosClass"] for item in items}
    assert got == {"same-quantities": "Guaranteed", "zero-request": "BestEffort"}
