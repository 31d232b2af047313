"""End-to-end fixtures: a real `kubes server` on a free port in a temp dir, driven by
the real kubectl and the official Python client.

Every test module gets its own server (module-scoped fixture) so tests stay
independent without paying a start-up per test. Helpers wait on conditions with a
deadline; nothing sleeps a fixed time.
"""
import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KUBES = os.environ.get("KUBES_BINARY", os.path.join(ROOT, "build", "kubes"))
EXAMPLES = os.path.join(ROOT, "examples")


def wait_for(predicate, timeout=20.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a truthy value; fails the test after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # the server may not be up yet
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last result: {last!r}")


class Cluster:
    """One running kubes server and the means to talk to it. Without `node_flags` it
    runs only the control plane (--disable-node); with them it also runs a node."""

    def __init__(self, data_dir, node_flags=None):
        self.data_dir = data_dir
        self.kubeconfig = os.path.join(data_dir, "kubeconfig.yaml")
        self.proc = None
        self.log_path = os.path.join(data_dir, "server.log")
        self.node_flags = node_flags

    def server_args(self):
        args = [KUBES, "server", "--data-dir", self.data_dir]
        return args + (self.node_flags if self.node_flags is not None else ["--disable-node"])

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.server_args() + ["--port", "0"], stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0,
                 what="kubes server to be ready")

    def kubeconfig_port(self):
        """The port the server listens on (from its kubeconfig)."""
        with open(self.kubeconfig) as f:
            for line in f:
                if "server:" in line:
                    return int(line.rsplit(":", 1)[1])
        raise AssertionError("no server in the kubeconfig")

    def cleanup_node(self):
        """Removes every container, network namespace, veth and cgroup the node made."""
        if self.node_flags is not None:
            subprocess.run(self.server_args() + ["--cleanup"], capture_output=True, timeout=120)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9_and_restart(self):
        self.stop(signal.SIGKILL)
        self.start()

    def kubectl(self, *args, input=None, check=True, env=None, timeout=60):
        # TMPDIR: kubectl edit leaves its files there when an edit is rejected; keep them
        # in the cluster's directory, which the fixture removes.
        full_env = dict(os.environ, KUBECONFIG=self.kubeconfig, KUBECACHEDIR=os.path.join(self.data_dir, "kcache"),
                        TMPDIR=self.data_dir)
        if env:
            full_env.update(env)
        r = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True,
                           env=full_env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r

    def get_json(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def env(self, extra=None):
        """The environment kubectl runs with against this cluster."""
        e = dict(os.environ, KUBECONFIG=self.kubeconfig, KUBECACHEDIR=os.path.join(self.data_dir, "kcache"),
                 TMPDIR=self.data_dir)
        if extra:
            e.update(extra)
        return e

    def kubectl_stream(self, *args):
        """Starts a long-running kubectl (e.g. `get -w`); use as a context manager so the
        process is always killed."""
        return Stream(["kubectl", *args], self.env())

    def create_namespace(self, name):
        self.kubectl("create", "namespace", name)
        return name

    def python_client(self):
        """A kubernetes.client.ApiClient configured from this cluster's kubeconfig."""
        import kubernetes
        return kubernetes.config.new_client_from_config(config_file=self.kubeconfig)

    def raw_request(self, method, path, body=b"", content_type="application/json"):
        """Sends exactly these bytes (with the admin credentials) and returns
        (HTTP status, parsed JSON body or None)."""
        api = self.python_client()
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if api.configuration.api_key.get("authorization"):
            headers["Authorization"] = api.configuration.api_key["authorization"]
        r = api.rest_client.pool_manager.request(method, api.configuration.host + path, body=body,
                                                 headers=headers, preload_content=True)
        try:
            return r.status, json.loads(r.data)
        except ValueError:
            return r.status, None


def example(*parts):
    """Path of a file or folder under examples/api/ (the tests use the published examples)."""
    path = os.path.join(EXAMPLES, "api", *parts)
    assert os.path.exists(path), f"missing example {path}"
    return path


class Stream:
    """A running process whose stdout lines are collected by a thread, so tests can wait
    for a line with a deadline instead of sleeping."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.lines = []
        self._queue = queue.Queue()
        self._stderr = []
        self._stderr_cond = threading.Condition()
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._queue), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, None), daemon=True).start()

    def _pump(self, pipe, q):
        for line in pipe:
            if q is None:
                with self._stderr_cond:
                    self._stderr.append(line)
                    self._stderr_cond.notify_all()
            else:
                q.put(line.rstrip("\n"))

    def wait_stderr(self, predicate, timeout=20.0, what="a matching stderr line"):
        """Waits for a stderr line (e.g. kubectl's -v=6 request log) for which predicate is true."""
        deadline = time.monotonic() + timeout
        with self._stderr_cond:
            while True:
                for line in self._stderr:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; stderr: {''.join(self._stderr)!r}")
                self._stderr_cond.wait(min(remaining, 0.2))

    def wait_line(self, predicate, timeout=20.0, what="a matching line"):
        """Returns the first new line for which predicate(line) is true."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; lines so far: {self.lines!r}; "
                                     f"stderr: {''.join(self._stderr)!r}")
            try:
                line = self._queue.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if self.proc.poll() is not None and self._queue.empty():
                    raise AssertionError(f"process exited ({self.proc.returncode}) before {what}; "
                                         f"lines: {self.lines!r}; stderr: {''.join(self._stderr)!r}")
                continue
            self.lines.append(line)
            if predicate(line):
                return line

    def drain(self):
        """Every stdout line received so far (also those wait_line already returned)."""
        while True:
            try:
                self.lines.append(self._queue.get_nowait())
            except queue.Empty:
                return list(self.lines)

    @property
    def stderr(self):
        return "".join(self._stderr)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture(scope="module")
def cluster():
    data_dir = tempfile.mkdtemp(prefix="kubes-e2e-")
    c = Cluster(data_dir)
    try:
        c.start()
        yield c
    finally:
        c.stop()
        if os.environ.get("KUBES_KEEP_DATA") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)


# ---- clusters with a node --------------------------------------------------------------

_node_clusters = 0


def node_flags():
    """Flags for a cluster with a node, with address ranges and names of its own so that
    clusters never collide (even two test runs at once)."""
    global _node_clusters
    _node_clusters += 1
    k = (os.getpid() * 7 + _node_clusters) % 60
    # Pulls go only through mirrors the tests configure, never to the internet.
    return ["--cluster-cidr", f"10.{64 + k}.0.0/16", "--service-cidr", f"10.{128 + k}.0.0/16",
            "--node-name", f"node-{k}", "--disable-default-registry-endpoint", "--container-log-max-size", "64Ki"]


@pytest.fixture(scope="session")
def starter_images():
    """The starter images (busybox, nginx, redis) as OCI archives, built once from
    Debian packages by images/build.sh (cached across runs)."""
    if os.geteuid() != 0:
        pytest.skip("running containers needs root")
    out = os.environ.get("KUBES_IMAGES_DIR") or os.path.join(ROOT, "build", "images")
    r = subprocess.run(["bash", os.path.join(ROOT, "images", "build.sh"), out], capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, f"images/build.sh failed:\n{r.stdout}\n{r.stderr}"
    return out


def start_node_cluster(images_dir, archives=("busybox.tar", "nginx.tar", "redis.tar"), flags=None,
                       registries=None):
    data_dir = tempfile.mkdtemp(prefix="kubes-node-e2e-")
    if registries:
        with open(os.path.join(data_dir, "registries.yaml"), "w") as f:
            f.write(registries)
    # Archives in <data dir>/images/import are imported when the node starts.
    import_dir = os.path.join(data_dir, "images", "import")
    os.makedirs(import_dir)
    for a in archives:
        src = os.path.join(images_dir, a)
        if os.path.exists(src):
            os.link(src, os.path.join(import_dir, a)) if os.stat(src).st_dev == os.stat(import_dir).st_dev \
                else shutil.copy(src, import_dir)
    c = Cluster(data_dir, flags or node_flags())
    c.start()
    c.node_name = c.node_flags[c.node_flags.index("--node-name") + 1]
    wait_for(lambda: any(cond["type"] == "Ready" and cond["status"] == "True"
                         for cond in c.get_json("node", c.node_name)["status"].get("conditions", [])),
             timeout=60, what="the node to be Ready")
    return c


def stop_node_cluster(c):
    c.stop()
    c.cleanup_node()
    if os.environ.get("KUBES_KEEP_DATA") != "1":
        shutil.rmtree(c.data_dir, ignore_errors=True)


@contextlib.contextmanager
def applied(c, paths, grace_period=None):
    """Applies the manifests (one path or a list); deletes everything they made
    afterwards, also on failure."""
    args = [a for p in ([paths] if isinstance(paths, str) else paths) for a in ("-f", p)]
    grace = [f"--grace-period={grace_period}"] if grace_period is not None else []
    try:
        c.kubectl("apply", *args)
        yield
    finally:
        c.kubectl("delete", *args, *grace, "--ignore-not-found", "--wait=true", "--timeout=90s",
                  check=False, timeout=120)


@pytest.fixture(scope="module")
def demo_node_cluster(starter_images):
    """A cluster with a node and the busybox and kubes-demo images, one per test module."""
    assert os.path.exists(os.path.join(starter_images, "kubes-demo.tar")), "images/build.sh made no kubes-demo.tar"
    c = start_node_cluster(starter_images, archives=("busybox.tar", "kubes-demo.tar"))
    try:
        yield c
    finally:
        stop_node_cluster(c)


@pytest.fixture(scope="module")
def node_cluster(starter_images):
    c = start_node_cluster(starter_images)
    try:
        yield c
    finally:
        stop_node_cluster(c)
