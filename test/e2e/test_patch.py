"""patch (json / merge / strategic), label, annotate, edit, scale, diff — following
examples/api/patch/README.md."""
import json
import os
import re

import pytest

from conftest import example

NS = "patch-demo"


def kc(cluster, *args, **kw):
    return cluster.kubectl("-n", NS, *args, **kw)


@pytest.fixture
def web(cluster):
    """A fresh copy of examples/api/patch/deployment.yaml for each test."""
    cluster.kubectl("create", "namespace", NS, check=False)
    kc(cluster, "delete", "deployment", "web", "--ignore-not-found", "--wait=false")
    # Wait until it is really gone, then create it again.
    cluster.kubectl("wait", "-n", NS, "--for=delete", "deployment/web", "--timeout=20s", check=False)
    cluster.kubectl("apply", "-f", example("patch", "deployment.yaml"))
    return "web"


def containers(cluster):
    return cluster.get_json("-n", NS, "deployment", "web")["spec"]["template"]["spec"]["containers"]


def test_json_patch(cluster, web):
    out = kc(cluster, "patch", "deploy", "web", "--type=json",
             f"--patch-file={example('patch', 'json-patch.json')}").stdout
    assert out.strip() == "deployment.apps/web patched"
    d = cluster.get_json("-n", NS, "deployment", "web")
    assert d["spec"]["replicas"] == 3
    assert d["metadata"]["labels"]["patched-by"] == "json-patch"
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.26"
    assert d["metadata"]["generation"] == 2


def test_json_patch_test_op_fails(cluster, web):
    patch = example("patch", "json-patch.json")
    kc(cluster, "patch", "deploy", "web", "--type=json", f"--patch-file={patch}")
    rv = cluster.get_json("-n", NS, "deployment", "web")["metadata"]["resourceVersion"]
    r = kc(cluster, "patch", "deploy", "web", "--type=json", f"--patch-file={patch}", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == \
        "The request is invalid: the server rejected our request due to an error in our request"
    assert cluster.get_json("-n", NS, "deployment", "web")["metadata"]["resourceVersion"] == rv


def test_json_patch_bad_path(cluster, web):
    r = kc(cluster, "patch", "deploy", "web", "--type=json",
           "-p", '[{"op":"remove","path":"/spec/nothing/here"}]', check=False)
    assert r.returncode == 1
    assert "The request is invalid" in r.stderr


def test_strategic_patch_merges_lists_by_key(cluster, web):
    out = kc(cluster, "patch", "deploy", "web",
             f"--patch-file={example('patch', 'strategic-patch.yaml')}").stdout
    assert out.strip() == "deployment.apps/web patched"
    web_c, sidecar = containers(cluster)
    assert web_c["image"] == "nginx:1.27"
    assert web_c["env"] == [{"name": "LEVEL", "value": "info"}, {"name": "MODE", "value": "demo"}]
    assert sidecar["name"] == "sidecar"


def test_merge_patch_replaces_lists(cluster, web):
    out = kc(cluster, "patch", "deploy", "web", "--type=merge",
             f"--patch-file={example('patch', 'merge-patch.yaml')}").stdout
    assert out.strip() == "deployment.apps/web patched"
    (only,) = containers(cluster)
    assert only["name"] == "web" and only["image"] == "nginx:1.27"
    assert only["env"] == [{"name": "LEVEL", "value": "info"}]
    # Defaults are filled in again for the replaced container.
    assert only["imagePullPolicy"] == "IfNotPresent"
    assert only["terminationMessagePolicy"] == "File"


def test_strategic_patch_directives(cluster, web):
    kc(cluster, "label", "deploy", "web", "patched-by=hand")
    kc(cluster, "patch", "deploy", "web", f"--patch-file={example('patch', 'strategic-delete.yaml')}")
    d = cluster.get_json("-n", NS, "deployment", "web")
    assert "patched-by" not in d["metadata"]["labels"]
    assert [c["name"] for c in d["spec"]["template"]["spec"]["containers"]] == ["web"]
    # Directives are never stored.
    assert "$patch" not in json.dumps(d)


def test_patch_without_change(cluster, web):
    rv = cluster.get_json("-n", NS, "deployment", "web")["metadata"]["resourceVersion"]
    out = kc(cluster, "patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":1}}').stdout
    assert out.strip() == "deployment.apps/web patched (no change)"
    d = cluster.get_json("-n", NS, "deployment", "web")
    assert d["metadata"]["resourceVersion"] == rv
    assert d["metadata"]["generation"] == 1


RC = """
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy, namespace: patch-demo}
spec:
  replicas: 1
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
"""


@pytest.fixture
def legacy(cluster):
    """A ReplicationController: it has status and scale subresources and, unlike a
    Deployment, no controller in kubes writes its status, so a test can."""
    cluster.kubectl("create", "namespace", NS, check=False)
    kc(cluster, "delete", "rc", "legacy", "--ignore-not-found")
    cluster.kubectl("apply", "-f", "-", input=RC)
    return "legacy"


def test_patch_status_subresource_only_touches_status(cluster, legacy):
    out = kc(cluster, "patch", "rc", "legacy", "--subresource=status", "--type=merge",
             "-p", '{"spec":{"replicas":9},"status":{"observedGeneration":1,"replicas":4}}').stdout
    assert out.strip() == "replicationcontroller/legacy patched"
    d = cluster.get_json("-n", NS, "rc", "legacy")
    assert d["status"]["replicas"] == 4
    assert d["spec"]["replicas"] == 1  # spec changes through /status are ignored
    # ...and status changes through the main resource are ignored too.
    kc(cluster, "patch", "rc", "legacy", "--type=merge", "-p", '{"status":{"replicas":7}}')
    assert cluster.get_json("-n", NS, "rc", "legacy")["status"]["replicas"] == 4


def test_patch_dry_run_server(cluster, web):
    out = kc(cluster, "patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":4}}',
             "--dry-run=server", "-o", "jsonpath={.spec.replicas}").stdout
    assert out == "4"
    assert cluster.get_json("-n", NS, "deployment", "web")["spec"]["replicas"] == 1


def test_label(cluster, web):
    assert kc(cluster, "label", "deploy", "web", "tier=frontend").stdout.strip() == "deployment.apps/web labeled"
    r = kc(cluster, "label", "deploy", "web", "tier=backend", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: 'tier' already has a value (frontend), and --overwrite is false"
    assert kc(cluster, "label", "deploy", "web", "tier=backend", "--overwrite").stdout.strip() == \
        "deployment.apps/web labeled"
    assert cluster.get_json("-n", NS, "deployment", "web")["metadata"]["labels"]["tier"] == "backend"
    assert kc(cluster, "label", "deploy", "web", "tier-").stdout.strip() == "deployment.apps/web unlabeled"
    assert "tier" not in cluster.get_json("-n", NS, "deployment", "web")["metadata"]["labels"]


def test_label_invalid_value(cluster, web):
    r = kc(cluster, "label", "deploy", "web", "bad=no spaces", check=False)
    assert r.returncode == 1
    assert "invalid label value" in r.stderr  # rejected by kubectl itself


def test_label_rejected_by_server(cluster, web):
    r = kc(cluster, "patch", "deploy", "web", "--type=merge",
           "-p", '{"metadata":{"labels":{"tier":"-bad-"}}}', check=False)
    assert r.returncode == 1
    assert r.stderr.startswith('The Deployment "web" is invalid: ')
    assert 'metadata.labels: Invalid value: "-bad-": a valid label must be an empty string or consist ' \
           "of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric " \
           "character" in r.stderr


def test_annotate_and_remove(cluster, web):
    assert kc(cluster, "annotate", "deploy", "web", "owner=team-a").stdout.strip() == \
        "deployment.apps/web annotated"
    ann = cluster.get_json("-n", NS, "deployment", "web")["metadata"]["annotations"]
    assert ann["owner"] == "team-a"
    assert kc(cluster, "annotate", "deploy", "web", "owner-").stdout.strip() == "deployment.apps/web annotated"
    ann = cluster.get_json("-n", NS, "deployment", "web")["metadata"].get("annotations", {})
    assert "owner" not in ann
    # The last-applied annotation from `kubectl apply` is untouched.
    assert "kubectl.kubernetes.io/last-applied-configuration" in ann


def test_edit_with_editor_script(cluster, web):
    r = kc(cluster, "edit", "deploy", "web", env={"EDITOR": "sed -i s/nginx:1.25/nginx:1.28/"})
    assert r.stdout.strip() == "deployment.apps/web edited"
    assert containers(cluster)[0]["image"] == "nginx:1.28"
    # An edit that changes nothing.
    r = kc(cluster, "edit", "deploy", "web", env={"EDITOR": "true"})
    assert r.stderr.strip() == "Edit cancelled, no changes made."


def test_edit_invalid_change_is_reported(cluster, web):
    r = kc(cluster, "edit", "deploy", "web", check=False,
           env={"EDITOR": "sed -i s/replicas:\\ 1/replicas:\\ -1/"})
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0] == 'error: deployments.apps "web" is invalid'
    assert lines[-1] == "error: Edit cancelled, no valid changes were saved."
    # kubectl keeps the edited file, with the server's complaint at the top.
    copy = re.search(r'A copy of your changes has been stored to "([^"]+)"', r.stderr).group(1)
    with open(copy) as f:
        saved = f.read()
    os.unlink(copy)
    assert '# deployments.apps "web" was not valid:' in saved
    assert "# * spec.replicas: Invalid value: -1: must be greater than or equal to 0" in saved
    assert cluster.get_json("-n", NS, "deployment", "web")["spec"]["replicas"] == 1


def test_scale_uses_the_scale_subresource(cluster, web):
    assert kc(cluster, "scale", "deploy", "web", "--replicas=5").stdout.strip() == "deployment.apps/web scaled"
    assert cluster.get_json("-n", NS, "deployment", "web")["spec"]["replicas"] == 5
    scale = json.loads(cluster.kubectl("get", "--raw",
                                       f"/apis/apps/v1/namespaces/{NS}/deployments/web/scale").stdout)
    assert scale["apiVersion"] == "autoscaling/v1" and scale["kind"] == "Scale"
    assert scale["metadata"]["name"] == "web"
    assert scale["spec"] == {"replicas": 5}
    # status.replicas is what the deployment controller counts (Pending pods here: no node).
    assert scale["status"]["selector"] == "app=web"
    assert scale["status"]["replicas"] in range(0, 6)


def test_scale_with_precondition(cluster, web):
    r = kc(cluster, "scale", "deploy", "web", "--current-replicas=2", "--replicas=3", check=False)
    assert r.returncode == 1
    assert "Expected replicas to be 2, was 1" in r.stderr
    out = kc(cluster, "scale", "deploy", "web", "--current-replicas=1", "--replicas=3").stdout
    assert out.strip() == "deployment.apps/web scaled"
    assert cluster.get_json("-n", NS, "deployment", "web")["spec"]["replicas"] == 3


def test_diff_exit_codes(cluster, web):
    manifest = example("patch", "deployment.yaml")
    same = cluster.kubectl("diff", "-f", manifest, check=False)
    assert same.returncode == 0, same.stderr
    assert same.stdout == ""
    kc(cluster, "scale", "deploy", "web", "--replicas=4")
    changed = cluster.kubectl("diff", "-f", manifest, check=False)
    assert changed.returncode == 1, changed.stderr
    assert "-  replicas: 4" in changed.stdout
    assert "+  replicas: 1" in changed.stdout
    # diff does not change anything.
    assert cluster.get_json("-n", NS, "deployment", "web")["spec"]["replicas"] == 4
