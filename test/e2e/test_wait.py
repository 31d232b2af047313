"""kubectl wait --for=condition / jsonpath / delete / create (examples/api/wait/)."""
import pytest

from conftest import example

NS = "wait-demo"


@pytest.fixture
def web(cluster):
    cluster.kubectl("create", "namespace", NS, check=False)
    cluster.kubectl("-n", NS, "delete", "deploy", "web", "--ignore-not-found")
    cluster.kubectl("apply", "-f", example("wait", "deployment.yaml"))
    return "deploy/web"


def set_available(cluster):
    """No node runs the pods here: a Deployment scaled to 0 is the one that is Available
    (the deployment controller says so)."""
    out = cluster.kubectl("-n", NS, "scale", "deploy", "web", "--replicas=0").stdout
    assert out.strip() == "deployment.apps/web scaled"


def test_wait_times_out(cluster, web):
    r = cluster.kubectl("-n", NS, "wait", "--for=condition=Available", web, "--timeout=1s", check=False)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == "error: timed out waiting for the condition on deployments/web"


def test_wait_for_condition(cluster, web):
    with cluster.kubectl_stream("-n", NS, "wait", "--for=condition=Available", web, "--timeout=60s") as w:
        set_available(cluster)
        assert w.wait_line(lambda l: True) == "deployment.apps/web condition met"
        assert w.proc.wait(timeout=20) == 0


def test_wait_for_condition_false_while_pods_cannot_run(cluster, web):
    # Without a node the pods stay Pending: the controller reports Available=False.
    out = cluster.kubectl("-n", NS, "wait", "--for=condition=Available=false", web, "--timeout=20s").stdout
    assert out.strip() == "deployment.apps/web condition met"


def test_wait_for_condition_false(cluster, web):
    set_available(cluster)
    cluster.kubectl("-n", NS, "wait", "--for=condition=Available", web, "--timeout=20s")
    r = cluster.kubectl("-n", NS, "wait", "--for=condition=Available=false", web, "--timeout=1s", check=False)
    assert r.returncode == 1


def test_wait_for_jsonpath(cluster, web):
    # The ReplicaSet's two (Pending) pods are counted in status.replicas.
    out = cluster.kubectl("-n", NS, "wait", "--for=jsonpath={.status.replicas}=2", web, "--timeout=30s").stdout
    assert out.strip() == "deployment.apps/web condition met"
    out = cluster.kubectl("-n", NS, "wait", "--for=jsonpath={.spec.template.spec.containers[0].image}=nginx:1.25",
                          web, "--timeout=10s").stdout
    assert out.strip() == "deployment.apps/web condition met"


def test_wait_for_delete(cluster, web):
    with cluster.kubectl_stream("-n", NS, "wait", "--for=delete", web, "--timeout=60s", "-v=6") as w:
        # wait finds the object first, then watches it: delete only once it watches (an object
        # that is already gone when wait starts is success with no output).
        w.wait_stderr(lambda l: "watch=true" in l, what="kubectl wait to start watching")
        cluster.kubectl("-n", NS, "delete", "deploy", "web", "--wait=false")
        assert w.wait_line(lambda l: True) == "deployment.apps/web condition met"
        assert w.proc.wait(timeout=20) == 0


def test_wait_for_create(cluster, web):
    cluster.kubectl("-n", NS, "delete", "cm", "later", "--ignore-not-found")
    with cluster.kubectl_stream("-n", NS, "wait", "--for=create", "configmap/later", "--timeout=60s") as w:
        cluster.kubectl("-n", NS, "create", "configmap", "later")
        assert w.wait_line(lambda l: True) == "configmap/later condition met"


def test_wait_on_several_objects_by_label(cluster, web):
    for name in ("a", "b"):
        cluster.kubectl("-n", NS, "create", "configmap", f"sel-{name}")
        cluster.kubectl("-n", NS, "label", "configmap", f"sel-{name}", "group=w")
    out = cluster.kubectl("-n", NS, "wait", "--for=jsonpath={.metadata.labels.group}=w", "configmap",
                          "-l", "group=w", "--timeout=10s").stdout
    assert sorted(out.splitlines()) == ["configmap/sel-a condition met", "configmap/sel-b condition met"]
