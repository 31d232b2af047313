"""End-to-end fixtures: a real `kubes server` on a free port in a temp dir, driven by
the real kubectl and the official Python client.

Every test module gets its own server (module-scoped fixture) so tests stay
independent without paying a start-up per test. Helpers wait on conditions with a
deadline; nothing sleeps a fixed time.
"""
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
    """One running kubes server and the means to talk to it."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.kubeconfig = os.path.join(data_dir, "kubeconfig.yaml")
        self.proc = None
        self.log_path = os.path.join(data_dir, "server.log")

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [KUBES, "server", "--data-dir", self.data_dir, "--port", "0"],
            stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0,
                 what="kubes server to be ready")

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
