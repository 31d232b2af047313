"""A second node: `kubes agent` joins a server (issue 3). The agent runs in a network
namespace of its own, linked to the host by a veth pair the test creates — two
machines' worth of networking on one — and its pods must reach the server node's pods
and back, while kubectl's logs/exec reach them through the apiserver."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import KUBES, Cluster, node_flags, wait_for


def sh(*argv, check=True):
    r = subprocess.run(list(argv), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {r.stderr}")
    return r


class Agent:
    def __init__(self, server, images_dir):
        self.k = int(server.node_flags[1].split(".")[1]) - 64  # the server's own number, so names never collide
        self.netns = f"kubes-e2e-agent-{self.k}"
        self.host_if, self.ns_if = f"kag{self.k}h", f"kag{self.k}n"
        self.host_ip, self.ip = f"10.250.{self.k}.1", f"10.250.{self.k}.2"
        self.name = f"agent-{self.k}"
        self.data_dir = tempfile.mkdtemp(prefix="kubes-agent-e2e-")
        os.makedirs(os.path.join(self.data_dir, "images", "import"))
        shutil.copy(os.path.join(images_dir, "busybox.tar"), os.path.join(self.data_dir, "images", "import"))
        self.proc = None
        self.server = server

    @staticmethod
    def link(k):
        """The host side of the link, created before the server so it can listen there."""
        netns, host_if, ns_if = f"kubes-e2e-agent-{k}", f"kag{k}h", f"kag{k}n"
        sh("ip", "netns", "add", netns)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        sh("ip", "link", "set", ns_if, "netns", netns)
        sh("ip", "addr", "add", f"10.250.{k}.1/30", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "-n", netns, "addr", "add", f"10.250.{k}.2/30", "dev", ns_if)
        sh("ip", "-n", netns, "link", "set", ns_if, "up")
        sh("ip", "-n", netns, "link", "set", "lo", "up")
        sh("ip", "-n", netns, "route", "add", "default", "via", f"10.250.{k}.1")

    @staticmethod
    def unlink(k):
        sh("ip", "netns", "del", f"kubes-e2e-agent-{k}", check=False)
        sh("ip", "link", "del", f"kag{k}h", check=False)

    def args(self):
        flags = self.server.node_flags
        return [KUBES, "agent", "--data-dir", self.data_dir, "--node-name", self.name, "--node-ip", self.ip,
                "--netns", f"/run/netns/{self.netns}", "--kubelet-port", "0",
                "--cluster-cidr", flags[flags.index("--cluster-cidr") + 1],
                "--service-cidr", flags[flags.index("--service-cidr") + 1]]

    def start(self):
        pki = os.path.join(self.server.data_dir, "pki")
        log = open(os.path.join(self.data_dir, "agent.log"), "ab")
        port = self.server.kubeconfig_port()
        self.proc = subprocess.Popen(self.args() + ["--server", f"https://{self.host_ip}:{port}",
                                                    "--token-file", os.path.join(pki, "admin.token"),
                                                    "--ca-file", os.path.join(pki, "ca.crt")],
                                     stdout=log, stderr=subprocess.STDOUT)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(self.args() + ["--cleanup"], capture_output=True, timeout=120)
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def two_nodes(starter_images):
    from conftest import start_node_cluster, stop_node_cluster
    flags = node_flags()
    k = int(flags[1].split(".")[1]) - 64
    Agent.unlink(k)
    Agent.link(k)
    server = agent = None
    try:
        server = start_node_cluster(starter_images, archives=("busybox.tar",),
                                    flags=flags + ["--address", f"10.250.{k}.1", "--node-ip", f"10.250.{k}.1",
                                                   # Above the kubelets' 10 s heartbeat (upstream
                                                   # wants it several beats long): a shorter one
                                                   # flips healthy nodes to Unknown between beats.
                                                   "--node-monitor-grace-period", "20s"])
        agent = Agent(server, starter_images)
        agent.start()
        wait_for(lambda: any(c["type"] == "Ready" and c["status"] == "True"
                             for c in server.get_json("node", agent.name)["status"].get("conditions", [])),
                 timeout=60, what="the agent's node to be Ready")
        yield server, agent
    finally:
        if agent:
            agent.stop()
        if server:
            stop_node_cluster(server)
        Agent.unlink(k)


def run_on(cluster, name, node, command):
    cluster.kubectl("apply", "-f", "-", input=f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  nodeSelector: {{kubernetes.io/hostname: {node}}}
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", {command!r}]
""".replace("'", '"'))


def test_agent_node_joins_and_runs_pods(two_nodes):
    server, agent = two_nodes
    nodes = server.kubectl("get", "nodes", "-o", "wide").stdout
    assert agent.name in nodes and server.node_name in nodes
    node = server.get_json("node", agent.name)
    assert node["spec"]["podCIDR"] != server.get_json("node", server.node_name)["spec"]["podCIDR"]
    assert {"type": "InternalIP", "address": agent.ip} in node["status"]["addresses"]
    lease = server.get_json("lease", agent.name, "-n", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == agent.name

    web = "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www"
    run_on(server, "web-agent", agent.name, web)
    run_on(server, "web-server", server.node_name, web)
    for p in ("web-agent", "web-server"):
        server.kubectl("wait", "--for=condition=Ready", f"pod/{p}", "--timeout=60s", timeout=70)
    pods = {p: server.get_json("pod", p) for p in ("web-agent", "web-server")}
    assert pods["web-agent"]["spec"]["nodeName"] == agent.name
    assert pods["web-agent"]["status"]["hostIP"] == agent.ip

    # Across nodes, both ways, through the routes between the nodes' pod ranges.
    for src, dst in (("web-server", "web-agent"), ("web-agent", "web-server")):
        ip = pods[dst]["status"]["podIP"]
        out = server.kubectl("exec", src, "--", "sh", "-c",
                             f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {ip} 8080").stdout
        assert out.endswith(f"hello from {dst}\n"), out

    # logs and exec of a pod on the agent go apiserver → the agent's kubelet.
    run_on(server, "talker", agent.name, "echo first; echo second; sleep 3600")
    server.kubectl("wait", "--for=condition=Ready", "pod/talker", "--timeout=60s", timeout=70)
    wait_for(lambda: server.kubectl("logs", "talker").stdout == "first\nsecond\n", what="the agent pod's logs")
    r = server.kubectl("exec", "-i", "talker", "--", "sh", "-c", "cat; exit 7", input="through the proxy\n",
                       check=False)
    assert r.returncode == 7 and r.stdout == "through the proxy\n"
    server.kubectl("delete", "pod", "web-agent", "web-server", "talker", "--grace-period=1")


def ds_pods(cluster):
    items = cluster.get_json("pods", "-l", "name=node-logger")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def test_daemonset_runs_one_pod_per_node_and_rolls(two_nodes):
    """issue 5: a DaemonSet on two nodes (examples/workloads/daemonset/)."""
    server, agent = two_nodes
    c = server
    manifest = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "workloads", "daemonset",
                            "daemonset.yaml")
    c.kubectl("apply", "-f", manifest)
    c.kubectl("rollout", "status", "daemonset/node-logger", "--timeout=90s", timeout=100)
    pods = ds_pods(c)
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted([server.node_name, agent.name])
    st = c.get_json("ds", "node-logger")["status"]
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberReady"],
            st["updatedNumberScheduled"], st["numberAvailable"]) == (2, 2, 2, 2, 2)
    row = c.kubectl("get", "ds", "node-logger").stdout.splitlines()[1].split()
    assert row[:6] == ["node-logger", "2", "2", "2", "2", "2"]
    tolerated = {t["key"] for t in pods[0]["spec"]["tolerations"]}
    assert {"node.kubernetes.io/unreachable", "node.kubernetes.io/unschedulable"} <= tolerated
    wait_for(lambda: all(" log files on " in c.kubectl("logs", p["metadata"]["name"]).stdout for p in pods),
             what="both daemons to log")

    # A new template rolls out node by node; the old revision stays in the history.
    old_hash = pods[0]["metadata"]["labels"]["controller-revision-hash"]
    c.kubectl("set", "env", "daemonset/node-logger", "VERBOSE=1")
    c.kubectl("rollout", "status", "daemonset/node-logger", "--timeout=90s", timeout=100)
    wait_for(lambda: len(ds_pods(c)) == 2 and all(
        p["metadata"]["labels"]["controller-revision-hash"] != old_hash for p in ds_pods(c)), timeout=60,
        what="both pods on the new revision")
    history = c.kubectl("rollout", "history", "daemonset/node-logger").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"], history
    assert len(c.get_json("controllerrevisions")["items"]) == 2
    c.kubectl("rollout", "undo", "daemonset/node-logger")
    c.kubectl("rollout", "status", "daemonset/node-logger", "--timeout=90s", timeout=100)
    wait_for(lambda: len(ds_pods(c)) == 2 and all(
        p["metadata"]["labels"]["controller-revision-hash"] == old_hash for p in ds_pods(c)), timeout=60,
        what="both pods back on the first revision")

    # A node selector that only the server's node matches: the agent's pod goes.
    c.kubectl("label", "node", server.node_name, "logging=on")
    c.kubectl("patch", "ds", "node-logger", "-p", '{"spec":{"template":{"spec":{"nodeSelector":{"logging":"on"}}}}}')
    wait_for(lambda: [p["spec"].get("nodeName") for p in ds_pods(c)] == [server.node_name], timeout=60,
             what="only the labelled node to run the daemon")
    c.kubectl("delete", "ds", "node-logger")
    c.kubectl("label", "node", server.node_name, "logging-")
    wait_for(lambda: not c.get_json("pods", "-l", "name=node-logger")["items"], timeout=60,
             what="the daemon pods to be gone")


def test_a_local_volume_brings_its_pods_back_to_its_node(two_nodes):
    """issue 3: a claim bound to a local-path volume on the agent's node keeps every later
    pod that uses it on that node (the scheduler's VolumeBinding filter), even when the
    pod itself prefers the other node."""
    server, agent = two_nodes
    c = server
    c.kubectl("apply", "-f", "-", input="""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: agent-data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  resources: {requests: {storage: 10Mi}}
""")
    try:
        pod = lambda name, affinity: f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  {affinity}
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "test -f /data/file || echo kept > /data/file; cat /data/file; sleep 3600"]
    volumeMounts: [{{name: data, mountPath: /data}}]
  volumes: [{{name: data, persistentVolumeClaim: {{claimName: agent-data}}}}]
"""
        c.kubectl("apply", "-f", "-", input=pod("writer", f"nodeSelector: {{kubernetes.io/hostname: {agent.name}}}"))
        c.kubectl("wait", "--for=condition=Ready", "pod/writer", "--timeout=60s", timeout=70)
        pv = c.get_json("pvc", "agent-data")["spec"]["volumeName"]
        terms = c.get_json("pv", pv)["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert agent.name in json.dumps(terms), terms
        c.kubectl("delete", "pod", "writer", "--grace-period=1", "--wait=true", timeout=90)
        # The reader prefers the server's node; the volume decides.
        prefer_server = ("affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
                         f"[{{weight: 100, preference: {{matchExpressions: [{{key: kubernetes.io/hostname, "
                         f"operator: In, values: [{server.node_name}]}}]}}}}]}}}}")
        c.kubectl("apply", "-f", "-", input=pod("reader", prefer_server))
        c.kubectl("wait", "--for=condition=Ready", "pod/reader", "--timeout=60s", timeout=70)
        assert c.get_json("pod", "reader")["spec"]["nodeName"] == agent.name
        wait_for(lambda: "kept" in c.kubectl("logs", "reader").stdout, what="the reader to see the writer's file")
    finally:
        c.kubectl("delete", "pod", "writer", "reader", "--ignore-not-found", "--grace-period=1", timeout=90)
        c.kubectl("delete", "pvc", "agent-data", "--ignore-not-found", timeout=90)


def test_silent_node_is_marked_and_its_pods_evicted(two_nodes):
    server, agent = two_nodes
    run_on(server, "patient", agent.name, "sleep 3600")
    server.kubectl("apply", "-f", "-", input=f"""
apiVersion: v1
kind: Pod
metadata: {{name: hasty}}
spec:
  nodeSelector: {{kubernetes.io/hostname: {agent.name}}}
  tolerations:
  - {{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}}
  containers:
  - {{name: main, image: "busybox:1.36", command: ["sleep", "3600"]}}
""")
    for p in ("patient", "hasty"):
        server.kubectl("wait", "--for=condition=Ready", f"pod/{p}", "--timeout=60s", timeout=70)
    agent.kill9()  # the node goes silent (its containers keep running)

    def ready_status():
        conds = server.get_json("node", agent.name)["status"]["conditions"]
        return [c for c in conds if c["type"] == "Ready"][0]
    ready = wait_for(lambda: ready_status()["status"] == "Unknown" and ready_status(), timeout=45,
                     what="the node to turn Unknown")
    assert ready["reason"] == "NodeStatusUnknown" and ready["message"] == "Kubelet stopped posting node status."
    assert "NotReady" in server.kubectl("get", "node", agent.name).stdout
    taints = {(t["key"], t["effect"]) for t in server.get_json("node", agent.name)["spec"]["taints"]}
    assert taints == {("node.kubernetes.io/unreachable", "NoExecute"), ("node.kubernetes.io/unreachable", "NoSchedule")}
    # The pod tolerating the taint for 2 s is evicted (it stays Terminating: no kubelet
    # can confirm its end); the one with the default 300 s stays, not Ready.
    hasty = wait_for(lambda: "deletionTimestamp" in server.get_json("pod", "hasty")["metadata"] and
                     server.get_json("pod", "hasty"), timeout=30, what="the eviction")
    assert any(c["type"] == "DisruptionTarget" and c["reason"] == "DeletionByTaintManager"
               for c in hasty["status"]["conditions"])
    patient = server.get_json("pod", "patient")
    assert "deletionTimestamp" not in patient["metadata"]
    assert [c["status"] for c in patient["status"]["conditions"] if c["type"] == "Ready"] == ["False"]
    # The node comes back: Ready again, taints gone, the evicted pod finally removed.
    agent.start()
    wait_for(lambda: ready_status()["status"] == "True", timeout=60, what="the node to be Ready again")
    wait_for(lambda: not server.get_json("node", agent.name)["spec"].get("taints"), what="the taints to go")
    wait_for(lambda: server.kubectl("get", "pod", "hasty", check=False).returncode != 0, timeout=60,
             what="the evicted pod to be gone")
    server.kubectl("wait", "--for=condition=Ready", "pod/patient", "--timeout=60s", timeout=70)
    server.kubectl("delete", "pod", "patient", "--grace-period=1")
