"""Looking around: cluster-info, api-resources, api-versions, explain, create namespace."""
import json
import re

import pytest


def test_cluster_info(cluster):
    out = cluster.kubectl("cluster-info").stdout
    lines = out.splitlines()
    assert re.fullmatch(r"Kubernetes control plane is running at https://127\.0\.0\.1:\d+", lines[0])
    assert lines[2] == "To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'."


# `kubectl api-resources` lines for the kinds this project serves, as upstream prints them
# (NAME, SHORTNAMES, APIVERSION, NAMESPACED, KIND).
API_RESOURCES = """
configmaps cm v1 true ConfigMap
endpoints ep v1 true Endpoints
events ev v1 true Event
limitranges limits v1 true LimitRange
namespaces ns v1 false Namespace
nodes no v1 false Node
persistentvolumeclaims pvc v1 true PersistentVolumeClaim
persistentvolumes pv v1 false PersistentVolume
pods po v1 true Pod
podtemplates - v1 true PodTemplate
replicationcontrollers rc v1 true ReplicationController
resourcequotas quota v1 true ResourceQuota
secrets - v1 true Secret
serviceaccounts sa v1 true ServiceAccount
services svc v1 true Service
customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition
controllerrevisions - apps/v1 true ControllerRevision
daemonsets ds apps/v1 true DaemonSet
deployments deploy apps/v1 true Deployment
replicasets rs apps/v1 true ReplicaSet
statefulsets sts apps/v1 true StatefulSet
selfsubjectreviews - authentication.k8s.io/v1 false SelfSubjectReview
tokenreviews - authentication.k8s.io/v1 false TokenReview
localsubjectaccessreviews - authorization.k8s.io/v1 true LocalSubjectAccessReview
selfsubjectaccessreviews - authorization.k8s.io/v1 false SelfSubjectAccessReview
selfsubjectrulesreviews - authorization.k8s.io/v1 false SelfSubjectRulesReview
subjectaccessreviews - authorization.k8s.io/v1 false SubjectAccessReview
horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler
cronjobs cj batch/v1 true CronJob
jobs - batch/v1 true Job
leases - coordination.k8s.io/v1 true Lease
nodes - metrics.k8s.io/v1beta1 false NodeMetrics
pods - metrics.k8s.io/v1beta1 true PodMetrics
endpointslices - discovery.k8s.io/v1 true EndpointSlice
events ev events.k8s.io/v1 true Event
ingressclasses - networking.k8s.io/v1 false IngressClass
ingresses ing networking.k8s.io/v1 true Ingress
networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy
poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget
clusterrolebindings - rbac.authorization.k8s.io/v1 false ClusterRoleBinding
clusterroles - rbac.authorization.k8s.io/v1 false ClusterRole
rolebindings - rbac.authorization.k8s.io/v1 true RoleBinding
roles - rbac.authorization.k8s.io/v1 true Role
priorityclasses pc scheduling.k8s.io/v1 false PriorityClass
storageclasses sc storage.k8s.io/v1 false StorageClass
""".strip().splitlines()


def api_resources(cluster, *args):
    out = cluster.kubectl("api-resources", *args).stdout.splitlines()
    header = out[0]
    cols = [header.index(c) for c in ("NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND")]
    rows = []
    for line in out[1:]:
        cells = [line[a:b].strip() for a, b in zip(cols, cols[1:] + [None])]
        rows.append(" ".join(c or "-" for c in cells))
    return header, rows


def test_api_resources(cluster):
    header, rows = api_resources(cluster)
    assert header.split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    missing = [line for line in API_RESOURCES if line not in rows]
    assert missing == []


def test_api_resources_filters(cluster):
    _, rows = api_resources(cluster, "--namespaced=false", "--api-group=rbac.authorization.k8s.io")
    assert rows == ["clusterrolebindings - rbac.authorization.k8s.io/v1 false ClusterRoleBinding",
                    "clusterroles - rbac.authorization.k8s.io/v1 false ClusterRole"]
    out = cluster.kubectl("api-resources", "--verbs=list", "-o", "name").stdout.split()
    assert "deployments.apps" in out and "pods" in out
    assert "tokenreviews.authentication.k8s.io" not in out  # create only
    wide = cluster.kubectl("api-resources", "-o", "wide", "--api-group=apps").stdout.splitlines()
    assert wide[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "CATEGORIES"]
    deploy = [line for line in wide if line.startswith("deployments ")][0]
    assert deploy.split()[-2:] == ["create,delete,deletecollection,get,list,patch,update,watch", "all"]
    review = cluster.kubectl("api-resources", "-o", "wide", "--api-group=authentication.k8s.io").stdout
    assert [line.split()[-1] for line in review.splitlines()[1:]] == ["create", "create"]


def test_api_versions(cluster):
    out = cluster.kubectl("api-versions").stdout.split()
    for gv in ("v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1",
               "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "storage.k8s.io/v1",
               "apiextensions.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1",
               "events.k8s.io/v1", "scheduling.k8s.io/v1"):
        assert gv in out
    assert out == sorted(out)


def test_short_names_and_plural_singular(cluster):
    for name in ("deploy", "deployment", "deployments", "deployments.apps", "deployment.v1.apps"):
        r = cluster.kubectl("get", name, "-A", "-o", "name")
        assert r.returncode == 0, name


def test_explain_field(cluster):
    out = cluster.kubectl("explain", "deployment.spec.replicas").stdout
    lines = out.splitlines()
    assert lines[:6] == ["GROUP:      apps", "KIND:       Deployment", "VERSION:    v1", "",
                         "FIELD: replicas <integer>", ""]
    assert "DESCRIPTION:" in lines
    description = lines[lines.index("DESCRIPTION:") + 1:]
    assert any(line.strip() for line in description)


def test_explain_kind_lists_fields(cluster):
    lines = cluster.kubectl("explain", "pods").stdout.splitlines()
    assert lines[:2] == ["KIND:       Pod", "VERSION:    v1"]
    fields = [line.split()[0] for line in lines[lines.index("FIELDS:") + 1:]
              if line.startswith("  ") and not line.startswith("    ") and line.strip()]
    assert fields == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert "  spec\t<PodSpec>" in lines


def test_explain_nested_types_and_required(cluster):
    out = cluster.kubectl("explain", "deployment.spec").stdout
    assert "FIELD: spec <DeploymentSpec>" in out
    assert "  selector\t<LabelSelector> -required-" in out.splitlines()
    assert "  template\t<PodTemplateSpec> -required-" in out.splitlines()
    out = cluster.kubectl("explain", "pod.spec.containers.ports.protocol").stdout
    lines = out.splitlines()
    assert "FIELD: protocol <string>" in lines
    # Enum values as the schema lists them (upstream's OpenAPI lists them sorted).
    enum = lines[lines.index("ENUM:") + 1:lines.index("ENUM:") + 4]
    assert [e.strip() for e in enum] == ["SCTP", "TCP", "UDP"]


def test_explain_recursive(cluster):
    out = cluster.kubectl("explain", "configmap", "--recursive").stdout
    for field in ("  binaryData\t<map[string]string>", "  data\t<map[string]string>", "  immutable\t<boolean>",
                  "    name\t<string>", "    labels\t<map[string]string>"):
        assert field in out.splitlines()


def test_explain_errors(cluster):
    r = cluster.kubectl("explain", "deployment.spec.foo", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == 'error: field "foo" does not exist'
    r = cluster.kubectl("explain", "foos", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == 'the server doesn\'t have a resource type "foos"'


def test_explain_custom_resource(cluster):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "gadgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "description": "A gadget.",
                        "properties": {"spec": {"type": "object", "properties": {
                            "size": {"type": "integer", "description": "How big."}}}}}}}]}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(crd))
    cluster.kubectl("wait", "--for=condition=Established", "crd/gadgets.example.com", "--timeout=30s")

    def explained():
        r = cluster.kubectl("explain", "gadgets.spec.size", check=False)
        return r.returncode == 0 and r.stdout
    from conftest import wait_for
    out = wait_for(explained, what="the CRD's schema in OpenAPI")
    assert "FIELD: size <integer>" in out
    assert "How big." in out


def test_create_namespace(cluster):
    out = cluster.kubectl("create", "namespace", "fresh").stdout
    assert out.strip() == "namespace/fresh created"
    rows = cluster.kubectl("get", "ns", "fresh").stdout.splitlines()
    assert rows[0].split() == ["NAME", "STATUS", "AGE"]
    assert rows[1].split()[:2] == ["fresh", "Active"]
    r = cluster.kubectl("create", "namespace", "Fresh", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        'The Namespace "Fresh" is invalid: metadata.name: Invalid value: "Fresh": a lowercase RFC 1123 label '
        "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric "
        "character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")


def test_new_namespace_gets_default_service_account_and_root_ca(cluster):
    cluster.kubectl("create", "namespace", "stocked")
    from conftest import wait_for
    wait_for(lambda: cluster.kubectl("-n", "stocked", "get", "sa", "default", check=False).returncode == 0,
             timeout=10, what="the default ServiceAccount")
    wait_for(lambda: cluster.kubectl("-n", "stocked", "get", "cm", "kube-root-ca.crt", check=False).returncode == 0,
             timeout=10, what="the kube-root-ca.crt ConfigMap")
