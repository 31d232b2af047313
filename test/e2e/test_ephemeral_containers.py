"""Ephemeral containers, the API side (issue 4): `kubectl debug` adds one through the
pods/ephemeralcontainers subresource; a plain pod update cannot; what the docs say an
ephemeral container may not have is refused with upstream's field errors. (Running them
on a node is tested with the node's tests.)"""
import json

import pytest

POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
    "spec": {"containers": [{"name": "app", "image": "nginx"}]},
}
PATH = "/api/v1/namespaces/default/pods/app/ephemeralcontainers"


@pytest.fixture(autouse=True)
def app_pod(cluster):
    cluster.kubectl("apply", "-f", "-", input=json.dumps(POD))
    yield
    cluster.kubectl("delete", "pod", "app", "--ignore-not-found", "--grace-period=0", "--force")
    # A pod without a node goes at once.
    cluster.kubectl("wait", "--for=delete", "pod/app", "--timeout=20s", check=False)


def ephemeral(cluster):
    return cluster.get_json("pod", "app")["spec"].get("ephemeralContainers", [])


def patch(cluster, containers):
    body = json.dumps({"spec": {"ephemeralContainers": containers}}).encode()
    return cluster.raw_request("PATCH", PATH, body, "application/strategic-merge-patch+json")


def test_kubectl_debug_adds_an_ephemeral_container(cluster):
    r = cluster.kubectl("debug", "app", "--image=busybox", "--target=app", "-c", "debugger", "--", "sleep", "1d")
    assert r.returncode == 0, r.stderr
    [e] = ephemeral(cluster)
    assert e["name"] == "debugger" and e["image"] == "busybox" and e["targetContainerName"] == "app"
    assert e["command"] == ["sleep", "1d"]
    assert e["terminationMessagePolicy"] == "File"  # defaulted like any container
    # The subresource reads as the Pod.
    status, got = cluster.raw_request("GET", PATH)
    assert status == 200 and got["kind"] == "Pod" and got["spec"]["ephemeralContainers"][0]["name"] == "debugger"
    # A second one, named by kubectl, comes after it.
    cluster.kubectl("debug", "app", "--image=busybox")
    names = [e["name"] for e in ephemeral(cluster)]
    assert names[0] == "debugger" and names[1].startswith("debugger-") and len(names) == 2, names


def test_plain_update_keeps_ephemeral_containers(cluster):
    cluster.kubectl("debug", "app", "--image=busybox", "-c", "debugger")
    pod = cluster.get_json("pod", "app")
    pod["spec"]["ephemeralContainers"] = []
    pod["metadata"]["labels"] = {"changed": "yes"}
    cluster.kubectl("replace", "-f", "-", input=json.dumps(pod))
    pod = cluster.get_json("pod", "app")
    assert pod["metadata"]["labels"] == {"changed": "yes"}
    assert [e["name"] for e in pod["spec"]["ephemeralContainers"]] == ["debugger"]


def test_what_an_ephemeral_container_may_not_have(cluster):
    status, body = patch(cluster, [{"name": "dbg", "image": "busybox", "ports": [{"containerPort": 80}],
                                    "readinessProbe": {"exec": {"command": ["true"]}},
                                    "resources": {"limits": {"cpu": "1"}}, "targetContainerName": "nope"}])
    assert status == 422, body
    causes = {(c["field"], c["message"]) for c in body["details"]["causes"]}
    assert ("spec.ephemeralContainers[0].ports", "Forbidden: cannot be set for an Ephemeral Container") in causes
    assert ("spec.ephemeralContainers[0].readinessProbe",
            "Forbidden: cannot be set for an Ephemeral Container") in causes
    assert ("spec.ephemeralContainers[0].resources", "Forbidden: cannot be set for an Ephemeral Container") in causes
    assert ("spec.ephemeralContainers[0].targetContainerName", 'Not found: "nope"') in causes
    assert ephemeral(cluster) == []  # nothing half-written
    # A name taken by an app container is a duplicate too.
    status, body = patch(cluster, [{"name": "app", "image": "busybox"}])
    assert status == 422 and 'Duplicate value: "app"' in body["message"], body


def test_existing_ephemeral_containers_do_not_change(cluster):
    cluster.kubectl("debug", "app", "--image=busybox", "-c", "debugger")
    status, body = cluster.raw_request("PUT", PATH, json.dumps(dict(
        cluster.get_json("pod", "app"), spec=dict(cluster.get_json("pod", "app")["spec"], ephemeralContainers=[
            {"name": "debugger", "image": "busybox:other"}]))).encode())
    assert status == 422, body
    assert 'existing ephemeral containers \\"debugger\\" may not be changed' in json.dumps(body), body


def test_not_on_create(cluster):
    pod = json.loads(json.dumps(POD))
    pod["metadata"]["name"] = "born-with-one"
    pod["spec"]["ephemeralContainers"] = [{"name": "dbg", "image": "busybox"}]
    r = cluster.kubectl("create", "-f", "-", input=json.dumps(pod), check=False)
    assert r.returncode != 0
    assert "spec.ephemeralContainers: Forbidden: cannot be set on create" in r.stderr, r.stderr
