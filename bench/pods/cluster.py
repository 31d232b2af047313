"""The kubes side of the pod benchmark: a `kubes server` with a node in the run's
directory, a small HTTPS API client (standard library only) and one pod watch that
timestamps, on the client, when each pod is first seen Running and Ready.

Thread-safety: Api keeps one keep-alive connection per thread; PodWatch is read from any
thread under its condition variable.
"""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time

from host import log, monitor_pids, stop_pid

BUSYBOX = "busybox:1.36"


def pod_manifest(name):
    """The pod every phase creates, for kubes and (as a file) for podman alike."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "podbench"}},
            "spec": {"restartPolicy": "Never",
                     "containers": [{"name": "sleep", "image": BUSYBOX, "command": ["sleep", "3600"]}]}}


class ApiError(RuntimeError):
    pass


class Api:
    """JSON requests to the kubes API over HTTPS with the admin bearer token, the server
    certificate checked against the cluster CA."""

    def __init__(self, port, token, cafile):
        self.port = port
        self._token = token
        self._ctx = ssl.create_default_context(cafile=cafile)
        self._local = threading.local()

    def connect(self, timeout=60):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self._ctx, timeout=timeout)

    def headers(self, with_body=False):
        h = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if with_body:
            h["Content-Type"] = "application/json"
        return h

    def _conn(self):
        if getattr(self._local, "conn", None) is None:
            self._local.conn = self.connect()
        return self._local.conn

    def request(self, method, path, body=None):
        """(status, parsed body). Retries once on a dropped keep-alive connection."""
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, path, body=data, headers=self.headers(data is not None))
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, None

    def must(self, method, path, body=None, ok=(200, 201)):
        status, obj = self.request(method, path, body)
        if status not in ok:
            raise ApiError(f"{method} {path}: HTTP {status}: {(obj or {}).get('message', obj)}")
        return obj

    def create_pod(self, ns, name):
        status, obj = self.request("POST", f"/api/v1/namespaces/{ns}/pods", pod_manifest(name))
        # 409 after a retried POST means the first attempt got through.
        if status not in (201, 409):
            raise ApiError(f"create pod {ns}/{name}: HTTP {status}: {(obj or {}).get('message', obj)}")

    def create_namespace(self, ns, timeout=30):
        self.must("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        # Pods are admitted once the namespace's default ServiceAccount exists.
        deadline = time.monotonic() + timeout
        while self.request("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")[0] != 200:
            if time.monotonic() > deadline:
                raise ApiError(f"namespace {ns}: no default ServiceAccount after {timeout} s")
            time.sleep(0.05)

    def pod_names(self, ns):
        return [p["metadata"]["name"] for p in self.must("GET", f"/api/v1/namespaces/{ns}/pods")["items"]]


def is_ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions", []))


class PodWatch:
    """One watch on every pod in the cluster (or, with `path`, on every object of another
    collection, e.g. /apis/apps/v1/replicasets). For each namespace/name it keeps the
    monotonic time at which the event first showing it, showing it Running, showing it
    Ready and deleting it was read here — so latencies are measured with the client's
    clock to the ms."""

    def __init__(self, api, path="/api/v1/pods"):
        self.api = api
        self.path = path
        self.seen = {}
        self.running = {}
        self.ready = {}
        self.deleted = {}
        self.errors = []
        self.cond = threading.Condition()
        self._stop = False
        self._conn = None
        self._sock = None
        self._rv = None
        self._thread = None

    def start(self):
        self._relist()
        self._thread = threading.Thread(target=self._run, name="pod-watch", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop = True
        sock = self._sock  # the response may hold the socket after the connection let go of it
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(timeout=5)

    def _relist(self):
        lst = self.api.must("GET", self.path)
        now = time.monotonic()
        listed = set()
        for pod in lst["items"]:
            self._note(pod, now)
            listed.add(self._key(pod))
        with self.cond:  # gone while no watch was open
            for key in self.seen.keys() - listed - self.deleted.keys():
                self.deleted[key] = now
            self.cond.notify_all()
        self._rv = lst["metadata"]["resourceVersion"]

    def _run(self):
        while not self._stop:
            try:
                self._conn = self.api.connect(timeout=None)
                self._conn.connect()
                self._sock = self._conn.sock
                self._conn.request("GET", f"{self.path}?watch=1&allowWatchBookmarks=true&resourceVersion={self._rv}",
                                   headers=self.api.headers())
                resp = self._conn.getresponse()
                if resp.status == 410:
                    self._relist()
                    continue
                if resp.status != 200:
                    raise ApiError(f"watch: HTTP {resp.status}")
                while not self._stop:
                    line = resp.readline()
                    if not line:
                        break  # the server ended the watch: start a new one from _rv
                    now = time.monotonic()
                    self._event(json.loads(line), now)
            except (OSError, http.client.HTTPException, ValueError, ApiError) as e:
                if self._stop:
                    return
                self.errors.append(str(e))
                time.sleep(0.2)
            finally:
                if self._conn is not None:
                    self._conn.close()

    def _event(self, ev, now):
        obj = ev.get("object", {})
        if ev.get("type") == "ERROR":
            if obj.get("code") == 410:
                self._relist()
            return
        self._rv = obj.get("metadata", {}).get("resourceVersion", self._rv)
        if ev.get("type") in ("ADDED", "MODIFIED"):
            self._note(obj, now)
        elif ev.get("type") == "DELETED":
            with self.cond:
                self.deleted.setdefault(self._key(obj), now)
                self.cond.notify_all()

    @staticmethod
    def _key(obj):
        return f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}"

    def _note(self, pod, now):
        key = self._key(pod)
        with self.cond:
            changed = key not in self.seen
            self.seen.setdefault(key, now)
            if pod.get("status", {}).get("phase") == "Running" and key not in self.running:
                self.running[key] = now
                changed = True
            if is_ready(pod) and key not in self.ready:
                self.ready[key] = now
                changed = True
            if changed:
                self.cond.notify_all()

    def wait(self, which, keys, timeout):
        """Waits until every key is in `which` (self.seen, running, ready or deleted);
        returns the keys still missing at the deadline."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                missing = [k for k in keys if k not in which]
                left = deadline - time.monotonic()
                if not missing or left <= 0:
                    return missing
                self.cond.wait(min(left, 0.5))


def parallel_create(api, ns, names, threads, create=None):
    """Creates the pods (or, with `create(name)`, anything else) from `threads` threads
    at once, each on a keep-alive connection opened (TLS handshake done) before the
    start. Returns {name: monotonic send time}."""
    create = create or (lambda name: api.create_pod(ns, name))
    sent = {}
    errors = []
    barrier = threading.Barrier(threads + 1)

    def worker(mine):
        try:
            api.request("GET", "/version")  # opens this thread's connection
        except OSError as e:
            errors.append(str(e))
        barrier.wait()
        for name in mine:
            sent[name] = time.monotonic()
            try:
                create(name)
            except (ApiError, OSError, http.client.HTTPException) as e:
                errors.append(str(e))

    workers = [threading.Thread(target=worker, args=(names[i::threads],)) for i in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    for w in workers:
        w.join()
    if errors:
        raise ApiError(f"{len(errors)} creates failed, first: {errors[0]}")
    return sent


class KubesServer:
    """`kubes server` with a node, in its own session, stopped by PID; `cleanup` runs the
    same flags with --cleanup, which removes every container, network and cgroup the node
    made."""

    def __init__(self, binary, data_dir, flags):
        self.binary = binary
        self.data_dir = data_dir
        self.flags = ["--data-dir", data_dir] + flags
        self.proc = None
        self.api = None

    def start(self, state, timeout=60):
        log_file = open(os.path.join(self.data_dir, "server.log"), "ab")
        self.proc = subprocess.Popen([self.binary, "server", *self.flags, "--port", "0"], stdout=log_file,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log_file.close()
        state.set("kubes_pid", self.proc.pid)
        kubeconfig = os.path.join(self.data_dir, "kubeconfig.yaml")
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kubes server exited with {self.proc.returncode}; see {self.data_dir}/server.log")
            if time.monotonic() > deadline:
                raise RuntimeError("kubes server not ready in time")
            port = self._port(kubeconfig)
            token = os.path.join(self.data_dir, "pki", "admin.token")
            if port and os.path.exists(token):
                with open(token) as f:
                    api = Api(port, f.read().strip(), os.path.join(self.data_dir, "pki", "ca.crt"))
                try:
                    if api.request("GET", "/readyz")[0] == 200:
                        self.api = api
                        return
                except (OSError, http.client.HTTPException):
                    pass
            time.sleep(0.05)

    @staticmethod
    def _port(kubeconfig):
        try:
            with open(kubeconfig) as f:
                m = re.search(r"server:\s*https://[^:\s]+:(\d+)", f.read())
                return int(m.group(1)) if m else None
        except OSError:
            return None

    def wait_node_ready(self, name, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, node = self.api.request("GET", f"/api/v1/nodes/{name}")
            if status == 200 and is_ready(node):
                return node
            time.sleep(0.1)
        raise RuntimeError(f"node {name} not Ready after {timeout} s")

    def monitors(self):
        """The node's kubes-monitor processes, one per container."""
        return monitor_pids(self.data_dir)


    def delete_pods(self, ns, timeout=180):
        """Deletes every pod of `ns` at once (grace period 0) and waits until the API lists
        none and no container monitor of this node is left, so the next phase starts from an idle node."""
        status, _ = self.api.request("DELETE", f"/api/v1/namespaces/{ns}/pods?gracePeriodSeconds=0")
        if status != 200:
            for name in self.api.pod_names(ns):
                self.api.request("DELETE", f"/api/v1/namespaces/{ns}/pods/{name}?gracePeriodSeconds=0")
        deadline = time.monotonic() + timeout
        while self.api.pod_names(ns) or self.monitors():
            if time.monotonic() > deadline:
                raise RuntimeError(f"pods of {ns} not gone after {timeout} s "
                                   f"({len(self.api.pod_names(ns))} listed, {len(self.monitors())} monitors)")
            time.sleep(0.2)

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc.pid, self.binary)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    @staticmethod
    def cleanup(binary, flags, timeout=300):
        """Stops nothing: removes what the node made. Run after the server has stopped."""
        r = subprocess.run([binary, "server", *flags, "--cleanup"], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            log(f"kubes --cleanup exited {r.returncode}: {r.stderr.strip()[-500:]}")
