"""The first things a new user does: look around, create a namespace and objects."""
import json

from conftest import EXAMPLES, wait_for


def test_cluster_info_and_version(cluster):
    out = cluster.kubectl("cluster-info").stdout
    assert "Kubernetes control plane is running at https://127.0.0.1:" in out
    v = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    assert v["serverVersion"]["gitVersion"].startswith("v1.32.")


def test_default_namespaces_exist(cluster):
    names = cluster.kubectl("get", "ns", "-o", "name").stdout.split()
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert f"namespace/{ns}" in names


def test_api_resources_lists_short_names(cluster):
    out = cluster.kubectl("api-resources").stdout
    # Names repeat across groups (metrics.k8s.io has "pods" too): key by name and group.
    lines = {(line.split()[0], line.split()[-3]): line for line in out.splitlines()[1:]}
    assert " po " in lines[("pods", "v1")] + " "
    assert "deploy" in lines[("deployments", "apps/v1")]
    assert ("pods", "metrics.k8s.io/v1beta1") in lines  # metrics-server's PodMetrics


def test_hello_example_applies_twice(cluster):
    first = cluster.kubectl("apply", "-f", f"{EXAMPLES}/hello/").stdout
    assert "deployment.apps/hello created" in first
    second = cluster.kubectl("apply", "-f", f"{EXAMPLES}/hello/").stdout
    assert "deployment.apps/hello unchanged" in second
    assert "configmap/hello-config unchanged" in second


def test_get_table_columns(cluster):
    cluster.kubectl("create", "configmap", "cols", "--from-literal=a=1", "--from-literal=b=2")
    out = cluster.kubectl("get", "configmap", "cols").stdout.splitlines()
    assert out[0].split() == ["NAME", "DATA", "AGE"]
    assert out[1].split()[:2] == ["cols", "2"]


def test_not_found_message(cluster):
    r = cluster.kubectl("get", "pod", "nope", check=False)
    assert r.returncode == 1
    assert 'Error from server (NotFound): pods "nope" not found' in r.stderr


def test_data_survives_kill9(cluster):
    cluster.kubectl("create", "configmap", "durable", "--from-literal=k=v")
    rv = cluster.get_json("configmap", "durable")["metadata"]["resourceVersion"]
    cluster.kill9_and_restart()
    after = cluster.get_json("configmap", "durable")
    assert after["data"] == {"k": "v"}
    assert after["metadata"]["resourceVersion"] == rv
