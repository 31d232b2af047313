"""Server-side apply (kubectl apply --server-side): field ownership, conflicts, co-owning
(examples/api/apply/, see its README)."""
import pytest

from conftest import example

NS = "apply-demo"


@pytest.fixture(scope="module", autouse=True)
def namespace(cluster):
    cluster.create_namespace(NS)


def managed(cluster):
    out = cluster.kubectl("-n", NS, "get", "deploy", "web", "-o", "json", "--show-managed-fields").stdout
    import json
    return json.loads(out)["metadata"]["managedFields"]


def entry(entries, manager, operation, subresource=None):
    found = [e for e in entries if e["manager"] == manager and e["operation"] == operation
             and e.get("subresource") == subresource]
    assert len(found) == 1, f"no single {manager}/{operation}/{subresource} entry in {entries}"
    return found[0]


def test_server_side_apply_and_ownership(cluster):
    v1 = example("apply", "web-v1.yaml")
    assert cluster.kubectl("apply", "--server-side", "-f", v1).stdout.strip() == \
        "deployment.apps/web serverside-applied"
    assert cluster.kubectl("apply", "--server-side", "-f", v1).stdout.strip() == \
        "deployment.apps/web serverside-applied"
    e = entry(managed(cluster), "kubectl", "Apply")
    assert e["apiVersion"] == "apps/v1" and e["fieldsType"] == "FieldsV1"
    spec = e["fieldsV1"]["f:spec"]
    assert "f:replicas" in spec
    containers = spec["f:template"]["f:spec"]["f:containers"]
    assert 'k:{"name":"web"}' in containers and 'k:{"name":"sidecar"}' in containers
    # No last-applied annotation: server-side apply keeps its state in managedFields.
    d = cluster.get_json("-n", NS, "deploy", "web")
    assert "kubectl.kubernetes.io/last-applied-configuration" not in d["metadata"].get("annotations", {})


def test_conflict_with_another_manager(cluster):
    v1 = example("apply", "web-v1.yaml")
    cluster.kubectl("apply", "--server-side", "-f", v1)
    cluster.kubectl("-n", NS, "scale", "deploy", "web", "--replicas=5")
    r = cluster.kubectl("apply", "--server-side", "-f", v1, check=False)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[1] == "Please review the fields above--they currently have other managers. Here"
    assert cluster.get_json("-n", NS, "deploy", "web")["spec"]["replicas"] == 5
    # kubectl scale sets no field manager: the server takes "kubectl" from the User-Agent,
    # and records that the change came through the scale subresource.
    assert lines[0] == ('error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" '
                        'using apps/v1: .spec.replicas')
    entry(managed(cluster), "kubectl", "Update", "scale")

    out = cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", v1).stdout
    assert out.strip() == "deployment.apps/web serverside-applied"
    assert cluster.get_json("-n", NS, "deploy", "web")["spec"]["replicas"] == 2


def test_removing_a_field_from_the_manifest(cluster):
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", example("apply", "web-v1.yaml"))
    cluster.kubectl("apply", "--server-side", "-f", example("apply", "web-v2.yaml"))
    d = cluster.get_json("-n", NS, "deploy", "web")
    assert d["metadata"]["labels"] == {"app": "web"}
    assert d["spec"]["replicas"] == 1  # no longer owned by anyone: back to the default
    web, sidecar = d["spec"]["template"]["spec"]["containers"]
    assert web["image"] == "nginx:1.26" and web["env"] == [{"name": "MODE", "value": "v2"}]
    assert sidecar["name"] == "sidecar"


def test_co_owning_by_applying_the_same_value(cluster):
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", example("apply", "web-v2.yaml"))
    out = cluster.kubectl("apply", "--server-side", "--field-manager=other", "-f",
                          example("apply", "web-v2.yaml")).stdout
    assert out.strip() == "deployment.apps/web serverside-applied"
    entries = managed(cluster)
    mine = entry(entries, "kubectl", "Apply")["fieldsV1"]
    theirs = entry(entries, "other", "Apply")["fieldsV1"]
    assert theirs["f:spec"]["f:selector"] == mine["f:spec"]["f:selector"]


def test_status_subresource_is_recorded(cluster):
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", example("apply", "web-v1.yaml"))
    # A condition of our own: the deployment controller keeps the conditions it does not
    # manage, so this field stays ours while the controller writes the rest of status.
    cluster.kubectl("-n", NS, "patch", "deploy", "web", "--subresource=status", "--type=strategic",
                    "-p", '{"status":{"conditions":[{"type":"Example","status":"True"}]}}')
    e = entry(managed(cluster), "kubectl-patch", "Update", "status")
    assert list(e["fieldsV1"]) == ["f:status"]
    assert 'k:{"type":"Example"}' in e["fieldsV1"]["f:status"]["f:conditions"]


def test_server_side_dry_run(cluster):
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", example("apply", "web-v1.yaml"))
    rv = cluster.get_json("-n", NS, "deploy", "web")["metadata"]["resourceVersion"]
    out = cluster.kubectl("apply", "--server-side", "--dry-run=server", "-f", example("apply", "web-v2.yaml")).stdout
    assert out.strip() == "deployment.apps/web serverside-applied (server dry run)"
    d = cluster.get_json("-n", NS, "deploy", "web")
    assert d["metadata"]["resourceVersion"] == rv
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"


def test_server_side_diff(cluster):
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", example("apply", "web-v1.yaml"))
    same = cluster.kubectl("diff", "--server-side", "-f", example("apply", "web-v1.yaml"), check=False)
    assert same.returncode == 0, same.stderr
    changed = cluster.kubectl("diff", "--server-side", "--force-conflicts", "-f", example("apply", "web-v2.yaml"),
                              check=False)
    assert changed.returncode == 1, changed.stderr
    assert "+        image: nginx:1.26" in changed.stdout
