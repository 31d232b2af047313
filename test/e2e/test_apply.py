"""kubectl apply: one object of every kind, re-apply, the three-way merge, kustomize."""
import json

from conftest import example

# What `kubectl apply -f examples/api/all-kinds/` prints, in order: files by name, objects
# top to bottom within a file.
ALL_KINDS = [
    "namespace/all-kinds",
    "storageclass.storage.k8s.io/all-kinds-manual",
    "priorityclass.scheduling.k8s.io/all-kinds-high",
    "customresourcedefinition.apiextensions.k8s.io/widgets.example.com",
    "pod/web",
    "service/web",
    "endpoints/external-db",
    "configmap/settings",
    "secret/credentials",
    "serviceaccount/builder",
    "persistentvolume/all-kinds-pv",
    "persistentvolumeclaim/data",
    "limitrange/defaults",
    "resourcequota/small",
    "ingressclass.networking.k8s.io/all-kinds-nginx",
    "ingress.networking.k8s.io/web",
    "networkpolicy.networking.k8s.io/web-from-same-ns",
    "endpointslice.discovery.k8s.io/external-db-1",
    "lease.coordination.k8s.io/leader",
    "event.events.k8s.io/web.demo",
    "role.rbac.authorization.k8s.io/config-reader",
    "rolebinding.rbac.authorization.k8s.io/builder-reads-config",
    "clusterrole.rbac.authorization.k8s.io/all-kinds-node-reader",
    "clusterrolebinding.rbac.authorization.k8s.io/all-kinds-builder-reads-nodes",
    "deployment.apps/web",
    "replicaset.apps/web-rs",
    "statefulset.apps/db",
    "daemonset.apps/agent",
    "controllerrevision.apps/agent-1",
    "job.batch/once",
    "cronjob.batch/nightly",
    "horizontalpodautoscaler.autoscaling/web",
    "poddisruptionbudget.policy/web",
]

# The PDB's spec.selector has patch strategy "replace": kubectl's three-way strategic merge
# always includes it in the patch, so upstream reports "configured" on every re-apply.
ALWAYS_CONFIGURED = {"poddisruptionbudget.policy/web"}


def test_apply_every_kind_twice(cluster):
    first = cluster.kubectl("apply", "-f", example("all-kinds")).stdout.splitlines()
    assert first == [f"{name} created" for name in ALL_KINDS]

    second = cluster.kubectl("apply", "-f", example("all-kinds")).stdout.splitlines()
    assert second == [f"{name} {'configured' if name in ALWAYS_CONFIGURED else 'unchanged'}"
                      for name in ALL_KINDS]

    # Every object is readable back by its kind, with the last-applied annotation.
    for name in ALL_KINDS:
        resource, obj_name = name.split("/")
        ns_args = [] if resource in CLUSTER_SCOPED else ["-n", "all-kinds"]
        obj = cluster.get_json(resource, obj_name, *ns_args)
        assert obj["metadata"]["name"] == obj_name
        assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]


CLUSTER_SCOPED = {
    "namespace", "storageclass.storage.k8s.io", "priorityclass.scheduling.k8s.io",
    "customresourcedefinition.apiextensions.k8s.io", "persistentvolume",
    "ingressclass.networking.k8s.io", "clusterrole.rbac.authorization.k8s.io",
    "clusterrolebinding.rbac.authorization.k8s.io",
}


def test_applied_objects_keep_their_fields(cluster):
    cluster.kubectl("apply", "-f", example("all-kinds"))
    secret = cluster.get_json("secret", "credentials", "-n", "all-kinds")
    assert secret["data"] == {"username": "YWRtaW4=", "password": "czNjcjN0"}
    assert secret["type"] == "Opaque"
    ep = cluster.get_json("endpoints", "external-db", "-n", "all-kinds")
    assert ep["subsets"][0]["addresses"][0]["ip"] == "10.0.0.10"
    cr = cluster.get_json("controllerrevision", "agent-1", "-n", "all-kinds")
    assert cr["revision"] == 1
    assert cr["data"]["spec"]["template"]["metadata"]["labels"] == {"app": "agent"}
    hpa = cluster.get_json("hpa", "web", "-n", "all-kinds")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    ev = cluster.get_json("events.events.k8s.io", "web.demo", "-n", "all-kinds")
    assert ev["eventTime"] == "2024-01-02T03:04:05.000000Z"
    assert ev["regarding"]["name"] == "web"
    crd = cluster.get_json("crd", "widgets.example.com")
    assert crd["spec"]["names"]["kind"] == "Widget"


def test_crd_from_folder_is_served(cluster):
    cluster.kubectl("apply", "-f", example("all-kinds"))
    # The CRD's resource becomes usable: create a Widget and read it back by short name.
    widget = {"apiVersion": "example.com/v1", "kind": "Widget",
              "metadata": {"name": "w1", "namespace": "all-kinds"}, "spec": {"size": 3}}
    out = cluster.kubectl("apply", "-f", "-", input=json.dumps(widget)).stdout
    assert out.strip() == "widget.example.com/w1 created"
    assert cluster.get_json("wd", "w1", "-n", "all-kinds")["spec"]["size"] == 3


def test_three_way_merge(cluster):
    cluster.create_namespace("apply-demo")
    out = cluster.kubectl("apply", "-f", example("apply", "web-v1.yaml")).stdout
    assert out.strip() == "deployment.apps/web created"
    cluster.kubectl("scale", "-n", "apply-demo", "deployment", "web", "--replicas=5")
    out = cluster.kubectl("apply", "-f", example("apply", "web-v2.yaml")).stdout
    assert out.strip() == "deployment.apps/web configured"

    d = cluster.get_json("-n", "apply-demo", "deployment", "web")
    # Removed from the file since the last apply: deleted from the object.
    assert d["metadata"]["labels"] == {"app": "web"}
    assert d["spec"]["replicas"] == 1
    web, sidecar = d["spec"]["template"]["spec"]["containers"]
    assert web["image"] == "nginx:1.26"
    assert web["env"] == [{"name": "MODE", "value": "v2"}]
    # Containers are merged by name: the sidecar is still there, untouched.
    assert sidecar["name"] == "sidecar" and sidecar["command"] == ["sleep", "infinity"]
    # The annotation now records v2.
    last = json.loads(d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert "replicas" not in last["spec"]

    again = cluster.kubectl("apply", "-f", example("apply", "web-v2.yaml")).stdout
    assert again.strip() == "deployment.apps/web unchanged"


def test_string_data_secret_is_configured_every_time(cluster):
    cluster.kubectl("create", "namespace", "apply-demo", check=False)
    path = example("apply", "secret-stringdata.yaml")
    assert cluster.kubectl("apply", "-f", path).stdout.strip() == "secret/plain created"
    assert cluster.kubectl("apply", "-f", path).stdout.strip() == "secret/plain configured"
    secret = cluster.get_json("-n", "apply-demo", "secret", "plain")
    assert secret["data"] == {"username": "YWRtaW4="}
    assert "stringData" not in secret


def test_apply_dry_run_server_create(cluster):
    cluster.create_namespace("dry")
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ghost", "namespace": "dry"},
          "data": {"a": "1"}}
    out = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=json.dumps(cm)).stdout
    assert out.strip() == "configmap/ghost created (server dry run)"
    r = cluster.kubectl("get", "-n", "dry", "cm", "ghost", check=False)
    assert r.returncode == 1
    assert 'Error from server (NotFound): configmaps "ghost" not found' in r.stderr


def test_apply_kustomization(cluster):
    rendered = cluster.kubectl("kustomize", example("kustomize")).stdout
    cm_name = [line.split(": ")[1] for line in rendered.splitlines()
               if line.strip().startswith("name: demo-settings-")][0]
    first = cluster.kubectl("apply", "-k", example("kustomize")).stdout.splitlines()
    assert first == [
        "namespace/kustomized created",
        f"configmap/{cm_name} created",
        "service/demo-web created",
        "deployment.apps/demo-web created",
    ]
    second = cluster.kubectl("apply", "-k", example("kustomize")).stdout.splitlines()
    assert second == [line.replace(" created", " unchanged") for line in first]

    d = cluster.get_json("-n", "kustomized", "deployment", "demo-web")
    assert d["spec"]["selector"]["matchLabels"] == {"app": "web", "app.kubernetes.io/part-of": "kustomize-demo"}
    assert d["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"] == cm_name
    cm = cluster.get_json("-n", "kustomized", "configmap", cm_name)
    assert cm["data"] == {"colour": "green", "greeting": "hello"}
