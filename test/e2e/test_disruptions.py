"""Disruptions (issue 5): PodDisruptionBudget status from the disruption controller, the
eviction API honouring it, and `kubectl drain` blocked by a budget and then allowed
(examples/workloads/disruptions/)."""
import json
import os

from conftest import EXAMPLES, wait_for

WEB = os.path.join(EXAMPLES, "workloads", "disruptions", "web.yaml")


def pdb_status(c):
    return c.get_json("pdb", "web-pdb").get("status", {})


def ready_pods(c):
    pods = c.get_json("pods", "-l", "app=web")["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")
            and any(x["type"] == "Ready" and x["status"] == "True" for x in p["status"].get("conditions", []))]


def evict(c, name):
    """POSTs an Eviction for the pod; returns (HTTP status, body)."""
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                       "metadata": {"name": name, "namespace": "default"}}).encode()
    return c.raw_request("POST", f"/api/v1/namespaces/default/pods/{name}/eviction", body)


def test_budget_blocks_eviction_and_drain_until_relaxed(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", WEB)
    c.kubectl("rollout", "status", "deployment/web", "--timeout=120s", timeout=130)
    wait_for(lambda: pdb_status(c).get("currentHealthy") == 2, what="the budget to count 2 healthy pods")
    st = pdb_status(c)
    assert (st["expectedPods"], st["desiredHealthy"], st["disruptionsAllowed"]) == (2, 2, 0)
    cond = {x["type"]: x for x in st["conditions"]}["DisruptionAllowed"]
    assert (cond["status"], cond["reason"]) == ("False", "InsufficientPods")
    row = c.kubectl("get", "pdb", "web-pdb").stdout.splitlines()
    assert row[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert row[1].split()[:4] == ["web-pdb", "2", "N/A", "0"]

    # The eviction API says 429 with the budget's numbers, and nothing is deleted.
    victim = ready_pods(c)[0]["metadata"]["name"]
    code, body = evict(c, victim)
    assert code == 429, body
    assert body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"] == [{"reason": "DisruptionBudget",
                                          "message": "The disruption budget web-pdb needs 2 healthy pods and has 2 currently"}]
    assert len(ready_pods(c)) == 2

    node = c.node_name
    try:
        r = c.kubectl("drain", node, "--timeout=12s", check=False, timeout=40)
        assert r.returncode != 0
        assert f"node/{node} cordoned" in r.stdout
        assert "Cannot evict pod as it would violate the pod's disruption budget." in r.stderr
        assert c.get_json("node", node)["spec"].get("unschedulable") is True
        assert len(ready_pods(c)) == 2

        # One disruption allowed: one pod goes (with DisruptionTarget), and its
        # replacement cannot start on the cordoned node.
        c.kubectl("patch", "pdb", "web-pdb", "--type", "merge", "-p", '{"spec":{"minAvailable":1}}')
        wait_for(lambda: pdb_status(c).get("disruptionsAllowed") == 1, what="one disruption allowed")
        code, body = evict(c, victim)
        assert code == 201, body
        assert body["status"] == "Success"
        p = c.get_json("pod", victim)
        assert p["metadata"].get("deletionTimestamp")
        target = {x["type"]: x for x in p["status"]["conditions"]}["DisruptionTarget"]
        assert (target["status"], target["reason"], target["message"]) == \
            ("True", "EvictionByEvictionAPI", "Eviction API: evicting")
        st = pdb_status(c)
        assert victim in st.get("disruptedPods", {}) or st["currentHealthy"] == 1

        # No budget left: drain finishes once the budget allows everything.
        c.kubectl("patch", "pdb", "web-pdb", "--type", "merge", "-p", '{"spec":{"minAvailable":0}}')
        r = c.kubectl("drain", node, "--timeout=90s", timeout=120)
        assert f"node/{node} drained" in r.stdout
        assert not ready_pods(c)
    finally:
        c.kubectl("uncordon", node, check=False)
    c.kubectl("rollout", "status", "deployment/web", "--timeout=120s", timeout=130)
    c.kubectl("delete", "-f", WEB)


def test_pods_without_a_budget_are_evicted_at_once(node_cluster):
    c = node_cluster
    c.kubectl("run", "loner", "--image=busybox:1.36", "--", "sleep", "3600")
    c.kubectl("wait", "--for=condition=Ready", "pod/loner", "--timeout=60s", timeout=70)
    code, body = evict(c, "loner")
    assert code == 201, body
    wait_for(lambda: c.kubectl("get", "pod", "loner", check=False).returncode != 0, timeout=60,
             what="the evicted pod to be gone")
    code, body = evict(c, "loner")
    assert code == 404 and body["reason"] == "NotFound"
