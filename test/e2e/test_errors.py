"""Error messages for bad input, as upstream's API server words them
(examples/api/errors/)."""
import json

import pytest

from conftest import example

NS = "errors-demo"


@pytest.fixture(scope="module", autouse=True)
def namespace(cluster):
    cluster.create_namespace(NS)


def fail(cluster, *args, **kw):
    r = cluster.kubectl(*args, check=False, **kw)
    assert r.returncode != 0, f"expected kubectl {' '.join(args)} to fail:\n{r.stdout}"
    return r.stderr.strip()


def err_file(name):
    return example("errors", name)


def test_invalid_name(cluster):
    msg = ('The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase '
           "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    assert fail(cluster, "apply", "-f", err_file("bad-name.yaml")) == msg
    assert fail(cluster, "create", "-f", err_file("bad-name.yaml")) == msg


def test_invalid_status_body(cluster):
    """The Status object behind a 422: reason, code, details.causes."""
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}})
    code, status = cluster.raw_request("POST", f"/api/v1/namespaces/{NS}/configmaps", body)
    assert code == 422
    assert status["kind"] == "Status" and status["apiVersion"] == "v1"
    assert status["status"] == "Failure"
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ')
    assert status["details"]["name"] == "Bad_Name" and status["details"]["kind"] == "ConfigMap"
    (cause,) = status["details"]["causes"]
    assert cause["reason"] == "FieldValueInvalid"
    assert cause["field"] == "metadata.name"
    assert cause["message"].startswith('Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain')


def test_not_found_status_body(cluster):
    code, status = cluster.raw_request("GET", f"/api/v1/namespaces/{NS}/configmaps/nothing")
    assert code == 404
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": 'configmaps "nothing" not found', "reason": "NotFound",
                      "details": {"name": "nothing", "kind": "configmaps"}, "code": 404}


def test_unknown_field_strict(cluster):
    msg = ('Error from server (BadRequest): error when creating "{f}": Deployment in version "v1" cannot be '
           'handled as a Deployment: strict decoding error: unknown field "spec.foo"')
    f = err_file("unknown-field.yaml")
    assert fail(cluster, "apply", "-f", f) == msg.format(f=f)
    assert fail(cluster, "create", "-f", f, "--validate=strict") == msg.format(f=f)


def test_unknown_field_warn(cluster):
    f = err_file("unknown-field.yaml")
    r = cluster.kubectl("create", "-f", f, "--validate=warn")
    assert r.stdout.strip() == "deployment.apps/unknown-field created"
    assert r.stderr.strip() == 'Warning: unknown field "spec.foo"'
    assert "foo" not in cluster.get_json("-n", NS, "deploy", "unknown-field")["spec"]
    r = cluster.kubectl("apply", "-f", f, "--validate=false")
    # Ignore: dropped silently (kubectl itself still warns that the object was not made by apply).
    assert "unknown field" not in r.stderr


def test_wrong_type(cluster):
    f = err_file("wrong-type.yaml")
    assert fail(cluster, "apply", "-f", f) == (
        f'Error from server (BadRequest): error when creating "{f}": Deployment in version "v1" cannot be '
        'handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas '
        'of type int32')


def test_malformed_yaml(cluster):
    f = err_file("malformed.yaml")
    assert fail(cluster, "apply", "-f", f) == \
        f"error: error parsing {f}: error converting YAML to JSON: yaml: line 6: mapping values are not allowed in this context"


def test_malformed_json_body(cluster):
    code, status = cluster.raw_request("POST", f"/api/v1/namespaces/{NS}/configmaps",
                                       b'{"apiVersion":"v1","kind":"ConfigMap",')
    assert code == 400
    assert status["reason"] == "BadRequest"
    assert status["message"].startswith(
        "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: ")


def test_unsupported_media_type(cluster):
    code, status = cluster.raw_request("POST", f"/api/v1/namespaces/{NS}/configmaps", b"a=b",
                                       content_type="text/plain")
    assert code == 415
    assert status["reason"] == "UnsupportedMediaType"


def test_missing_namespace(cluster):
    f = err_file("missing-namespace.yaml")
    assert fail(cluster, "apply", "-f", f) == \
        f'Error from server (NotFound): error when creating "{f}": namespaces "does-not-exist" not found'


def test_invalid_values(cluster):
    lines = fail(cluster, "apply", "-f", err_file("invalid-values.yaml")).splitlines()
    assert lines[0] == 'The Service "invalid-values" is invalid: '
    assert '* spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", ' \
           '"LoadBalancer", "NodePort"' in lines
    assert "* spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive" in lines


def test_missing_required(cluster):
    lines = fail(cluster, "apply", "-f", err_file("missing-required.yaml")).splitlines()
    assert lines[0] == 'The Deployment "missing-required" is invalid: '
    assert "* spec.selector: Required value" in lines
    assert "* spec.template.spec.containers[0].image: Required value" in lines


def test_unknown_kind(cluster):
    f = err_file("unknown-kind.yaml")
    assert fail(cluster, "apply", "-f", f).splitlines() == [
        f'error: resource mapping not found for name: "foo" namespace: "{NS}" from "{f}": '
        'no matches for kind "Foo" in version "v1"',
        "ensure CRDs are installed first"]


def test_unknown_resource(cluster):
    assert fail(cluster, "get", "foos") == 'error: the server doesn\'t have a resource type "foos"'


def test_already_exists(cluster):
    cluster.kubectl("apply", "-f", err_file("frozen-configmap.yaml"))
    f = err_file("frozen-configmap.yaml")
    assert fail(cluster, "create", "-f", f) == \
        f'Error from server (AlreadyExists): error when creating "{f}": configmaps "frozen" already exists'


def test_immutable_configmap(cluster):
    cluster.kubectl("apply", "-f", err_file("frozen-configmap.yaml"))
    msg = fail(cluster, "-n", NS, "patch", "cm", "frozen", "-p", '{"data":{"a":"2"}}')
    assert msg == 'The ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    msg = fail(cluster, "-n", NS, "patch", "cm", "frozen", "-p", '{"immutable":false}')
    assert msg == 'The ConfigMap "frozen" is invalid: immutable: Forbidden: field is immutable when `immutable` is set'
    # Metadata can still change.
    cluster.kubectl("-n", NS, "label", "cm", "frozen", "touched=yes")


def test_immutable_job_template(cluster):
    cluster.kubectl("apply", "-f", err_file("job.yaml"))
    msg = fail(cluster, "-n", NS, "patch", "job", "once", "--type=json", "-p",
               '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"busybox:1.37"}]')
    assert msg.startswith('The Job "once" is invalid: spec.template: Invalid value: ')
    assert msg.endswith(": field is immutable")
    job = cluster.get_json("-n", NS, "job", "once")
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.36"


def test_immutable_deployment_selector(cluster):
    cluster.kubectl("-n", NS, "create", "deployment", "sel", "--image=nginx:1.25")
    lines = fail(cluster, "-n", NS, "patch", "deploy", "sel", "--type=merge",
                 "-p", '{"spec":{"selector":{"matchLabels":{"app":"other"}},'
                       '"template":{"metadata":{"labels":{"app":"other"}}}}}').splitlines()
    assert lines[0].startswith('The Deployment "sel" is invalid: spec.selector: Invalid value: ')
    assert lines[0].endswith(": field is immutable")


def test_stale_resource_version_conflict(cluster, tmp_path):
    cluster.kubectl("-n", NS, "create", "cm", "racy", "--from-literal=a=1")
    stale = tmp_path / "racy.json"
    stale.write_text(cluster.kubectl("-n", NS, "get", "cm", "racy", "-o", "json").stdout)
    cluster.kubectl("-n", NS, "label", "cm", "racy", "someone=else")
    msg = fail(cluster, "replace", "-f", str(stale))
    assert msg == (f'Error from server (Conflict): error when replacing "{stale}": Operation cannot be fulfilled '
                   'on configmaps "racy": the object has been modified; please apply your changes to the latest '
                   'version and try again')


def test_patch_missing_object(cluster):
    assert fail(cluster, "-n", NS, "patch", "cm", "nothing", "-p", '{"data":{"a":"1"}}') == \
        'Error from server (NotFound): configmaps "nothing" not found'


def test_body_over_3_mib(cluster, tmp_path):
    big = tmp_path / "4MiB"
    big.write_bytes(b"a" * (4 * 1024 * 1024))
    assert fail(cluster, "-n", NS, "create", "configmap", "big", f"--from-file={big}") == \
        "error: failed to create configmap: Request entity too large: limit is 3145728"


def test_configmap_over_1_mib(cluster, tmp_path):
    mid = tmp_path / "1.5MiB"
    mid.write_bytes(b"a" * (1536 * 1024))
    assert fail(cluster, "-n", NS, "create", "configmap", "mid", f"--from-file={mid}") == \
        'error: failed to create configmap: ConfigMap "mid" is invalid: []: Too long: may not be more than 1048576 bytes'
