"""Node-pressure eviction (issue 4, QoS): examples/pods/node-pressure-eviction/ on a node
whose pods get 700 MiB (--system-reserved). The BestEffort pod that allocates past the
100Mi threshold is evicted with upstream's reason, message and condition; the node reports
MemoryPressure and its taint meanwhile; the other pods keep running."""
import json
import os

import pytest

from conftest import EXAMPLES, node_flags, start_node_cluster, stop_node_cluster, wait_for

MANIFEST = os.path.join(EXAMPLES, "pods", "node-pressure-eviction", "pods.yaml")
MI = 1 << 20


@pytest.fixture(scope="module")
def pressure_cluster(starter_images):
    assert os.path.exists(os.path.join(starter_images, "kubes-demo.tar"))
    total = next(int(line.split()[1]) * 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal:"))
    flags = node_flags() + ["--system-reserved", f"memory={total - 700 * MI}"]
    c = start_node_cluster(starter_images, archives=("busybox.tar", "kubes-demo.tar"), flags=flags)
    try:
        yield c
    finally:
        stop_node_cluster(c)


def test_besteffort_pod_is_evicted_first(pressure_cluster):
    c = pressure_cluster
    node = c.get_json("node", c.node_name)
    # Allocatable leaves out the reservation and the 100Mi threshold.
    allocatable = node["status"]["allocatable"]["memory"]
    assert allocatable.endswith("Ki") and int(allocatable[:-2]) * 1024 == 600 * MI, allocatable
    c.kubectl("apply", "-f", MANIFEST)
    r = c.kubectl("wait", "--for=condition=Ready", "pod", "--all", "--timeout=90s", timeout=100, check=False)
    assert r.returncode == 0, c.kubectl("describe", "pods").stdout + c.kubectl("get", "events").stdout
    qos = {p["metadata"]["name"]: p["status"]["qosClass"] for p in c.get_json("pods")["items"]}
    assert qos == {"hog": "BestEffort", "burstable": "Burstable", "guaranteed": "Guaranteed", "client": "Burstable"}

    def pressure_seen():
        n = c.get_json("node", c.node_name)
        cond = {x["type"]: x for x in n["status"]["conditions"]}["MemoryPressure"]
        if cond["status"] == "True":
            assert cond["reason"] == "KubeletHasInsufficientMemory"
        return c.get_json("pod", "hog")["status"].get("reason") == "Evicted"

    ip = c.get_json("pod", "hog")["status"]["podIP"]
    r = c.kubectl("exec", "client", "--", "wget", "-qO-", f"http://{ip}:8080/mem?mb=650", check=False, timeout=60)
    assert r.returncode == 0 or "Evicted" in json.dumps(c.get_json("pod", "hog")["status"]), r.stderr
    # The kubelet looks every 5 s; the memory is taken within a second or two.
    wait_for(pressure_seen, timeout=40, interval=0.5, what="the hog to be evicted")
    hog = c.get_json("pod", "hog")["status"]
    assert hog["phase"] == "Failed"
    assert hog["message"].startswith("The node was low on resource: memory. Threshold quantity: 100Mi, available: ")
    assert "Container hog was using " in hog["message"] and ", request is 0, has larger consumption of memory." \
        in hog["message"], hog["message"]
    target = [x for x in hog["conditions"] if x["type"] == "DisruptionTarget"]
    assert target and target[0]["status"] == "True" and target[0]["reason"] == "TerminationByKubelet"
    row = c.kubectl("get", "pod", "hog", "--no-headers").stdout.split()
    assert row[2] == "Evicted", row
    events = c.get_json("events", "--field-selector", "involvedObject.name=hog,reason=Evicted")["items"]
    assert events and events[0]["type"] == "Warning"
    node_events = c.get_json("events", "--field-selector", "reason=EvictionThresholdMet")["items"]
    assert node_events and node_events[0]["message"] == "Attempting to reclaim memory"
    # The memory is back: the condition and the taint go; the others never stopped.
    wait_for(lambda: {x["type"]: x["status"] for x in c.get_json("node", c.node_name)["status"]["conditions"]}
             ["MemoryPressure"] == "False", timeout=40, what="MemoryPressure to end")
    wait_for(lambda: not any(t["key"] == "node.kubernetes.io/memory-pressure"
                             for t in c.get_json("node", c.node_name)["spec"].get("taints", [])),
             timeout=30, what="the memory-pressure taint to go")
    for name in ("burstable", "guaranteed", "client"):
        st = c.get_json("pod", name)["status"]
        assert st["phase"] == "Running" and st["containerStatuses"][0]["restartCount"] == 0, (name, st)
    c.kubectl("delete", "-f", MANIFEST, "--grace-period=1", timeout=90)
