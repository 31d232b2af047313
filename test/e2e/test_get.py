"""kubectl get: output formats, selectors, -A, get all, sorting, and the server's tables.
Uses examples/api/selectors/ and examples/api/all-kinds/."""
import json

import pytest
import yaml

from conftest import example, wait_for

NS = "selectors"


# Every namespace also holds the ConfigMap kube-root-ca.crt (the cluster's CA bundle),
# published there by a controller shortly after the namespace is created.
ROOT_CA = "kube-root-ca.crt"


@pytest.fixture(scope="module", autouse=True)
def objects(cluster):
    cluster.kubectl("apply", "-f", example("selectors", "objects.yaml"))
    cluster.kubectl("apply", "-f", example("all-kinds"))
    wait_for(lambda: cluster.kubectl("-n", NS, "get", "cm", ROOT_CA, check=False).returncode == 0,
             what=f"{ROOT_CA} in namespace {NS}")


def names(cluster, *args):
    out = cluster.kubectl("-n", NS, "get", "cm", "-o", "name", *args).stdout.split()
    return sorted(n.removeprefix("configmap/") for n in out)


@pytest.mark.parametrize("selector,expected", [
    ("app=web", ["web-dev", "web-prod"]),
    ("app==web", ["web-dev", "web-prod"]),
    ("app!=web", ["cache", "db-prod", ROOT_CA, "unlabelled"]),
    ("env in (prod,dev)", ["db-prod", "web-dev", "web-prod"]),
    ("env notin (prod)", ["cache", ROOT_CA, "unlabelled", "web-dev"]),
    ("tier", ["web-dev", "web-prod"]),
    ("!tier", ["cache", "db-prod", ROOT_CA, "unlabelled"]),
    ("app=web,env=prod", ["web-prod"]),
    ("app in (web,db),!tier", ["db-prod"]),
    ("app=nothing", []),
])
def test_label_selector_operators(cluster, selector, expected):
    assert names(cluster, "-l", selector) == expected


def test_label_selector_syntax_error(cluster):
    r = cluster.kubectl("-n", NS, "get", "cm", "-l", "app in (web", check=False)
    assert r.returncode == 1
    assert r.stderr.startswith("Error from server (BadRequest): ")
    assert "found '', expected: ',' or ')'" in r.stderr


def test_field_selectors(cluster):
    assert names(cluster, "--field-selector", "metadata.name=cache") == ["cache"]
    assert names(cluster, "--field-selector", f"metadata.name!=cache,metadata.name!=unlabelled,metadata.name!={ROOT_CA}") == \
        ["db-prod", "web-dev", "web-prod"]
    out = cluster.kubectl("get", "cm", "-A", "--field-selector", "metadata.namespace=selectors",
                          "-o", "name").stdout.split()
    assert len(out) == 6
    r = cluster.kubectl("-n", NS, "get", "cm", "--field-selector", "data.replicas=5", check=False)
    assert r.returncode == 1
    assert "field label not supported: data.replicas" in r.stderr


def test_field_selector_per_kind(cluster):
    # Pods support status.phase and spec.nodeName; with no nodes everything is Pending.
    out = cluster.kubectl("get", "pods", "-A", "--field-selector", "status.phase=Pending",
                          "-o", "name").stdout.split()
    assert "pod/web" in out
    out = cluster.kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName=", "-o", "name").stdout.split()
    assert "pod/web" in out
    out = cluster.kubectl("get", "secrets", "-n", "all-kinds", "--field-selector", "type=Opaque",
                          "-o", "name").stdout.split()
    assert out == ["secret/credentials"]


def test_no_resources_found(cluster):
    r = cluster.kubectl("-n", NS, "get", "cm", "-l", "app=nothing")
    assert r.stdout == ""
    assert r.stderr.strip() == "No resources found in selectors namespace."
    r = cluster.kubectl("get", "cm", "-A", "-l", "app=nothing")
    assert r.stderr.strip() == "No resources found"


def test_output_name(cluster):
    out = cluster.kubectl("-n", NS, "get", "cm", "-l", "app=web", "-o", "name").stdout
    assert out.splitlines() == ["configmap/web-dev", "configmap/web-prod"]
    out = cluster.kubectl("-n", "all-kinds", "get", "deploy,sts", "-o", "name").stdout
    assert out.splitlines() == ["deployment.apps/web", "statefulset.apps/db"]


def test_output_json_and_yaml(cluster):
    one = json.loads(cluster.kubectl("-n", NS, "get", "cm", "web-prod", "-o", "json").stdout)
    assert one["apiVersion"] == "v1" and one["kind"] == "ConfigMap"
    assert one["data"] == {"replicas": "5"}
    assert one["metadata"]["namespace"] == NS
    assert one["metadata"]["uid"] and one["metadata"]["resourceVersion"]
    ts = one["metadata"]["creationTimestamp"]
    assert len(ts) == 20 and ts.endswith("Z") and ts[10] == "T"  # RFC 3339, seconds, UTC

    lst = yaml.safe_load(cluster.kubectl("-n", NS, "get", "cm", "-l", "app=web", "-o", "yaml").stdout)
    assert lst["apiVersion"] == "v1" and lst["kind"] == "List"
    assert [i["metadata"]["name"] for i in lst["items"]] == ["web-dev", "web-prod"]
    assert all(i["kind"] == "ConfigMap" for i in lst["items"])


def test_output_jsonpath(cluster):
    out = cluster.kubectl("-n", NS, "get", "cm", "web-prod", "-o", "jsonpath={.data.replicas}").stdout
    assert out == "5"
    tmpl = '{range .items[*]}{.metadata.name}={.metadata.labels.env}{"\\n"}{end}'
    out = cluster.kubectl("-n", NS, "get", "cm", "-l", "app=web", "-o", f"jsonpath={tmpl}").stdout
    assert out == "web-dev=dev\nweb-prod=prod\n"


def test_output_custom_columns(cluster):
    out = cluster.kubectl("-n", NS, "get", "cm", "-l", "app",
                          "-o", "custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,ENV:.metadata.labels.env").stdout
    rows = [line.split() for line in out.splitlines()]
    assert rows == [["NAME", "APP", "ENV"], ["cache", "cache", "<none>"], ["db-prod", "db", "prod"],
                    ["web-dev", "web", "dev"], ["web-prod", "web", "prod"]]


def test_output_wide(cluster):
    # UP-TO-DATE 2: the controller's ReplicaSet made both pods (Pending: no node here).
    wait_for(lambda: cluster.kubectl("-n", "all-kinds", "get", "deploy", "web").stdout.splitlines()[1].split()[:4]
             == ["web", "0/2", "2", "0"], what="the deployment's status")
    out = cluster.kubectl("-n", "all-kinds", "get", "deploy", "web", "-o", "wide").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    row = out[1].split()
    assert row[:4] == ["web", "0/2", "2", "0"]
    assert row[5:] == ["web", "nginx:1.25", "app=web-deploy"]
    out = cluster.kubectl("-n", "all-kinds", "get", "pod", "web", "-o", "wide").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                              "NOMINATED", "NODE", "READINESS", "GATES"]
    row = out[1].split()
    assert row[:4] == ["web", "0/1", "Pending", "0"]
    assert row[5:] == ["<none>"] * 4
    out = cluster.kubectl("-n", "all-kinds", "get", "svc", "web", "-o", "wide").stdout.splitlines()
    assert out[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    assert out[1].split()[-1] == "app=web"


def test_show_labels_and_label_columns(cluster):
    out = cluster.kubectl("-n", NS, "get", "cm", "-l", "app", "--show-labels").stdout.splitlines()
    assert out[0].split() == ["NAME", "DATA", "AGE", "LABELS"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert rows["web-prod"][1] == "1"
    assert rows["web-prod"][3] == "app=web,env=prod,tier=frontend"
    assert rows["cache"][1] == "0"
    assert rows["cache"][3] == "app=cache"
    out = cluster.kubectl("-n", NS, "get", "cm", "-L", "app,env").stdout.splitlines()
    assert out[0].split() == ["NAME", "DATA", "AGE", "APP", "ENV"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert rows["db-prod"][3:] == ["db", "prod"]
    assert rows["cache"][3:] == ["cache"]


def test_all_namespaces(cluster):
    out = cluster.kubectl("get", "cm", "-A", "-l", "app=web").stdout.splitlines()
    assert out[0].split() == ["NAMESPACE", "NAME", "DATA", "AGE"]
    assert [line.split()[:3] for line in out[1:]] == [[NS, "web-dev", "1"], [NS, "web-prod", "1"]]
    # Cluster-scoped kinds have no NAMESPACE column even with -A.
    out = cluster.kubectl("get", "ns", "-A").stdout.splitlines()
    assert out[0].split() == ["NAME", "STATUS", "AGE"]


def test_sort_by(cluster):
    out = cluster.kubectl("-n", NS, "get", "cm", "--sort-by=.metadata.annotations.rank", "-o", "name",
                          "--field-selector", f"metadata.name!={ROOT_CA}").stdout
    assert out.split() == ["configmap/web-dev", "configmap/cache", "configmap/web-prod",
                           "configmap/db-prod", "configmap/unlabelled"]
    # --sort-by with the human table: kubectl asks for the objects inside the table rows.
    out = cluster.kubectl("-n", NS, "get", "cm", "--sort-by=.data.replicas", "-l", "app in (web,db)").stdout
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["web-dev", "db-prod", "web-prod"]


def test_get_several_kinds_and_names(cluster):
    out = cluster.kubectl("-n", "all-kinds", "get", "cm/settings", "secret/credentials").stdout
    blocks = out.strip().split("\n\n")
    assert blocks[0].splitlines()[0].split() == ["NAME", "DATA", "AGE"]
    assert blocks[0].splitlines()[1].split()[:2] == ["configmap/settings", "2"]
    assert blocks[1].splitlines()[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    assert blocks[1].splitlines()[1].split()[:3] == ["secret/credentials", "Opaque", "2"]


def test_get_all_order_and_content(cluster):
    out = cluster.kubectl("-n", "all-kinds", "get", "all").stdout
    blocks = [b.splitlines() for b in out.strip().split("\n\n")]
    kinds = [b[1].split()[0].split("/")[0] for b in blocks]
    # The "all" category, in discovery order: core, apps, autoscaling, batch; resources
    # alphabetically within a group.
    assert kinds == ["pod", "service", "daemonset.apps", "deployment.apps", "replicaset.apps",
                     "statefulset.apps", "horizontalpodautoscaler.autoscaling", "cronjob.batch", "job.batch"]


def test_default_namespace_has_kubernetes_service(cluster):
    out = cluster.kubectl("-n", "default", "get", "svc", "kubernetes").stdout.splitlines()
    row = out[1].split()
    assert row[0] == "kubernetes" and row[1] == "ClusterIP"
    assert row[4] == "443/TCP"
    svc = cluster.get_json("-n", "default", "svc", "kubernetes")
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}


def test_get_raw_paging(cluster):
    page = json.loads(cluster.kubectl("get", "--raw", f"/api/v1/namespaces/{NS}/configmaps?limit=2").stdout)
    assert len(page["items"]) == 2
    cont = page["metadata"]["continue"]
    assert cont and page["metadata"]["remainingItemCount"] == 4
    rest = json.loads(cluster.kubectl("get", "--raw",
                                      f"/api/v1/namespaces/{NS}/configmaps?limit=2&continue={cont}").stdout)
    assert len(rest["items"]) == 2
    # kubectl pages with --chunk-size and puts the pages back together.
    out = cluster.kubectl("-n", NS, "get", "cm", "--chunk-size=2", "-o", "name").stdout.split()
    assert len(out) == 6


# The columns upstream's API server sends for `kubectl get <kind>` (pkg/printers/internalversion
# in kube-apiserver 1.32; kinds without a printer get the default NAME / CREATED AT).
TABLE_HEADERS = {
    "namespace": "NAME STATUS AGE",
    "pod": "NAME READY STATUS RESTARTS AGE",
    "service": "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE",
    "endpoints": "NAME ENDPOINTS AGE",
    "configmap": "NAME DATA AGE",
    "secret": "NAME TYPE DATA AGE",
    "serviceaccount": "NAME SECRETS AGE",
    "persistentvolume": "NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS "
                        "VOLUMEATTRIBUTESCLASS REASON AGE",
    "persistentvolumeclaim": "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
    "limitrange": "NAME CREATED AT",
    "resourcequota": "NAME AGE REQUEST LIMIT",
    "deployment": "NAME READY UP-TO-DATE AVAILABLE AGE",
    "replicaset": "NAME DESIRED CURRENT READY AGE",
    "statefulset": "NAME READY AGE",
    "daemonset": "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE",
    "controllerrevision": "NAME CONTROLLER REVISION AGE",
    "job": "NAME STATUS COMPLETIONS DURATION AGE",
    "cronjob": "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE",
    "horizontalpodautoscaler": "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE",
    "poddisruptionbudget": "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE",
    "ingress": "NAME CLASS HOSTS ADDRESS PORTS AGE",
    "ingressclass": "NAME CONTROLLER PARAMETERS AGE",
    "networkpolicy": "NAME POD-SELECTOR AGE",
    "endpointslice": "NAME ADDRESSTYPE PORTS ENDPOINTS AGE",
    "lease": "NAME HOLDER AGE",
    "events.events.k8s.io": "LAST SEEN TYPE REASON OBJECT MESSAGE",
    "role": "NAME CREATED AT",
    "rolebinding": "NAME ROLE AGE",
    "clusterrole": "NAME CREATED AT",
    "clusterrolebinding": "NAME ROLE AGE",
    "storageclass": "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE",
    "priorityclass": "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY",
    "customresourcedefinition": "NAME CREATED AT",
}


@pytest.mark.parametrize("resource", sorted(TABLE_HEADERS))
def test_table_columns(cluster, resource):
    out = cluster.kubectl("get", resource, "-n", "all-kinds").stdout.splitlines()
    assert " ".join(out[0].split()) == TABLE_HEADERS[resource]


# Rows for a few objects of examples/api/all-kinds, as upstream prints them (AGE dropped).
TABLE_ROWS = {
    ("endpoints", "external-db"): ["external-db", "10.0.0.10:5432"],
    ("job", "once"): ["once", "Running", "0/1"],  # DURATION (time-dependent) is not compared
    ("cronjob", "nightly"): ["nightly", "0 3 * * *", "<none>", "False", "0", "<none>"],
    ("hpa", "web"): ["web", "Deployment/web", "cpu: <unknown>/80%", "1", "5", "2"],  # the HPA saw 2 replicas
    ("pdb", "web"): ["web", "1", "N/A", "0"],
    ("ingress", "web"): ["web", "all-kinds-nginx", "web.example.com", "", "80"],
    ("ingressclass", "all-kinds-nginx"): ["all-kinds-nginx", "example.com/ingress-nginx", "<none>"],
    ("networkpolicy", "web-from-same-ns"): ["web-from-same-ns", "app=web"],
    ("endpointslice", "external-db-1"): ["external-db-1", "IPv4", "5432", "10.0.0.10"],
    ("lease", "leader"): ["leader", "replica-a"],
    ("rolebinding", "builder-reads-config"): ["builder-reads-config", "Role/config-reader"],
    ("storageclass", "all-kinds-manual"): ["all-kinds-manual", "kubernetes.io/no-provisioner", "Retain",
                                           "WaitForFirstConsumer", "false"],
    ("priorityclass", "all-kinds-high"): ["all-kinds-high", "100000", "false", "PreemptLowerPriority"],
    ("pvc", "data"): ["data", "Pending", "", "", "", "all-kinds-manual", "<unset>"],
    ("controllerrevision", "agent-1"): ["agent-1", "<none>", "1"],
}


def split_table_row(header, row):
    """Cuts a row at the header's column starts (columns are at least 3 spaces apart; a
    header or cell may contain single spaces, and cells may be empty)."""
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[i - 2:i] == "  ")]
    bounds = list(zip(starts, starts[1:] + [None]))
    return ([header[a:b].strip() for a, b in bounds], [row[a:b].strip() for a, b in bounds])


@pytest.mark.parametrize("resource,name", sorted(TABLE_ROWS))
def test_table_rows(cluster, resource, name):
    def row():
        out = cluster.kubectl("get", resource, name, "-n", "all-kinds").stdout.splitlines()
        headers, cells = split_table_row(out[0], out[1])
        return [c for h, c in zip(headers, cells) if h not in ("AGE", "DURATION")]
    # Controllers fill some columns in (an HPA's replicas, a Job's start): wait for them.
    wait_for(lambda: row() == TABLE_ROWS[(resource, name)], timeout=30, what=f"the {resource} row")
