"""The official Python client (Debian python3-kubernetes) against kubes
(examples/api/python-client/)."""
import json
import subprocess
import sys
import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from conftest import example

NS = "python-demo"


@pytest.fixture(scope="module")
def api(cluster):
    return cluster.python_client()


@pytest.fixture(scope="module")
def core(api):
    return client.CoreV1Api(api)


@pytest.fixture(scope="module", autouse=True)
def namespace(cluster):
    cluster.create_namespace(NS)


def test_example_script(cluster):
    r = subprocess.run([sys.executable, example("python-client", "configmap_lifecycle.py"), "python-script"],
                       env=cluster.env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("namespaces: ") and "default" in lines[0].split()
    events = [line.split(" ", 3) for line in lines[1:]]
    assert [(e[0], e[1]) for e in events] == [("ADDED", "demo"), ("MODIFIED", "demo"), ("DELETED", "demo")]
    assert events[0][3] == "{'greeting': 'hello'}"
    assert events[1][3] == "{'greeting': 'hi'}"
    rvs = [e[2] for e in events]
    assert len(set(rvs)) == 3


def test_list_namespaces(core):
    names = [n.metadata.name for n in core.list_namespace().items]
    assert {"default", "kube-system", "kube-public", "kube-node-lease", NS} <= set(names)
    ns = core.read_namespace(NS)
    assert ns.status.phase == "Active"
    assert ns.metadata.creation_timestamp is not None  # parsed as a datetime


def test_configmap_create_patch_delete(core):
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm1", labels={"app": "py"}), data={"a": "1"})
    created = core.create_namespaced_config_map(NS, body)
    assert created.metadata.uid and created.metadata.resource_version
    assert created.data == {"a": "1"}

    patched = core.patch_namespaced_config_map("cm1", NS, {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}
    assert patched.metadata.resource_version != created.metadata.resource_version

    listed = core.list_namespaced_config_map(NS, label_selector="app=py")
    assert [c.metadata.name for c in listed.items] == ["cm1"]

    status = core.delete_namespaced_config_map("cm1", NS)
    assert status.kind in ("Status", "ConfigMap")
    with pytest.raises(ApiException) as e:
        core.read_namespaced_config_map("cm1", NS)
    assert e.value.status == 404
    assert json.loads(e.value.body)["message"] == 'configmaps "cm1" not found'


def test_conflict_and_already_exists(core):
    core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm2")))
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm2")))
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "AlreadyExists"
    old = core.read_namespaced_config_map("cm2", NS)
    core.patch_namespaced_config_map("cm2", NS, {"metadata": {"labels": {"x": "y"}}})
    old.data = {"late": "yes"}
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_config_map("cm2", NS, old)
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "Conflict"


def test_watch_configmaps(core):
    start = core.list_namespaced_config_map(NS).metadata.resource_version

    def changes():
        core.create_namespaced_config_map(NS, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="watched"), data={"v": "1"}))
        core.patch_namespaced_config_map("watched", NS, {"data": {"v": "2"}})
        core.delete_namespaced_config_map("watched", NS)

    t = threading.Thread(target=changes)
    t.start()
    seen = []
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, NS, resource_version=start,
                       field_selector="metadata.name=watched", timeout_seconds=20, _request_timeout=30):
        seen.append((ev["type"], ev["object"].metadata.name, (ev["object"].data or {}).get("v")))
        if ev["type"] == "DELETED":
            w.stop()
    t.join()
    assert seen == [("ADDED", "watched", "1"), ("MODIFIED", "watched", "2"), ("DELETED", "watched", "2")]


def test_watch_times_out_quietly(core):
    """A watch with timeout_seconds and no changes waits that long, then ends without events
    or errors."""
    start = core.list_namespaced_config_map(NS).metadata.resource_version
    began = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, NS, resource_version=start,
                                       field_selector="metadata.name=never", timeout_seconds=2,
                                       _request_timeout=30))
    assert events == []
    assert 1.5 <= time.monotonic() - began < 20


def test_apps_api_and_scale(api):
    apps = client.AppsV1Api(api)
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.25")]))))
    created = apps.create_namespaced_deployment(NS, dep)
    assert created.spec.strategy.type == "RollingUpdate"
    scale = apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3
    assert apps.read_namespaced_deployment("web", NS).spec.replicas == 3
    assert apps.read_namespaced_deployment_scale("web", NS).status.selector == "app=web"


def test_dynamic_client(api):
    from kubernetes import dynamic
    dyn = dynamic.DynamicClient(api)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    cms.create(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn"}, "data": {"k": "v"}},
               namespace=NS)
    assert cms.get(name="dyn", namespace=NS).data.k == "v"
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced is True
