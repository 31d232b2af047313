"""Pod priority and preemption (examples/workloads/preemption/): PriorityClasses through
admission, a high-priority pod that evicts a low-priority one (DisruptionTarget
PreemptionByScheduler, the Preempted event, status.nominatedNodeName, the preemptor
Running and the victim's replacement Pending), and pods that must not preempt:
preemptionPolicy Never and equal priority.

The node's cpu is real (its allocatable is the machine's cores), so the fillers'
requests are computed from what the node has left: three fillers take all of it, and
the preemptor asks for as much as one filler."""
import json
import os

import pytest

from conftest import EXAMPLES, start_node_cluster, stop_node_cluster, wait_for

DIR = os.path.join(EXAMPLES, "workloads", "preemption")
FILLERS = 3


@pytest.fixture(scope="module")
def c(starter_images):
    cluster = start_node_cluster(starter_images, archives=("busybox.tar",))
    try:
        yield cluster
    finally:
        stop_node_cluster(cluster)


def millicores(q):
    q = str(q)
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def free_millicores(c):
    """The node's allocatable cpu minus the requests of the pods that count there."""
    node = c.get_json("node", c.node_name)
    free = millicores(node["status"]["allocatable"]["cpu"])
    for p in c.get_json("pods", "-A", "--field-selector", f"spec.nodeName={c.node_name}")["items"]:
        if p["status"].get("phase") in ("Succeeded", "Failed"):
            continue
        for ctr in p["spec"]["containers"]:
            free -= millicores(ctr.get("resources", {}).get("requests", {}).get("cpu", "0"))
    return free


def manifest(name, cpu):
    with open(os.path.join(DIR, name)) as f:
        return f.read().replace("cpu: 600m", f"cpu: {cpu}m")


def pods(c, selector):
    return c.get_json("pods", "-l", selector)["items"]


def condition(pod, kind):
    return next((x for x in pod["status"].get("conditions", []) if x["type"] == kind), None)


def events(c, name, reason):
    return c.get_json("events", "--field-selector", f"involvedObject.name={name},reason={reason}")["items"]


@pytest.fixture
def filled(c):
    """The PriorityClasses and three low-priority fillers that take the node's free cpu;
    yields each filler's request in millicores. Removes them all afterwards."""
    c.kubectl("apply", "-f", os.path.join(DIR, "priorityclasses.yaml"))
    per_pod = free_millicores(c) // FILLERS
    assert per_pod >= 100, "the node has too little cpu left for this test"
    c.kubectl("apply", "-f", "-", input=manifest("filler.yaml", per_pod))
    try:
        wait_for(lambda: len([p for p in pods(c, "app=filler") if p["status"].get("phase") == "Running"]) == FILLERS,
                 timeout=90, what="three running fillers")
        yield per_pod
    finally:
        c.kubectl("delete", "pod", "important", "polite", "peer", "--ignore-not-found", "--wait=false")
        c.kubectl("delete", "deployment", "filler", "--ignore-not-found")
        wait_for(lambda: not pods(c, "app=filler") and not c.get_json("pods")["items"], timeout=90,
                 what="the test's pods to be gone")


def no_filler_disturbed(c):
    for p in pods(c, "app=filler"):
        assert not p["metadata"].get("deletionTimestamp"), p["metadata"]["name"]
        assert condition(p, "DisruptionTarget") is None


def test_priority_class_sets_spec_priority(c):
    c.kubectl("create", "priorityclass", "e2e-high", "--value=1000", "--description=e2e")
    try:
        c.kubectl("run", "prio", "--image=busybox:1.36", "--overrides",
                  json.dumps({"spec": {"priorityClassName": "e2e-high"}}), "--", "sleep", "3600")
        spec = c.get_json("pod", "prio")["spec"]
        assert (spec["priority"], spec["preemptionPolicy"]) == (1000, "PreemptLowerPriority")
        r = c.kubectl("run", "nope", "--image=busybox:1.36", "--overrides",
                      json.dumps({"spec": {"priorityClassName": "no-such-class"}}), check=False)
        assert r.returncode != 0
        assert "no PriorityClass with name no-such-class was found" in r.stderr
        # Users choose a class, not a number: a differing spec.priority is refused.
        r = c.kubectl("run", "nope", "--image=busybox:1.36", "--overrides",
                      json.dumps({"spec": {"priorityClassName": "e2e-high", "priority": 5}}), check=False)
        assert r.returncode != 0
        assert ("the integer value of priority (5) must not be provided in pod spec; priority admission "
                "controller computed 1000 from the given PriorityClass name") in r.stderr
    finally:
        c.kubectl("delete", "pod", "prio", "--ignore-not-found", "--grace-period=0", "--force")
        c.kubectl("delete", "priorityclass", "e2e-high", "--ignore-not-found")


def test_preemption_policy_never_does_not_preempt(c, filled):
    c.kubectl("apply", "-f", "-", input=manifest("polite.yaml", filled))
    assert c.get_json("pod", "polite")["spec"]["preemptionPolicy"] == "Never"
    want = "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
    wait_for(lambda: any(e["message"] == want for e in events(c, "polite", "FailedScheduling")),
             what="FailedScheduling saying polite may not preempt")
    pod = c.get_json("pod", "polite")
    assert condition(pod, "PodScheduled")["message"] == want
    assert not pod["status"].get("nominatedNodeName")
    no_filler_disturbed(c)


def test_equal_priority_does_not_preempt(c, filled):
    peer = manifest("important.yaml", filled).replace("name: important", "name: peer") \
        .replace("priorityClassName: high-priority", "priorityClassName: low-priority")
    c.kubectl("apply", "-f", "-", input=peer)
    want = ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod.")
    wait_for(lambda: any(e["message"] == want for e in events(c, "peer", "FailedScheduling")),
             what="FailedScheduling saying there are no victims")
    assert not c.get_json("pod", "peer")["status"].get("nominatedNodeName")
    no_filler_disturbed(c)


def test_high_priority_pod_preempts_a_low_priority_one(c, filled):
    fillers = {p["metadata"]["name"] for p in pods(c, "app=filler")}
    c.kubectl("apply", "-f", "-", input=manifest("important.yaml", filled))
    important = c.get_json("pod", "important")
    assert important["spec"]["priority"] == 1000000

    # One filler is marked, then deleted with its grace period.
    def marked():
        for p in pods(c, "app=filler"):
            target = condition(p, "DisruptionTarget")
            if target:
                return p, target
    victim, target = wait_for(marked, what="a filler with DisruptionTarget")
    assert (target["status"], target["reason"], target["message"]) == \
        ("True", "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod")
    assert victim["metadata"]["name"] in fillers
    wait_for(lambda: c.get_json("pod", "important")["status"].get("nominatedNodeName") == c.node_name,
             what="the preemptor nominated to the node")

    name = victim["metadata"]["name"]
    ev = wait_for(lambda: events(c, name, "Preempted"), what="the Preempted event")[0]
    assert (ev["type"], ev["message"]) == \
        ("Normal", f"Preempted by pod {important['metadata']['uid']} on node {c.node_name}")
    first = wait_for(lambda: events(c, "important", "FailedScheduling"), what="the preemptor's FailedScheduling")
    assert "0/1 nodes are available: 1 Insufficient cpu." in [e["message"] for e in first]

    # The victim goes, the preemptor runs where it was.
    wait_for(lambda: c.kubectl("get", "pod", name, check=False).returncode != 0, timeout=60,
             what="the victim to be gone")
    wait_for(lambda: c.get_json("pod", "important")["status"].get("phase") == "Running", timeout=60,
             what="the preemptor to run")
    assert c.get_json("pod", "important")["spec"]["nodeName"] == c.node_name
    assert events(c, "important", "Scheduled")

    # The Deployment replaces its pod, which finds no room and no one to evict.
    def replacement():
        for p in pods(c, "app=filler"):
            if p["metadata"]["name"] not in fillers:
                return p
    new = wait_for(replacement, what="the filler's replacement")["metadata"]["name"]
    want = ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod.")
    wait_for(lambda: any(e["message"] == want for e in events(c, new, "FailedScheduling")),
             what="the replacement's FailedScheduling")
    assert c.get_json("pod", new)["status"].get("phase") == "Pending"
    assert len([p for p in pods(c, "app=filler") if p["status"].get("phase") == "Running"]) == FILLERS - 1
