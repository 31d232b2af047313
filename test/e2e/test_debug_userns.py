"""Ephemeral containers and user namespaces on a real node (issue 4), through the
examples under examples/pods/ephemeral-containers/ and examples/pods/user-namespaces/.

- `kubectl debug -i POD --image=busybox:1.36 --target=app` adds an ephemeral container
  in app's PID namespace: `ps` in it shows app's process. It runs once, is reported in
  status.ephemeralContainerStatuses, its log and events are its own, and the API
  refuses what ephemeral containers may not have.
- `hostUsers: false` pods get disjoint 65536-ID ranges outside the host's own IDs;
  their root is an unprivileged ID on the host; their volumes are readable and
  writable; the ranges survive a kubes restart.
"""
import json
import os
import pty
import queue
import select
import subprocess
import threading

import pytest

from conftest import EXAMPLES, wait_for

EPHEMERAL = os.path.join(EXAMPLES, "pods", "ephemeral-containers")
USERNS = os.path.join(EXAMPLES, "pods", "user-namespaces")


@pytest.fixture(scope="module")
def cluster(demo_node_cluster):
    return demo_node_cluster


def running(c, name):
    p = c.get_json("pod", name)
    statuses = p.get("status", {}).get("containerStatuses", [])
    return p if statuses and all("running" in s["state"] for s in statuses) else None


class Interactive:
    """kubectl with a stdin pipe, its stdout read line by line (no TTY)."""

    def __init__(self, c, *args):
        self.proc = subprocess.Popen(["kubectl", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=c.env())
        self.lines = queue.Queue()
        self.seen = []
        self.errors = []
        threading.Thread(target=lambda: [self.lines.put(l.rstrip("\n")) for l in self.proc.stdout],
                         daemon=True).start()
        threading.Thread(target=lambda: [self.errors.append(l) for l in self.proc.stderr], daemon=True).start()

    def send(self, text):
        try:
            self.proc.stdin.write(text)
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.proc.wait()
            raise AssertionError(f"kubectl exited ({self.proc.returncode}): {''.join(self.errors)}")

    def wait_line(self, predicate, what):
        def found():
            while not self.lines.empty():
                self.seen.append(self.lines.get())
                if predicate(self.seen[-1]):
                    return True
            return False
        wait_for(found, timeout=60, what=f"{what} (lines: {self.seen})")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def test_kubectl_debug_sees_the_targets_processes(cluster):
    c = cluster
    c.kubectl("apply", "-f", EPHEMERAL)
    try:
        wait_for(lambda: running(c, "ephemeral-demo"), timeout=60, what="ephemeral-demo to run")
        # As a user would type at the prompt: `ps`, see the answer, then `exit`.
        s = Interactive(c, "debug", "-i", "ephemeral-demo", "--image=busybox:1.36", "--target=app",
                        "--container=debugger")
        try:
            # kubectl says this once the container runs, just before it attaches.
            wait_for(lambda: any("see a command prompt" in l for l in s.errors), timeout=60,
                     what="kubectl debug to attach")
            s.send("ps\n")
            s.wait_line(lambda l: "kubes-demo" in l, "app's process in ps")
            s.send("exit\n")
            s.proc.stdin.close()
            assert s.proc.wait(timeout=60) == 0, "".join(s.errors)
        finally:
            s.stop()
        # PID 1 of the shared namespace is app's process, not the debugger's shell.
        assert any(l.split()[:1] == ["1"] and "kubes-demo" in l for l in s.seen), s.seen

        def finished():
            p = c.get_json("pod", "ephemeral-demo")
            st = p["status"].get("ephemeralContainerStatuses", [])
            return st[0] if st and "terminated" in st[0]["state"] else None
        st = wait_for(finished, timeout=30, what="the debugger's terminated status")
        assert st["name"] == "debugger"
        assert st["ready"] is False and st["restartCount"] == 0
        assert st["state"]["terminated"]["exitCode"] == 0 and st["state"]["terminated"]["reason"] == "Completed"
        assert st["containerID"].startswith("kubes://") and st["imageID"]
        assert st["image"] == "docker.io/library/busybox:1.36"
        # Never restarted: the pod's restartPolicy is Always, yet after further status
        # writes (app keeps running, the kubelet resyncs) it stays terminated.
        c.kubectl("label", "pod", "ephemeral-demo", "poke=1")  # a new sync of the pod
        wait_for(lambda: c.get_json("pod", "ephemeral-demo")["metadata"]["labels"].get("poke") == "1")
        st2 = c.get_json("pod", "ephemeral-demo")["status"]["ephemeralContainerStatuses"][0]
        assert "terminated" in st2["state"] and st2["containerID"] == st["containerID"]
        # Its log, its events, and describe's section.
        assert "kubes-demo" in c.kubectl("logs", "ephemeral-demo", "-c", "debugger").stdout
        events = c.get_json("events", "--field-selector", "involvedObject.name=ephemeral-demo")["items"]
        reasons = {e["reason"] for e in events
                   if e["involvedObject"].get("fieldPath") == "spec.ephemeralContainers{debugger}"}
        assert {"Created", "Started"} <= reasons, reasons
        described = c.kubectl("describe", "pod", "ephemeral-demo").stdout
        assert "Ephemeral Containers:" in described and "debugger:" in described
    finally:
        c.kubectl("delete", "-f", EPHEMERAL, "--grace-period=1", "--ignore-not-found", "--wait=true",
                  check=False, timeout=120)


def test_kubectl_debug_with_a_terminal(cluster):
    """The documentation's `kubectl debug -it … --target=…`, typed at a terminal: kubectl
    needs a TTY for -t, so the test gives it a pseudo-terminal and plays the user."""
    c = cluster
    c.kubectl("apply", "-f", EPHEMERAL)
    master, slave = pty.openpty()
    proc = None
    try:
        wait_for(lambda: running(c, "ephemeral-demo"), timeout=60, what="ephemeral-demo to run")
        proc = subprocess.Popen(["kubectl", "debug", "-it", "ephemeral-demo", "--image=busybox:1.36",
                                 "--target=app", "--container=shell"],
                                stdin=slave, stdout=slave, stderr=slave, env=c.env(), start_new_session=True)
        os.close(slave)
        seen = bytearray()

        def screen_has(text):
            while select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the terminal is gone: kubectl exited
                    break
                if not chunk:
                    break
                seen.extend(chunk)
            return text.encode() in seen
        # busybox sh's prompt once attached (kubectl asks to press enter if it missed it).
        os.write(master, b"\n")
        wait_for(lambda: screen_has("# "), timeout=60, what=f"the debugger's prompt (screen: {bytes(seen)!r})")
        os.write(master, b"ps -o pid,args\n")
        wait_for(lambda: screen_has("/usr/local/bin/kubes-demo"), timeout=30,
                 what=f"app's process in ps (screen: {bytes(seen)!r})")
        os.write(master, b"exit\n")
        assert proc.wait(timeout=60) == 0, bytes(seen)
        st = c.get_json("pod", "ephemeral-demo")["status"]["ephemeralContainerStatuses"]
        shell = next(s for s in st if s["name"] == "shell")
        wait_for(lambda: "terminated" in next(s for s in c.get_json("pod", "ephemeral-demo")["status"]
                                               ["ephemeralContainerStatuses"] if s["name"] == "shell")["state"],
                 timeout=30, what="the debugger to end")
        assert shell["restartCount"] == 0
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        c.kubectl("delete", "-f", EPHEMERAL, "--grace-period=1", "--ignore-not-found", "--wait=true",
                  check=False, timeout=120)


def test_validation_errors_reach_kubectl(cluster):
    c = cluster
    c.kubectl("apply", "-f", EPHEMERAL)
    try:
        patch = {"spec": {"ephemeralContainers": [{"name": "bad", "image": "busybox:1.36",
                                                   "ports": [{"containerPort": 80}]}]}}
        r = c.kubectl("patch", "pod", "ephemeral-demo", "--subresource=ephemeralcontainers", "--type=strategic",
                      "-p", json.dumps(patch), check=False)
        assert r.returncode != 0
        assert "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container" in r.stderr
        # A plain update cannot add one either.
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "direct"},
               "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}],
                        "ephemeralContainers": [{"name": "e", "image": "busybox:1.36"}]}}
        r = c.kubectl("create", "-f", "-", input=json.dumps(pod), check=False)
        assert r.returncode != 0 and "spec.ephemeralContainers: Forbidden: cannot be set on create" in r.stderr
    finally:
        c.kubectl("delete", "-f", EPHEMERAL, "--grace-period=1", "--ignore-not-found", "--wait=true",
                  check=False, timeout=120)
    # hostUsers: false shares no host namespace (upstream's words and field names).
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "userns-host"},
           "spec": {"hostUsers": False, "hostNetwork": True, "hostPID": True,
                    "containers": [{"name": "c", "image": "busybox:1.36"}]}}
    r = c.kubectl("create", "-f", "-", input=json.dumps(pod), check=False)
    assert r.returncode != 0
    assert "spec.hostNetwork: Forbidden: when `pod.Spec.HostUsers` is false" in r.stderr
    assert "spec.HostPID: Forbidden: when `pod.Spec.HostUsers` is false" in r.stderr


def uid_map(c, name):
    """(container id, host id, length) from the line the example's pods log first."""
    def line():
        for l in c.kubectl("logs", name, check=False).stdout.splitlines():
            if l.startswith("uid_map:"):
                return tuple(int(x) for x in l.split()[1:4])
        return None
    return wait_for(line, timeout=30, what=f"{name}'s uid_map line")


def host_uid_of(pattern, host_id):
    """The host uid of a process whose command line contains pattern and runs as host_id."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode()
            with open(f"/proc/{pid}/status") as f:
                uid = next(int(l.split()[1]) for l in f if l.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if pattern in cmd and uid == host_id:
            return uid
    return None


def test_user_namespaces(cluster):
    c = cluster
    c.kubectl("apply", "-f", USERNS)
    try:
        for name in ("userns-demo-1", "userns-demo-2"):
            wait_for(lambda: running(c, name), timeout=60, what=f"{name} to run")
        m1, m2 = uid_map(c, "userns-demo-1"), uid_map(c, "userns-demo-2")
        for m in (m1, m2):
            assert m[0] == 0 and m[2] == 65536, m
            assert m[1] >= 65536 and m[1] % 65536 == 0, m  # never the host's own IDs
        assert m1[1] + 65536 <= m2[1] or m2[1] + 65536 <= m1[1], (m1, m2)  # disjoint
        # Root inside; on the host the process runs as the pod's first host ID.
        log = c.kubectl("logs", "userns-demo-1").stdout
        assert "uid=0(root) gid=0(root)" in log, log
        assert wait_for(lambda: host_uid_of("sleep 3600", m1[1]), what="the pod's process on the host") == m1[1]
        # Volumes: the configMap is readable, the emptyDir writable, and what root wrote
        # belongs to root as the pod sees it.
        assert "hello from a configMap" in log and "written by root in the pod" in log, log
        assert any(l.split()[2:4] == ["0", "0"] and l.endswith("/scratch/file") for l in log.splitlines()), log
        # The pod's network namespace belongs to the pod's user namespace: `kubectl exec`
        # enters both, and root in the pod may bind a port below 1024 without help.
        out = c.kubectl("exec", "userns-demo-1", "--", "sh", "-c",
                        "cat /proc/self/uid_map; nc -l -p 80 -e true </dev/null >/dev/null 2>&1 & "
                        "sleep 0.5; netstat -ltn; kill $!", timeout=60).stdout
        assert out.split()[:3] == ["0", str(m1[1]), "65536"], out
        assert ":80 " in out, out

        # A restart of kubes adopts the pods with the ranges they have, and a new pod
        # gets a range of its own (the allocations came back from disk).
        c.kill9_and_restart()
        wait_for(lambda: running(c, "userns-demo-1") and running(c, "userns-demo-2"), timeout=60,
                 what="the pods after the restart")
        pods_dir = os.path.join(c.data_dir, "pods")
        uids = {n: c.get_json("pod", n)["metadata"]["uid"] for n in ("userns-demo-1", "userns-demo-2")}
        for n, m in (("userns-demo-1", m1), ("userns-demo-2", m2)):
            with open(os.path.join(pods_dir, uids[n], "userns")) as f:
                assert json.load(f)["uidMappings"][0]["hostId"] == m[1]
        third = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "userns-demo-3"},
                 "spec": {"hostUsers": False, "terminationGracePeriodSeconds": 1,
                          "containers": [{"name": "shell", "image": "busybox:1.36",
                                          "command": ["sh", "-c", 'echo "uid_map: $(cat /proc/self/uid_map)"; '
                                                      "exec sleep 3600"]}]}}
        c.kubectl("create", "-f", "-", input=json.dumps(third))
        m3 = uid_map(c, "userns-demo-3")
        assert m3[1] not in (m1[1], m2[1]), (m1, m2, m3)
        assert uid_map(c, "userns-demo-1") == m1
    finally:
        c.kubectl("delete", "pod", "userns-demo-3", "--grace-period=1", "--ignore-not-found", "--wait=true",
                  check=False, timeout=120)
        c.kubectl("delete", "-f", USERNS, "--grace-period=1", "--ignore-not-found", "--wait=true",
                  check=False, timeout=120)
