"""Pulling images: a local registry (Debian's docker-registry on 127.0.0.1) holds the
starter images under their usual names, and one mirror line per upstream registry in
<data-dir>/registries.yaml lets manifests that say `busybox` or `registry.k8s.io/busybox`
run unchanged (issue 3)."""
import json
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from conftest import ROOT, start_node_cluster, stop_node_cluster, wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def registry(starter_images):
    binary = shutil.which("docker-registry")
    if not binary:
        pytest.skip("docker-registry is not installed")
    work = tempfile.mkdtemp(prefix="kubes-registry-e2e-")
    port = free_port()
    config = os.path.join(work, "config.yml")
    with open(config, "w") as f:
        f.write(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {work}/data\n"
                f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n")
    proc = subprocess.Popen([binary, "serve", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def up():
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        wait_for(up, what="the registry to listen")
        r = subprocess.run(["bash", os.path.join(ROOT, "images", "push.sh"), starter_images, f"127.0.0.1:{port}"],
                           capture_output=True, text=True, timeout=600, env=dict(os.environ, TMPDIR=work))
        assert r.returncode == 0, r.stderr
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def mirrored_cluster(starter_images, registry):
    """A node with no images of its own, pulling only through the local mirror."""
    c = start_node_cluster(starter_images, archives=(), registries=(
        "mirrors:\n"
        f"  docker.io:\n    endpoint: [\"http://{registry}\"]\n"
        f"  registry.k8s.io:\n    endpoint: [\"http://{registry}\"]\n"))
    try:
        yield c
    finally:
        stop_node_cluster(c)


def events(c, name):
    out = c.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json").stdout
    return [(e["reason"], e["message"]) for e in json.loads(out)["items"]]


def test_manifests_run_unchanged_through_the_mirror(mirrored_cluster):
    c = mirrored_cluster
    for name, image in (("short", "busybox"), ("tagged", "busybox:1.28"), ("k8s", "registry.k8s.io/busybox")):
        c.kubectl("run", name, f"--image={image}", "--restart=Never", "--command", "--", "sh", "-c", "echo pulled")
    for name in ("short", "tagged", "k8s"):
        wait_for(lambda: c.get_json("pod", name)["status"].get("phase") == "Succeeded", timeout=120,
                 what=f"pod {name} to run")
        assert c.kubectl("logs", name).stdout == "pulled\n"
        reasons = [r for r, _ in events(c, name)]
        assert "Pulling" in reasons and "Pulled" in reasons, events(c, name)
    st = c.get_json("pod", "short")["status"]["containerStatuses"][0]
    assert st["image"] == "docker.io/library/busybox:latest"
    assert "@sha256:" in st["imageID"]
    pulled = [m for r, m in events(c, "short") if r == "Pulled"][0]
    assert pulled.startswith('Successfully pulled image "busybox" in ') and "Image size: " in pulled
    # The image is now in the node's store: kubes image ls shows it.
    out = subprocess.run([os.path.join(ROOT, "build", "kubes"), "image", "--data-dir", c.data_dir, "ls"],
                         capture_output=True, text=True).stdout
    assert "docker.io/library/busybox" in out
    c.kubectl("delete", "pod", "short", "tagged", "k8s")


def test_missing_image_is_err_image_pull_then_back_off(mirrored_cluster):
    c = mirrored_cluster
    c.kubectl("run", "missing", "--image=busybox:no-such-tag", "--restart=Never")

    def waiting_reason():
        st = c.get_json("pod", "missing")["status"].get("containerStatuses", [{}])[0]
        return st.get("state", {}).get("waiting", {}).get("reason")
    wait_for(lambda: waiting_reason() in ("ErrImagePull", "ImagePullBackOff"), timeout=60, what="ErrImagePull")
    failed = [m for r, m in events(c, "missing") if r == "Failed" and m.startswith("Failed to pull")]
    assert failed and 'docker.io/library/busybox:no-such-tag: not found' in failed[0], events(c, "missing")
    wait_for(lambda: waiting_reason() == "ImagePullBackOff", timeout=60, what="ImagePullBackOff")
    assert any(r == "BackOff" and m == 'Back-off pulling image "busybox:no-such-tag"' for r, m in events(c, "missing"))
    c.kubectl("delete", "pod", "missing")
