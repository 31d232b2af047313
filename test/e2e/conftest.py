"""End-to-end fixtures: a real `kubes server` on a free port in a temp dir, driven by
the real kubectl and the official Python client.

Every test module gets its own server (module-scoped fixture) so tests stay
independent without paying a start-up per test. Helpers wait on conditions with a
deadline; nothing sleeps a fixed time.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
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
        full_env = dict(os.environ, KUBECONFIG=self.kubeconfig, KUBECACHEDIR=os.path.join(self.data_dir, "kcache"))
        if env:
            full_env.update(env)
        r = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True,
                           env=full_env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r

    def get_json(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)


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
