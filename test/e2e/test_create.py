"""`kubectl create <kind>` generators. They send protobuf request bodies (client-go typed
clients); the commands follow examples/api/create/README.md."""
import base64
import ipaddress
import json

import pytest

from conftest import example

NS = "create-demo"


@pytest.fixture(scope="module")
def ns(cluster):
    out = cluster.kubectl("create", "namespace", NS).stdout
    assert out.strip() == f"namespace/{NS} created"
    return NS


def create(cluster, *args):
    return cluster.kubectl("-n", NS, "create", *args).stdout.strip()


def test_create_namespace(cluster, ns):
    n = cluster.get_json("namespace", ns)
    assert n["status"]["phase"] == "Active"
    assert n["spec"]["finalizers"] == ["kubernetes"]
    r = cluster.kubectl("create", "namespace", ns, check=False)
    assert r.returncode == 1
    assert f'Error from server (AlreadyExists): namespaces "{ns}" already exists' in r.stderr


def test_create_deployment(cluster, ns):
    assert create(cluster, "deployment", "web", "--image=nginx:1.25", "--replicas=2",
                  "--port=80") == "deployment.apps/web created"
    d = cluster.get_json("-n", ns, "deployment", "web")
    assert d["metadata"]["labels"] == {"app": "web"}
    assert d["metadata"]["generation"] == 1
    spec = d["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"] == {"matchLabels": {"app": "web"}}
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    c = spec["template"]["spec"]["containers"][0]
    assert c["name"] == "nginx"
    assert c["image"] == "nginx:1.25"
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


def test_create_deployment_dry_run_server(cluster, ns):
    out = cluster.kubectl("-n", ns, "create", "deployment", "ghost", "--image=nginx",
                          "--dry-run=server", "-o", "json").stdout
    d = json.loads(out)
    assert d["metadata"]["name"] == "ghost"
    # Defaulted by the server although nothing was stored: no tag means :latest → Always.
    assert d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    r = cluster.kubectl("-n", ns, "get", "deployment", "ghost", check=False)
    assert 'deployments.apps "ghost" not found' in r.stderr


def test_create_configmap(cluster, ns):
    readme = example("create", "README.md")
    assert create(cluster, "configmap", "settings", "--from-literal=mode=demo",
                  f"--from-file={readme}") == "configmap/settings created"
    cm = cluster.get_json("-n", ns, "configmap", "settings")
    assert cm["data"]["mode"] == "demo"
    assert cm["data"]["README.md"] == open(readme).read()


def test_create_secret_generic(cluster, ns):
    assert create(cluster, "secret", "generic", "creds", "--from-literal=password=s3cr3t") == "secret/creds created"
    s = cluster.get_json("-n", ns, "secret", "creds")
    assert s["type"] == "Opaque"
    assert base64.b64decode(s["data"]["password"]) == b"s3cr3t"


def test_create_job(cluster, ns):
    assert create(cluster, "job", "once", "--image=busybox:1.36", "--", "echo", "done") == "job.batch/once created"
    j = cluster.get_json("-n", ns, "job", "once")
    uid = j["metadata"]["uid"]
    assert j["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = j["spec"]["template"]["metadata"]["labels"]
    assert labels["batch.kubernetes.io/controller-uid"] == uid
    assert labels["batch.kubernetes.io/job-name"] == "once"
    assert labels["job-name"] == "once" and labels["controller-uid"] == uid
    assert j["spec"]["backoffLimit"] == 6
    assert j["spec"]["completions"] == 1 and j["spec"]["parallelism"] == 1
    c = j["spec"]["template"]["spec"]["containers"][0]
    assert c["name"] == "once" and c["command"] == ["echo", "done"]
    assert j["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_create_cronjob_and_job_from_it(cluster, ns):
    assert create(cluster, "cronjob", "nightly", "--image=busybox:1.36", "--schedule=0 3 * * *",
                  "--", "date") == "cronjob.batch/nightly created"
    cj = cluster.get_json("-n", ns, "cronjob", "nightly")
    assert cj["spec"]["schedule"] == "0 3 * * *"
    assert cj["spec"]["concurrencyPolicy"] == "Allow"
    assert cj["spec"]["suspend"] is False
    assert cj["spec"]["successfulJobsHistoryLimit"] == 3
    assert cj["spec"]["failedJobsHistoryLimit"] == 1
    assert cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] == ["date"]

    assert create(cluster, "job", "manual", "--from=cronjob/nightly") == "job.batch/manual created"
    j = cluster.get_json("-n", ns, "job", "manual")
    assert j["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    owner = j["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("CronJob", "nightly", cj["metadata"]["uid"])
    assert owner["controller"] is True


def test_create_service_clusterip_allocates_an_ip(cluster, ns):
    assert create(cluster, "service", "clusterip", "web", "--tcp=80:8080") == "service/web created"
    s = cluster.get_json("-n", ns, "service", "web")
    spec = s["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["selector"] == {"app": "web"}
    assert spec["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]
    ip = ipaddress.ip_address(spec["clusterIP"])  # upstream allocates one from the service CIDR
    assert spec["clusterIPs"] == [str(ip)]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["sessionAffinity"] == "None"
    assert spec["internalTrafficPolicy"] == "Cluster"


def test_create_service_headless(cluster, ns):
    assert create(cluster, "service", "clusterip", "headless", "--clusterip=None") == "service/headless created"
    assert cluster.get_json("-n", ns, "service", "headless")["spec"]["clusterIP"] == "None"


def test_create_service_nodeport_allocates_a_port(cluster, ns):
    assert create(cluster, "service", "nodeport", "web-np", "--tcp=80:8080") == "service/web-np created"
    spec = cluster.get_json("-n", ns, "service", "web-np")["spec"]
    assert spec["type"] == "NodePort"
    assert 30000 <= spec["ports"][0]["nodePort"] <= 32767
    assert spec["externalTrafficPolicy"] == "Cluster"


def test_create_serviceaccount_and_token(cluster, ns):
    assert create(cluster, "serviceaccount", "builder") == "serviceaccount/builder created"
    token = cluster.kubectl("-n", ns, "create", "token", "builder").stdout.strip()
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == f"system:serviceaccount:{ns}:builder"


def test_create_role_and_rolebinding(cluster, ns):
    assert create(cluster, "role", "pod-reader", "--verb=get,list", "--resource=pods") == \
        "role.rbac.authorization.k8s.io/pod-reader created"
    role = cluster.get_json("-n", ns, "role", "pod-reader")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    assert create(cluster, "rolebinding", "builder-reads", "--role=pod-reader",
                  f"--serviceaccount={ns}:builder") == "rolebinding.rbac.authorization.k8s.io/builder-reads created"
    rb = cluster.get_json("-n", ns, "rolebinding", "builder-reads")
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"}
    assert rb["subjects"] == [{"kind": "ServiceAccount", "name": "builder", "namespace": ns}]


def test_create_clusterrole(cluster, ns):
    out = cluster.kubectl("create", "clusterrole", "node-reader", "--verb=get,list", "--resource=nodes").stdout
    assert out.strip() == "clusterrole.rbac.authorization.k8s.io/node-reader created"
    cr = cluster.get_json("clusterrole", "node-reader")
    assert cr["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]


def test_create_quota(cluster, ns):
    assert create(cluster, "quota", "small", "--hard=pods=5,cpu=2") == "resourcequota/small created"
    q = cluster.get_json("-n", ns, "resourcequota", "small")
    assert q["spec"]["hard"] == {"cpu": "2", "pods": "5"}


def test_create_pdb(cluster, ns):
    assert create(cluster, "pdb", "web", "--selector=app=web", "--min-available=1") == \
        "poddisruptionbudget.policy/web created"
    p = cluster.get_json("-n", ns, "pdb", "web")
    assert p["spec"] == {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}


def test_create_priorityclass(cluster, ns):
    out = cluster.kubectl("create", "priorityclass", "important", "--value=1000",
                          "--description=for the demo").stdout
    assert out.strip() == "priorityclass.scheduling.k8s.io/important created"
    pc = cluster.get_json("priorityclass", "important")
    assert pc["value"] == 1000
    assert pc["description"] == "for the demo"
    assert pc.get("globalDefault", False) is False  # omitempty: false is not written
    assert pc["preemptionPolicy"] == "PreemptLowerPriority"


def test_create_ingress(cluster, ns):
    assert create(cluster, "ingress", "web", "--rule=web.example.com/app=web:80") == \
        "ingress.networking.k8s.io/web created"
    rule = cluster.get_json("-n", ns, "ingress", "web")["spec"]["rules"][0]
    assert rule["host"] == "web.example.com"
    assert rule["http"]["paths"] == [{
        "path": "/app", "pathType": "Exact",
        "backend": {"service": {"name": "web", "port": {"number": 80}}},
    }]


def test_create_reports_already_exists(cluster, ns):
    create(cluster, "configmap", "twice")
    r = cluster.kubectl("-n", ns, "create", "configmap", "twice", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == 'error: failed to create configmap: configmaps "twice" already exists'
