"""kubectl delete: cascading through ownerReferences, finalizers, namespaces
(examples/api/delete/)."""
import pytest

from conftest import example, wait_for


@pytest.fixture
def ns(cluster, request):
    name = "del-" + request.node.name.replace("_", "-")[len("test-"):][:40].strip("-")
    cluster.create_namespace(name)
    return name


def in_ns(path, ns):
    with open(path) as f:
        return f.read().replace("namespace: delete-demo", f"namespace: {ns}")


def family(cluster, ns):
    """parent.yaml and children.yaml, with the children pointing at the parent's uid."""
    cluster.kubectl("apply", "-f", "-", input=in_ns(example("delete", "parent.yaml"), ns))
    uid = cluster.get_json("-n", ns, "cm", "parent")["metadata"]["uid"]
    cluster.kubectl("apply", "-f", "-", input=in_ns(example("delete", "children.yaml"), ns).replace("OWNER_UID", uid))
    return uid


def exists(cluster, ns, kind, name):
    r = cluster.kubectl("-n", ns, "get", kind, name, "-o", "name", check=False)
    if r.returncode == 0:
        return True
    assert "NotFound" in r.stderr, r.stderr
    return False


def hold(cluster, ns, name):
    cluster.kubectl("-n", ns, "patch", "cm", name, "--type=merge", "-p",
                    '{"metadata":{"finalizers":["example.com/hold"]}}')


def release(cluster, ns, name):
    cluster.kubectl("-n", ns, "patch", "cm", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')


def test_delete_messages(cluster, ns):
    cluster.kubectl("-n", ns, "create", "cm", "a")
    assert cluster.kubectl("-n", ns, "delete", "cm", "a").stdout.strip() == 'configmap "a" deleted'
    r = cluster.kubectl("-n", ns, "delete", "cm", "a", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == 'Error from server (NotFound): configmaps "a" not found'
    r = cluster.kubectl("-n", ns, "delete", "cm", "a", "--ignore-not-found")
    assert r.stdout == "" and r.stderr == ""


def test_delete_by_file_label_and_all(cluster, ns):
    cluster.kubectl("apply", "-f", "-", input=in_ns(example("delete", "parent.yaml"), ns))
    out = cluster.kubectl("delete", "-f", "-", input=in_ns(example("delete", "parent.yaml"), ns)).stdout
    assert out.strip() == 'configmap "parent" deleted'
    for n in ("x", "y", "z"):
        cluster.kubectl("-n", ns, "create", "cm", n)
    cluster.kubectl("-n", ns, "label", "cm", "x", "y", "doomed=yes")
    out = cluster.kubectl("-n", ns, "delete", "cm", "-l", "doomed=yes").stdout
    assert out.splitlines() == ['configmap "x" deleted', 'configmap "y" deleted']
    out = cluster.kubectl("-n", ns, "delete", "cm", "--all").stdout
    assert 'configmap "z" deleted' in out.splitlines()


def test_delete_dry_run_server(cluster, ns):
    cluster.kubectl("-n", ns, "create", "cm", "keep")
    out = cluster.kubectl("-n", ns, "delete", "cm", "keep", "--dry-run=server").stdout
    assert out.strip() == 'configmap "keep" deleted (server dry run)'
    assert exists(cluster, ns, "cm", "keep")


def test_finalizer_holds_an_object(cluster, ns):
    cluster.kubectl("apply", "-f", "-", input=in_ns(example("delete", "held.yaml"), ns))
    out = cluster.kubectl("-n", ns, "delete", "cm", "held", "--wait=false").stdout
    assert out.strip() == 'configmap "held" deleted'
    cm = cluster.get_json("-n", ns, "cm", "held")
    assert cm["metadata"]["deletionTimestamp"]
    assert cm["metadata"]["finalizers"] == ["example.com/hold"]
    # A deleted object cannot get new finalizers...
    r = cluster.kubectl("-n", ns, "patch", "cm", "held", "--type=merge", "-p",
                        '{"metadata":{"finalizers":["example.com/hold","example.com/other"]}}', check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        'The ConfigMap "held" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added '
        'if the object is being deleted, found new finalizers []string{"example.com/other"}')
    # ...but can lose them.
    release(cluster, ns, "held")
    wait_for(lambda: not exists(cluster, ns, "cm", "held"), what="held to disappear")


def test_removing_the_last_finalizer_leaves_no_empty_list(cluster, ns):
    """A strategic merge patch that deletes the last finalizer: like Go's omitempty, the
    object has no `finalizers` field afterwards (not `finalizers: []`)."""
    cluster.kubectl("apply", "-f", "-", input=in_ns(example("delete", "held.yaml"), ns))
    cluster.kubectl("-n", ns, "patch", "cm", "held", "-p",
                    '{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/hold"]}}')
    assert "finalizers" not in cluster.get_json("-n", ns, "cm", "held")["metadata"]
    cluster.kubectl("-n", ns, "label", "cm", "held", "a=b")
    cluster.kubectl("-n", ns, "label", "cm", "held", "a-")
    assert "labels" not in cluster.get_json("-n", ns, "cm", "held")["metadata"]


def test_delete_waits_for_finalizers(cluster, ns):
    cluster.kubectl("apply", "-f", "-", input=in_ns(example("delete", "held.yaml"), ns))
    r = cluster.kubectl("-n", ns, "delete", "cm", "held", "--timeout=2s", check=False)
    assert r.returncode == 1
    assert r.stdout.strip() == 'configmap "held" deleted'
    # (client-go may log a line about the cancelled watch before this one)
    assert r.stderr.strip().splitlines()[-1] == 'error: timed out waiting for the condition on configmaps/held'
    release(cluster, ns, "held")


def test_unscheduled_pod_is_deleted_at_once(cluster, ns):
    cluster.kubectl("-n", ns, "run", "p", "--image=nginx:1.25", "--restart=Never")
    out = cluster.kubectl("-n", ns, "delete", "pod", "p", "--wait=false").stdout
    assert out.strip() == 'pod "p" deleted'
    assert not exists(cluster, ns, "pod", "p")


def test_cascade_background(cluster, ns):
    family(cluster, ns)
    out = cluster.kubectl("-n", ns, "delete", "cm", "parent", "--cascade=background").stdout
    assert out.strip() == 'configmap "parent" deleted'
    assert not exists(cluster, ns, "cm", "parent")
    wait_for(lambda: not exists(cluster, ns, "cm", "child-1") and not exists(cluster, ns, "cm", "child-2"),
             what="the garbage collector to delete the children")


def test_cascade_foreground(cluster, ns):
    family(cluster, ns)
    hold(cluster, ns, "child-1")
    out = cluster.kubectl("-n", ns, "delete", "cm", "parent", "--cascade=foreground", "--wait=false").stdout
    assert out.strip() == 'configmap "parent" deleted'
    parent = cluster.get_json("-n", ns, "cm", "parent")
    assert parent["metadata"]["deletionTimestamp"]
    assert parent["metadata"]["finalizers"] == ["foregroundDeletion"]
    # The GC deletes the children first; child-1 is held by its finalizer...
    wait_for(lambda: not exists(cluster, ns, "cm", "child-2"), what="child-2 to be deleted")
    wait_for(lambda: cluster.get_json("-n", ns, "cm", "child-1")["metadata"].get("deletionTimestamp"),
             what="child-1 to be marked deleted")
    # ...so the parent stays while it is there.
    assert exists(cluster, ns, "cm", "parent")
    release(cluster, ns, "child-1")
    wait_for(lambda: not exists(cluster, ns, "cm", "parent"), what="the parent to go after its children")


def test_cascade_foreground_without_dependents(cluster, ns):
    cluster.kubectl("-n", ns, "create", "cm", "lonely")
    out = cluster.kubectl("-n", ns, "delete", "cm", "lonely", "--cascade=foreground", "--timeout=30s").stdout
    assert out.strip() == 'configmap "lonely" deleted'
    assert not exists(cluster, ns, "cm", "lonely")


def test_cascade_orphan(cluster, ns):
    uid = family(cluster, ns)
    out = cluster.kubectl("-n", ns, "delete", "cm", "parent", "--cascade=orphan", "--timeout=30s").stdout
    assert out.strip() == 'configmap "parent" deleted'
    assert not exists(cluster, ns, "cm", "parent")
    for child in ("child-1", "child-2"):
        meta = cluster.get_json("-n", ns, "cm", child)["metadata"]
        assert not [o for o in meta.get("ownerReferences", []) if o["uid"] == uid]
        assert "deletionTimestamp" not in meta


def test_orphan_finalizer_is_set_while_dependents_are_released(cluster, ns):
    family(cluster, ns)
    hold(cluster, ns, "parent")  # keeps the parent around so we can look at it
    cluster.kubectl("-n", ns, "delete", "cm", "parent", "--cascade=orphan", "--wait=false")
    wait_for(lambda: "orphan" not in cluster.get_json("-n", ns, "cm", "parent")["metadata"]["finalizers"],
             what="the GC to finish orphaning")
    assert cluster.get_json("-n", ns, "cm", "parent")["metadata"]["finalizers"] == ["example.com/hold"]
    assert "ownerReferences" not in cluster.get_json("-n", ns, "cm", "child-1")["metadata"]
    release(cluster, ns, "parent")


def test_delete_namespace(cluster, ns):
    family(cluster, ns)
    cluster.kubectl("-n", ns, "create", "deployment", "web", "--image=nginx:1.25")
    out = cluster.kubectl("delete", "namespace", ns, "--timeout=60s").stdout
    assert out.strip() == f'namespace "{ns}" deleted'
    r = cluster.kubectl("get", "namespace", ns, check=False)
    assert f'namespaces "{ns}" not found' in r.stderr
    # Its content went with it.
    out = cluster.kubectl("get", "cm,deploy", "-A", "--field-selector", f"metadata.namespace={ns}",
                          "-o", "name").stdout
    assert out == ""


def test_terminating_namespace(cluster, ns):
    cluster.kubectl("apply", "-f", "-", input=in_ns(example("delete", "held.yaml"), ns))
    cluster.kubectl("delete", "namespace", ns, "--wait=false")
    n = cluster.get_json("namespace", ns)
    assert n["status"]["phase"] == "Terminating"
    assert n["metadata"]["deletionTimestamp"]
    assert n["spec"]["finalizers"] == ["kubernetes"]
    # No new content while terminating.
    r = cluster.kubectl("-n", ns, "create", "configmap", "late", check=False)
    assert r.returncode == 1
    assert r.stderr.strip() == (f'error: failed to create configmap: configmaps "late" is forbidden: '
                                f'unable to create new content in namespace {ns} because it is being terminated')
    # The namespace controller reports what it is waiting for.

    def finalizers_condition():
        conds = cluster.get_json("namespace", ns)["status"].get("conditions", [])
        return [c for c in conds if c["type"] == "NamespaceFinalizersRemaining" and c["status"] == "True"]
    (cond,) = wait_for(finalizers_condition, what="the NamespaceFinalizersRemaining condition")
    assert cond["reason"] == "SomeFinalizersRemain"
    assert "example.com/hold in 1 resource instances" in cond["message"]
    release(cluster, ns, "held")
    out = cluster.kubectl("wait", "--for=delete", f"namespace/{ns}", "--timeout=60s").stdout
    # kubectl prints nothing when the namespace was already gone by the time it looked.
    assert out.strip() in (f"namespace/{ns} condition met", "")
    r = cluster.kubectl("get", "namespace", ns, check=False)
    assert r.returncode == 1 and "NotFound" in r.stderr


def test_namespace_finalize_subresource(cluster, ns):
    """spec.finalizers of a namespace can only be changed through /finalize."""
    cluster.kubectl("patch", "namespace", ns, "--type=merge", "-p", '{"spec":{"finalizers":[]}}')
    assert cluster.get_json("namespace", ns)["spec"]["finalizers"] == ["kubernetes"]


def test_foreground_delete_of_a_custom_resource_owner(cluster, tmp_path):
    """The garbage collector follows kinds that CRDs add after the server started."""
    crd = tmp_path / "crd.yaml"
    crd.write_text("""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.gc.example.com
spec:
  group: gc.example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
""")
    cluster.kubectl("apply", "-f", str(crd))
    cluster.kubectl("wait", "--for=condition=Established", "crd/gadgets.gc.example.com", "--timeout=20s")
    cluster.kubectl("apply", "-f", "-", input="apiVersion: gc.example.com/v1\nkind: Gadget\nmetadata:\n  name: owner\n")
    uid = cluster.get_json("gadget", "owner")["metadata"]["uid"]
    dep = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gadget-part\n  ownerReferences:\n"
           f"  - {{apiVersion: gc.example.com/v1, kind: Gadget, name: owner, uid: {uid}, blockOwnerDeletion: true}}\n")
    cluster.kubectl("apply", "-f", "-", input=dep)
    out = cluster.kubectl("delete", "gadget", "owner", "--cascade=foreground", "--timeout=30s").stdout
    assert out.strip() == 'gadget.gc.example.com "owner" deleted'
    r = cluster.kubectl("get", "cm", "gadget-part", check=False)
    assert r.returncode == 1 and "NotFound" in r.stderr
