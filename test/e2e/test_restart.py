"""kill -9 of the server in the middle of a module: everything written before is there
afterwards, with the same uids and resourceVersions, and new writes continue after them."""
import json

import pytest

from conftest import example
from test_apply import ALL_KINDS, ALWAYS_CONFIGURED, CLUSTER_SCOPED


def snapshot(cluster):
    """uid, resourceVersion and content of every object from examples/api/all-kinds."""
    out = {}
    for name in ALL_KINDS:
        resource, obj_name = name.split("/")
        ns_args = [] if resource in CLUSTER_SCOPED else ["-n", "all-kinds"]
        obj = cluster.get_json(resource, obj_name, *ns_args)
        out[name] = obj
    return out


@pytest.fixture(scope="module")
def before(cluster):
    cluster.kubectl("apply", "-f", example("all-kinds"))
    cluster.kubectl("-n", "all-kinds", "create", "configmap", "counter", "--from-literal=n=0")
    for n in range(1, 6):
        cluster.kubectl("-n", "all-kinds", "patch", "cm", "counter", "--type=merge", "-p", f'{{"data":{{"n":"{n}"}}}}')
    cluster.kubectl("-n", "all-kinds", "create", "configmap", "doomed")
    cluster.kubectl("-n", "all-kinds", "delete", "configmap", "doomed")
    cluster.kubectl("-n", "all-kinds", "scale", "deploy", "web", "--replicas=4")
    snap = snapshot(cluster)
    counter = cluster.get_json("-n", "all-kinds", "cm", "counter")
    cm_list_rv = json.loads(cluster.kubectl("get", "--raw", "/api/v1/configmaps").stdout)["metadata"]["resourceVersion"]
    cluster.kill9_and_restart()
    return {"snap": snap, "counter": counter, "cm_list_rv": cm_list_rv}


# Objects whose status a controller keeps writing (also right after the restart, when the
# controllers look at everything again): their spec survives, their status may move on.
CONTROLLED = ("deployment.", "replicaset.", "statefulset.", "daemonset.", "job.", "cronjob.",
              "horizontalpodautoscaler.", "poddisruptionbudget.", "pod/", "persistentvolume",
              "namespace/", "serviceaccount/")


def test_objects_survive_with_same_uid_and_resource_version(cluster, before):
    after = snapshot(cluster)
    for name, old in before["snap"].items():
        new = after[name]
        assert new["metadata"]["uid"] == old["metadata"]["uid"], name
        assert new["metadata"]["creationTimestamp"] == old["metadata"]["creationTimestamp"], name
        if name.startswith(CONTROLLED):
            assert int(new["metadata"]["resourceVersion"]) >= int(old["metadata"]["resourceVersion"]), name
            assert new.get("spec") == old.get("spec"), name
            continue
        assert new["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"], name
        assert new == old, name


def test_last_update_and_delete_survive(cluster, before):
    counter = cluster.get_json("-n", "all-kinds", "cm", "counter")
    assert counter["data"] == {"n": "5"}
    assert counter["metadata"]["resourceVersion"] == before["counter"]["metadata"]["resourceVersion"]
    r = cluster.kubectl("-n", "all-kinds", "get", "cm", "doomed", check=False)
    assert 'configmaps "doomed" not found' in r.stderr
    d = cluster.get_json("-n", "all-kinds", "deploy", "web")
    assert d["spec"]["replicas"] == 4
    assert d["metadata"]["generation"] == before["snap"]["deployment.apps/web"]["metadata"]["generation"]


def test_reapply_is_unchanged(cluster, before):
    out = cluster.kubectl("apply", "-f", example("all-kinds")).stdout.splitlines()
    # replicas: the file says 2, the scale above said 4, so the deployment is configured.
    expected = [f"{n} {'configured' if n in ALWAYS_CONFIGURED | {'deployment.apps/web'} else 'unchanged'}"
                for n in ALL_KINDS]
    assert out == expected


def test_new_writes_continue_after_old_resource_versions(cluster, before):
    old_rvs = {o["metadata"]["resourceVersion"] for o in before["snap"].values()}
    # A watch from the list resourceVersion taken before the crash sees a change made after it.
    path = (f"/api/v1/namespaces/all-kinds/configmaps?watch=true&resourceVersion={before['cm_list_rv']}"
            f"&fieldSelector=metadata.name%3Dcounter&timeoutSeconds=30")
    with cluster.kubectl_stream("get", "--raw", path) as w:
        cluster.kubectl("-n", "all-kinds", "patch", "cm", "counter", "--type=merge", "-p", '{"data":{"n":"6"}}')
        ev = json.loads(w.wait_line(lambda l: '"n":"6"' in l, what="the post-restart change"))
    assert ev["type"] == "MODIFIED"
    new_rv = ev["object"]["metadata"]["resourceVersion"]
    assert new_rv not in old_rvs
    assert new_rv != before["counter"]["metadata"]["resourceVersion"]
    # The server's list resourceVersion moved on too.
    lst = json.loads(cluster.kubectl("get", "--raw", "/api/v1/configmaps").stdout)
    assert lst["metadata"]["resourceVersion"] not in (before["cm_list_rv"],)


def test_second_kill_keeps_post_restart_writes(cluster, before):
    cluster.kubectl("-n", "all-kinds", "create", "configmap", "after-restart", "--from-literal=k=v")
    rv = cluster.get_json("-n", "all-kinds", "cm", "after-restart")["metadata"]["resourceVersion"]
    cluster.kill9_and_restart()
    cm = cluster.get_json("-n", "all-kinds", "cm", "after-restart")
    assert cm["data"] == {"k": "v"} and cm["metadata"]["resourceVersion"] == rv
