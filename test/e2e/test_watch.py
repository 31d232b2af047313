"""kubectl get -w receiving live updates (examples/api/watch/). Every wait has a deadline;
the kubectl process is always killed at the end."""
import json

import pytest

from conftest import example

NS = "watch-demo"


@pytest.fixture
def ns(cluster, request):
    name = f"{NS}-{request.node.name.replace('_', '-')[5:40].strip('-')}"
    cluster.create_namespace(name)
    return name


def manifest(ns):
    with open(example("watch", "configmap.yaml")) as f:
        return f.read().replace(f"namespace: {NS}", f"namespace: {ns}")


def cells(line):
    return line.split()


def test_get_watch_sees_add_modify_delete(cluster, ns):
    cluster.kubectl("-n", ns, "create", "configmap", "before", "--from-literal=a=1")
    with cluster.kubectl_stream("-n", ns, "get", "cm", "-w") as w:
        # First the current list, as a table.
        assert cells(w.wait_line(lambda l: l.startswith("NAME"))) == ["NAME", "DATA", "AGE"]
        assert cells(w.wait_line(lambda l: l.startswith("before")))[:2] == ["before", "1"]
        # Then the changes, live.
        cluster.kubectl("apply", "-f", "-", input=manifest(ns))
        assert cells(w.wait_line(lambda l: l.startswith("watched")))[:2] == ["watched", "1"]
        cluster.kubectl("-n", ns, "patch", "cm", "watched", "--type=merge", "-p", '{"data":{"extra":"x"}}')
        assert cells(w.wait_line(lambda l: l.startswith("watched")))[:2] == ["watched", "2"]
        cluster.kubectl("-n", ns, "delete", "cm", "watched")
        assert cells(w.wait_line(lambda l: l.startswith("watched")))[:2] == ["watched", "2"]
        assert w.proc.poll() is None  # still watching


def test_output_watch_events(cluster, ns):
    with cluster.kubectl_stream("-n", ns, "get", "cm", "-w", "--output-watch-events") as w:
        # An empty namespace: nothing listed; kubectl prints no header until the first event.
        cluster.kubectl("apply", "-f", "-", input=manifest(ns))
        assert cells(w.wait_line(lambda l: "watched" in l))[:3] == ["ADDED", "watched", "1"]
        cluster.kubectl("-n", ns, "patch", "cm", "watched", "--type=merge", "-p", '{"data":{"step":"2"}}')
        assert cells(w.wait_line(lambda l: "watched" in l))[:3] == ["MODIFIED", "watched", "1"]
        cluster.kubectl("-n", ns, "delete", "cm", "watched")
        assert cells(w.wait_line(lambda l: "watched" in l))[:3] == ["DELETED", "watched", "1"]
        assert cells(w.lines[0]) == ["EVENT", "NAME", "DATA", "AGE"]


def test_watch_with_label_selector_follows_the_set(cluster, ns):
    with cluster.kubectl_stream("-n", ns, "get", "cm", "-l", "app=demo", "-w", "--output-watch-events") as w:
        cluster.kubectl("apply", "-f", "-", input=manifest(ns))
        assert cells(w.wait_line(lambda l: "watched" in l))[0] == "ADDED"
        cluster.kubectl("-n", ns, "create", "configmap", "unlabelled")
        cluster.kubectl("-n", ns, "label", "cm", "watched", "app=other", "--overwrite")
        # Leaving the selector is a DELETED event...
        assert cells(w.wait_line(lambda l: "watched" in l))[0] == "DELETED"
        cluster.kubectl("-n", ns, "label", "cm", "watched", "app=demo", "--overwrite")
        # ...and coming back an ADDED one.
        assert cells(w.wait_line(lambda l: "watched" in l))[0] == "ADDED"
        assert not any("unlabelled" in l for l in w.lines)


def test_watch_one_object_by_name(cluster, ns):
    cluster.kubectl("apply", "-f", "-", input=manifest(ns))
    cluster.kubectl("-n", ns, "create", "configmap", "other")
    with cluster.kubectl_stream("-n", ns, "get", "cm", "watched", "-w", "-o", "name") as w:
        assert w.wait_line(lambda l: l.strip() != "") == "configmap/watched"
        cluster.kubectl("-n", ns, "patch", "cm", "other", "--type=merge", "-p", '{"data":{"a":"b"}}')
        cluster.kubectl("-n", ns, "patch", "cm", "watched", "--type=merge", "-p", '{"data":{"step":"3"}}')
        assert w.wait_line(lambda l: l.strip() != "") == "configmap/watched"
        assert "configmap/other" not in w.lines


def test_watch_json_stream(cluster, ns):
    """-o jsonpath on a watch prints the template once per event."""
    with cluster.kubectl_stream("-n", ns, "get", "cm", "-w", "-o", "jsonpath={.metadata.name}={.data.step}{\"\\n\"}") as w:
        cluster.kubectl("apply", "-f", "-", input=manifest(ns))
        assert w.wait_line(lambda l: l.startswith("watched=")) == "watched=1"
        cluster.kubectl("-n", ns, "patch", "cm", "watched", "--type=merge", "-p", '{"data":{"step":"2"}}')
        assert w.wait_line(lambda l: l.startswith("watched=")) == "watched=2"


def test_raw_watch_protocol(cluster, ns):
    """The wire format: one JSON event per line, starting after the given resourceVersion."""
    cluster.kubectl("apply", "-f", "-", input=manifest(ns))
    rv = cluster.get_json("-n", ns, "cm", "watched")["metadata"]["resourceVersion"]
    path = f"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=30"
    with cluster.kubectl_stream("get", "--raw", path) as w:
        cluster.kubectl("-n", ns, "patch", "cm", "watched", "--type=merge", "-p", '{"data":{"step":"2"}}')
        ev = json.loads(w.wait_line(lambda l: l.startswith("{")))
        assert ev["type"] == "MODIFIED"
        assert ev["object"]["kind"] == "ConfigMap" and ev["object"]["apiVersion"] == "v1"
        assert ev["object"]["data"]["step"] == "2"
        assert ev["object"]["metadata"]["resourceVersion"] != rv
        cluster.kubectl("-n", ns, "delete", "cm", "watched")
        ev = json.loads(w.wait_line(lambda l: l.startswith("{")))
        assert ev["type"] == "DELETED"
        assert ev["object"]["metadata"]["name"] == "watched"


def test_watch_from_resource_version_zero_starts_with_current_state(cluster, ns):
    cluster.kubectl("apply", "-f", "-", input=manifest(ns))
    path = f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion=0&timeoutSeconds=30"
    with cluster.kubectl_stream("get", "--raw", path) as w:
        ev = json.loads(w.wait_line(lambda l: '"name":"watched"' in l))
        assert ev["type"] == "ADDED" and ev["object"]["metadata"]["name"] == "watched"


def test_watch_bool_parameter_spellings(cluster, ns):
    """The API server parses query booleans like Go's ParseBool: watch=True (what the
    Python client sends) is a watch, not a list."""
    cluster.kubectl("apply", "-f", "-", input=manifest(ns))
    rv = cluster.get_json("-n", ns, "cm", "watched")["metadata"]["resourceVersion"]
    path = f"/api/v1/namespaces/{ns}/configmaps?watch=True&resourceVersion={rv}&timeoutSeconds=30"
    with cluster.kubectl_stream("get", "--raw", path) as w:
        cluster.kubectl("-n", ns, "patch", "cm", "watched", "--type=merge", "-p", '{"data":{"step":"5"}}')
        ev = json.loads(w.wait_line(lambda l: l.startswith("{")))
        assert ev.get("type") == "MODIFIED", ev
