"""The node: pods run as real containers (issue 3). A kubes server with a node, the
starter images imported, and the real kubectl: what the Kubernetes docs say a user
sees, checked on real containers."""
import json
import os
import socket
import subprocess
import time

import pytest

from conftest import EXAMPLES, wait_for


def node_example(*parts):
    path = os.path.join(EXAMPLES, "node", *parts)
    assert os.path.exists(path), f"missing example {path}"
    return path


def pod(cluster, name, ns="default"):
    return cluster.get_json("pod", name, "-n", ns)


def container_state(cluster, name, index=0):
    statuses = pod(cluster, name).get("status", {}).get("containerStatuses", [])
    return statuses[index] if len(statuses) > index else {}


def wait_running(cluster, name, timeout=60):
    cluster.kubectl("wait", "--for=condition=Ready", f"pod/{name}", f"--timeout={timeout}s", timeout=timeout + 10)


def test_node_registers_with_machine_facts(node_cluster):
    node = node_cluster.get_json("node", node_cluster.node_name)
    status = node["status"]
    assert int(status["capacity"]["cpu"]) == os.cpu_count()
    assert status["capacity"]["pods"] == "110"
    assert status["nodeInfo"]["operatingSystem"] == "linux"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert node["spec"]["podCIDR"].endswith("/24")
    lease = node_cluster.get_json("lease", node_cluster.node_name, "-n", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == node_cluster.node_name
    out = node_cluster.kubectl("get", "nodes", "-o", "wide").stdout
    assert "Ready" in out and "Debian" in out


def test_docs_nginx_pod_runs_and_answers(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", node_example("pod"))
    wait_running(c, "nginx")
    p = pod(c, "nginx")
    assert p["spec"]["nodeName"] == c.node_name
    assert p["status"]["phase"] == "Running"
    ip = p["status"]["podIP"]
    assert ip.startswith(c.node_flags[1].split(".0.0/")[0])
    st = p["status"]["containerStatuses"][0]
    assert st["ready"] and st["started"] and st["restartCount"] == 0
    assert st["containerID"].startswith("kubes://")
    assert "running" in st["state"]
    conditions = {cond["type"]: cond["status"] for cond in p["status"]["conditions"]}
    assert conditions == {"PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True",
                          "ContainersReady": "True", "PodScheduled": "True"}
    events = c.kubectl("get", "events", "--field-selector", "involvedObject.name=nginx", "-o", "json").stdout
    reasons = [e["reason"] for e in json.loads(events)["items"]]
    for r in ("Scheduled", "Pulled", "Created", "Started"):
        assert r in reasons, reasons
    # Another pod reaches it over the pod network.
    c.kubectl("run", "client", "--image=busybox:1.36", "--restart=Never", "--command", "--",
              "sh", "-c", f"echo -e 'GET / HTTP/1.0\\r\\n\\r\\n' | nc {ip} 80")
    wait_for(lambda: pod(c, "client")["status"].get("phase") == "Succeeded", timeout=60, what="client to finish")
    assert "Welcome to nginx" in c.kubectl("logs", "client").stdout
    c.kubectl("delete", "pod", "client", "nginx", "--grace-period=1")


def test_crash_loop_backs_off_and_keeps_previous_logs(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", node_example("crashloop"))
    # Error first, then CrashLoopBackOff with the back-off in its message.
    seen = set()

    def looping():
        st = container_state(c, "crashloop")
        state = st.get("state", {})
        if "terminated" in state:
            seen.add(state["terminated"]["reason"])
        if "waiting" in state:
            seen.add(state["waiting"]["reason"])
        return st.get("restartCount", 0) >= 2 and "waiting" in state and \
            state["waiting"]["reason"] == "CrashLoopBackOff" and st
    st = wait_for(looping, timeout=60, what="CrashLoopBackOff after two restarts")
    assert "back-off 20s restarting failed container=app pod=crashloop_default" in st["state"]["waiting"]["message"]
    last = st["lastState"]["terminated"]
    assert last["exitCode"] == 1 and last["reason"] == "Error"
    assert pod(c, "crashloop")["status"]["phase"] == "Running"
    previous = c.kubectl("logs", "crashloop", "--previous").stdout
    assert previous == "starting\nsomething went wrong\n"
    out = c.kubectl("get", "pod", "crashloop").stdout
    assert "CrashLoopBackOff" in out
    events = json.loads(c.kubectl("get", "events", "--field-selector", "involvedObject.name=crashloop",
                                  "-o", "json").stdout)["items"]
    assert any(e["reason"] == "BackOff" and e["type"] == "Warning" for e in events)
    c.kubectl("delete", "pod", "crashloop", "--grace-period=1")


def test_memory_limit_is_oom_killed(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", node_example("oom"))
    wait_for(lambda: pod(c, "memory-demo")["status"].get("phase") == "Failed", timeout=60, what="pod to fail")
    term = container_state(c, "memory-demo")["state"]["terminated"]
    assert term["reason"] == "OOMKilled" and term["exitCode"] == 137
    assert "OOMKilled" in c.kubectl("get", "pod", "memory-demo").stdout
    c.kubectl("delete", "pod", "memory-demo")


def test_restart_policies_and_start_errors(node_cluster):
    c = node_cluster
    c.kubectl("run", "ok-once", "--image=busybox:1.36", "--restart=Never", "--command", "--", "true")
    c.kubectl("run", "fail-once", "--image=busybox:1.36", "--restart=Never", "--command", "--", "sh", "-c", "exit 4")
    c.kubectl("run", "no-such-command", "--image=busybox:1.36", "--restart=Never", "--command", "--", "/nope")
    wait_for(lambda: pod(c, "ok-once")["status"].get("phase") == "Succeeded", timeout=60, what="Succeeded")
    assert container_state(c, "ok-once")["state"]["terminated"]["reason"] == "Completed"
    wait_for(lambda: pod(c, "fail-once")["status"].get("phase") == "Failed", timeout=60, what="Failed")
    assert container_state(c, "fail-once")["state"]["terminated"]["exitCode"] == 4
    wait_for(lambda: pod(c, "no-such-command")["status"].get("phase") == "Failed", timeout=60, what="StartError")
    term = container_state(c, "no-such-command")["state"]["terminated"]
    assert term["reason"] == "StartError" and term["exitCode"] == 128
    assert "/nope" in term["message"]
    c.kubectl("delete", "pod", "ok-once", "fail-once", "no-such-command")


def test_missing_configmap_and_image_explain_themselves(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", "-", input="""
apiVersion: v1
kind: Pod
metadata: {name: needs-config}
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sleep", "3600"]
    env:
    - name: X
      valueFrom: {configMapKeyRef: {name: not-there, key: k}}
""")
    st = wait_for(lambda: container_state(c, "needs-config").get("state", {}).get("waiting", {}).get("reason")
                  == "CreateContainerConfigError" and container_state(c, "needs-config"), timeout=60,
                  what="CreateContainerConfigError")
    assert st["state"]["waiting"]["message"] == 'configmap "not-there" not found'
    # Creating the ConfigMap lets the pod start: nothing is stuck.
    c.kubectl("create", "configmap", "not-there", "--from-literal=k=v")
    wait_running(c, "needs-config")
    c.kubectl("run", "no-image", "--image=127.0.0.1:1/nothing:1", "--restart=Never")
    wait_for(lambda: container_state(c, "no-image").get("state", {}).get("waiting", {}).get("reason")
             in ("ErrImagePull", "ImagePullBackOff"), timeout=60, what="ErrImagePull")
    wait_for(lambda: container_state(c, "no-image")["state"]["waiting"]["reason"] == "ImagePullBackOff",
             timeout=60, what="ImagePullBackOff")
    c.kubectl("delete", "pod", "needs-config", "no-image", "--grace-period=1")


def test_logs_exec_cp_and_port_forward(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", node_example("streaming"))
    wait_running(c, "toolbox")
    with c.kubectl_stream("logs", "-f", "toolbox", "-c", "ticker") as follow:
        first = follow.wait_line(lambda l: l.startswith("tick "), what="a tick")
        n = int(first.split()[1])
        follow.wait_line(lambda l: l == f"tick {n + 2}", what="the log to grow")
    assert c.kubectl("logs", "toolbox", "-c", "ticker", "--tail=1").stdout.count("\n") == 1
    assert "Z tick" in c.kubectl("logs", "toolbox", "-c", "ticker", "--tail=1", "--timestamps").stdout
    # exec: output, stdin, exit code.
    r = c.kubectl("exec", "toolbox", "-c", "ticker", "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert r.returncode == 3 and r.stdout == "out\n" and "err" in r.stderr
    r = c.kubectl("exec", "-i", "toolbox", "-c", "ticker", "--", "tr", "a-z", "A-Z", input="shout\n")
    assert r.stdout == "SHOUT\n"
    # A terminal: kubectl under a pseudo-terminal gets one in the container.
    r = subprocess.run(["script", "-qec", "kubectl exec -it toolbox -c ticker -- sh -c 'test -t 0 && echo tty-ok'",
                        "/dev/null"], capture_output=True, text=True, env=c.env(), timeout=60)
    assert "tty-ok" in r.stdout
    # cp both ways.
    src = os.path.join(c.data_dir, "cp-src.txt")
    with open(src, "w") as f:
        f.write("copied\n")
    c.kubectl("cp", src, "toolbox:/tmp/in.txt", "-c", "ticker")
    assert c.kubectl("exec", "toolbox", "-c", "ticker", "--", "cat", "/tmp/in.txt").stdout == "copied\n"
    back = os.path.join(c.data_dir, "cp-back.txt")
    c.kubectl("cp", "toolbox:/tmp/in.txt", back, "-c", "ticker")
    assert open(back).read() == "copied\n"
    # port-forward to the web server in the other container, several connections.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with c.kubectl_stream("port-forward", "pod/toolbox", f"{port}:8080") as pf:
        pf.wait_line(lambda l: l.startswith("Forwarding from 127.0.0.1"), what="port-forward to listen")
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while True:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            assert data.startswith(b"HTTP/1.") and data.endswith(b"hello from toolbox\n"), data
    # Errors are upstream's.
    # (kubectl itself picks the first container; the API asks for a name.)
    r = c.kubectl("get", "--raw", "/api/v1/namespaces/default/pods/toolbox/log", check=False)
    assert "a container name must be specified for pod toolbox, choose one of: [ticker server]" in r.stderr
    r = c.kubectl("logs", "toolbox", "-c", "nope", check=False)
    assert "container nope is not valid for pod toolbox" in r.stderr
    c.kubectl("delete", "pod", "toolbox", "--grace-period=1")


def test_graceful_deletion_waits_for_the_container(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", "-", input="""
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "trap 'echo ignoring TERM' TERM; while true; do sleep 0.1; done"]
""")
    wait_running(c, "stubborn")
    start = time.monotonic()
    c.kubectl("delete", "pod", "stubborn")
    took = time.monotonic() - start
    assert 2.5 <= took <= 15, took  # SIGTERM ignored: SIGKILL after the 3 s grace period
    events = json.loads(c.kubectl("get", "events", "--field-selector", "involvedObject.name=stubborn",
                                  "-o", "json").stdout)["items"]
    assert any(e["reason"] == "Killing" and e["message"] == "Stopping container app" for e in events)


def test_volumes_and_env(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", node_example("volumes"))
    wait_running(c, "volumes-demo")
    env = c.kubectl("exec", "volumes-demo", "-c", "writer", "--", "env").stdout
    assert "GREETING=hello" in env and "PASSWORD=s3cr3t" in env and "MESSAGE=hello world" in env
    out = c.kubectl("exec", "volumes-demo", "-c", "writer", "--", "cat", "/etc/app/app.properties",
                    "/etc/secret/password").stdout
    assert out == "color=blue\ns3cr3t"
    wait_for(lambda: c.kubectl("exec", "volumes-demo", "-c", "reader", "--", "cat", "/shared/now",
                               check=False).stdout.strip(), what="the shared emptyDir to be written")
    token = c.kubectl("exec", "volumes-demo", "-c", "writer", "--", "cat",
                      "/var/run/secrets/kubernetes.io/serviceaccount/namespace").stdout
    assert token == "default"
    c.kubectl("delete", "-f", node_example("volumes"), "--grace-period=1")


def test_pods_survive_kill_9_and_are_adopted(node_cluster):
    c = node_cluster
    c.kubectl("run", "survivor", "--image=busybox:1.36", "--command", "--", "sh", "-c",
              "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done")
    wait_running(c, "survivor")
    before = container_state(c, "survivor")
    c.kill9_and_restart()
    wait_for(lambda: any(cond["type"] == "Ready" and cond["status"] == "True"
                         for cond in c.get_json("node", c.node_name)["status"]["conditions"]), what="node Ready")
    after = wait_for(lambda: container_state(c, "survivor").get("ready") and container_state(c, "survivor"),
                     what="the pod to be reported again")
    assert after["containerID"] == before["containerID"], "the same container, not a new one"
    assert after["restartCount"] == 0
    # Its log kept going while kubes was down: no line is missing.
    lines = c.kubectl("logs", "survivor").stdout.split("\n")[:-1]
    assert lines == [f"line {i}" for i in range(len(lines))]
    c.kubectl("delete", "pod", "survivor", "--grace-period=1")


def test_cleanup_leaves_nothing_behind(starter_images):
    from conftest import start_node_cluster, stop_node_cluster
    c = start_node_cluster(starter_images, archives=("busybox.tar",))
    try:
        c.kubectl("run", "a", "--image=busybox:1.36", "--command", "--", "sleep", "3600")
        wait_running(c, "a")
        uid = pod(c, "a")["metadata"]["uid"]
        # The node's bridge is the interface holding its pod range's first address.
        gateway = c.get_json("node", c.node_name)["spec"]["podCIDR"].replace(".0/24", ".1")
        bridge = subprocess.run(["ip", "-o", "addr", "show", "to", gateway], capture_output=True,
                                text=True).stdout.split()[1]
        assert bridge.startswith("kubes-")
        instance = bridge[len("kubes-"):]
        assert os.path.exists(f"/run/kubes/{instance}/netns/{uid}")
    finally:
        stop_node_cluster(c)
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert bridge not in links
    assert "unreachable " + c.node_flags[1] not in subprocess.run(["ip", "route"], capture_output=True,
                                                                  text=True).stdout
    mounts = open("/proc/mounts").read()
    assert uid not in mounts and c.data_dir not in mounts
    assert not os.path.exists(f"/run/kubes/{instance}")
    leftover = subprocess.run(["find", "/sys/fs/cgroup", "-maxdepth", "2", "-name", f"kubes-{instance}"],
                              capture_output=True, text=True).stdout
    assert leftover == ""


def test_hello_example_runs_its_pod(node_cluster):
    """The sample scripts/up.sh applies: its Pod runs nginx with the ConfigMap's greeting."""
    c = node_cluster
    c.kubectl("apply", "-f", os.path.join(EXAMPLES, "hello"))
    wait_running(c, "hello-web")
    assert c.kubectl("exec", "hello-web", "--", "sh", "-c", "echo \"$GREETING\"").stdout == "Hello from kubes\n"
    c.kubectl("delete", "-f", os.path.join(EXAMPLES, "hello"), "--grace-period=1")


def test_dual_stack_pods_reach_each_other_over_ipv6(starter_images):
    """With an IPv4 and an IPv6 --cluster-cidr, every pod gets one address of each."""
    from conftest import node_flags, start_node_cluster, stop_node_cluster
    flags = node_flags()
    v4 = flags[flags.index("--cluster-cidr") + 1]
    flags[flags.index("--cluster-cidr") + 1] = v4 + ",fd" + format(int(v4.split(".")[1]), "02x") + "::/56"
    c = start_node_cluster(starter_images, archives=("busybox.tar",), flags=flags)
    try:
        assert len(c.get_json("node", c.node_name)["spec"]["podCIDRs"]) == 2
        c.kubectl("run", "v6-server", "--image=busybox:1.36", "--command", "--", "sh", "-c",
                  "while true; do echo over-ipv6 | nc -l -p 8080; done")
        c.kubectl("run", "v6-client", "--image=busybox:1.36", "--command", "--", "sleep", "3600")
        wait_running(c, "v6-server")
        wait_running(c, "v6-client")
        ips = [p["ip"] for p in pod(c, "v6-server")["status"]["podIPs"]]
        assert len(ips) == 2 and "." in ips[0] and ":" in ips[1], ips
        out = wait_for(lambda: c.kubectl("exec", "v6-client", "--", "nc", "-w", "3", ips[1], "8080",
                                         check=False).stdout, what="an answer over IPv6")
        assert out == "over-ipv6\n"
    finally:
        stop_node_cluster(c)


def test_container_logs_rotate(node_cluster):
    """Past --container-log-max-size (64Ki in these tests) a log is rotated: at most five
    files stay, and logs keep flowing into the new one."""
    c = node_cluster
    c.kubectl("run", "chatty", "--image=busybox:1.36", "--command", "--", "sh", "-c",
              "i=0; while true; do echo line $i $(head -c 300 /dev/zero | tr '\\0' x); i=$((i+1)); "
              "[ $((i % 200)) = 0 ] && sleep 0.2; done")
    wait_running(c, "chatty")
    uid = pod(c, "chatty")["metadata"]["uid"]
    logs = os.path.join(c.data_dir, "logs", "pods", f"default_chatty_{uid}", "chatty")
    wait_for(lambda: len(os.listdir(logs)) >= 3, timeout=60, what="the log to be rotated twice")
    files = os.listdir(logs)
    assert "0.log" in files and len(files) <= 5, files
    assert all(f == "0.log" or f.startswith("0.log.") for f in files), files
    # The current file is small again and still growing; kubectl logs reads it.
    # (Right after a rotation the current file can be empty for a moment, as upstream's.)
    last = wait_for(lambda: (lambda t: t if t.startswith("line ") else None)(
        c.kubectl("logs", "chatty", "--tail=1").stdout), what="a last line")
    n = int(last.split()[1])
    wait_for(lambda: (lambda t: t.startswith("line ") and int(t.split()[1]) > n)(
        c.kubectl("logs", "chatty", "--tail=1").stdout), what="more lines")
    c.kubectl("delete", "pod", "chatty", "--grace-period=1")


def test_persistent_volume_claim_on_local_path(node_cluster):
    c = node_cluster
    sc = c.get_json("storageclass", "local-path")
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    manifest = node_example("storage")
    c.kubectl("apply", "-f", manifest)
    claim = c.get_json("pvc", "notes")
    assert claim["spec"]["storageClassName"] == "local-path", "the default class is filled in"
    wait_running(c, "writer")
    claim = c.get_json("pvc", "notes")
    assert claim["status"]["phase"] == "Bound"
    pv = c.get_json("pv", claim["spec"]["volumeName"])
    assert pv["status"]["phase"] == "Bound" and pv["spec"]["claimRef"]["name"] == "notes"
    path = pv["spec"]["hostPath"]["path"]
    assert path.startswith(os.path.join(c.data_dir, "storage"))
    assert len(c.kubectl("logs", "writer").stdout.splitlines()) == 1
    # A new pod on the same claim sees what the first wrote.
    c.kubectl("delete", "pod", "writer", "--grace-period=1")
    c.kubectl("apply", "-f", manifest)
    wait_running(c, "writer")
    wait_for(lambda: len(c.kubectl("logs", "writer").stdout.splitlines()) == 2, what="the second visit")
    # Deleting the claim deletes the volume and its data.
    c.kubectl("delete", "-f", manifest, "--grace-period=1")
    wait_for(lambda: c.kubectl("get", "pv", pv["metadata"]["name"], check=False).returncode != 0, timeout=60,
             what="the volume to be deleted")
    assert not os.path.exists(path)


def test_termination_messages(node_cluster):
    """terminationMessagePath is read when the container ends; FallbackToLogsOnError uses
    the log's tail when the file is empty and the container failed."""
    c = node_cluster
    c.kubectl("apply", "-f", "-", input="""
apiVersion: v1
kind: Pod
metadata: {name: says-why}
spec:
  restartPolicy: Never
  containers:
  - name: file
    image: busybox:1.36
    command: ["sh", "-c", "echo -n 'disk full' > /dev/termination-log; exit 2"]
  - name: logs
    image: busybox:1.36
    terminationMessagePolicy: FallbackToLogsOnError
    command: ["sh", "-c", "echo first; echo the real reason; exit 1"]
  - name: custom
    image: busybox:1.36
    terminationMessagePath: /tmp/why
    command: ["sh", "-c", "echo -n custom path > /tmp/why"]
""")
    wait_for(lambda: pod(c, "says-why")["status"].get("phase") == "Failed", timeout=60, what="the pod to fail")
    by_name = {s["name"]: s["state"]["terminated"] for s in pod(c, "says-why")["status"]["containerStatuses"]}
    assert by_name["file"]["message"] == "disk full" and by_name["file"]["exitCode"] == 2
    assert by_name["logs"]["message"] == "first\nthe real reason\n"
    assert by_name["custom"]["message"] == "custom path" and by_name["custom"]["reason"] == "Completed"
    c.kubectl("delete", "pod", "says-why")


def test_security_context_user_and_capabilities(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", "-", input="""
apiVersion: v1
kind: Pod
metadata: {name: locked-down}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 3000}
  containers:
  - name: app
    image: busybox:1.36
    command: ["sleep", "3600"]
    securityContext:
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
""")
    wait_running(c, "locked-down")
    assert c.kubectl("exec", "locked-down", "--", "id").stdout.startswith("uid=1000 gid=3000")
    r = c.kubectl("exec", "locked-down", "--", "touch", "/x", check=False)
    assert r.returncode != 0 and "Read-only file system" in r.stderr
    status = c.kubectl("exec", "locked-down", "--", "grep", "CapEff", "/proc/self/status").stdout
    assert status.split()[1] == "0000000000000000"
    c.kubectl("delete", "pod", "locked-down", "--grace-period=1")
    c.kubectl("run", "root-needed", "--image=busybox:1.36", "--restart=Never",
              "--overrides", json.dumps({"spec": {"securityContext": {"runAsNonRoot": True}}}), "--command", "--",
              "true")
    st = wait_for(lambda: container_state(c, "root-needed").get("state", {}).get("waiting", {}).get("reason")
                  == "CreateContainerConfigError" and container_state(c, "root-needed"), timeout=60,
                  what="runAsNonRoot to refuse")
    assert st["state"]["waiting"]["message"].startswith("container has runAsNonRoot and image will run as root")
    c.kubectl("delete", "pod", "root-needed")


def test_host_port_and_host_network(node_cluster):
    c = node_cluster
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c.kubectl("apply", "-f", "-", input=f"""
apiVersion: v1
kind: Pod
metadata: {{name: hostport}}
spec:
  containers:
  - name: web
    image: busybox:1.36
    command: ["sh", "-c", "mkdir -p /www && echo via-hostport > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports:
    - {{containerPort: 80, hostPort: {port}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: hostnet}}
spec:
  hostNetwork: true
  containers:
  - {{name: c, image: "busybox:1.36", command: ["sleep", "3600"]}}
""")
    wait_running(c, "hostport")
    wait_running(c, "hostnet")

    def fetch():
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
            return data
    assert wait_for(fetch, what="the hostPort to answer").endswith(b"via-hostport\n")
    hn = pod(c, "hostnet")["status"]
    assert hn["podIP"] == hn["hostIP"]
    assert c.kubectl("exec", "hostnet", "--", "hostname").stdout.strip() == socket.gethostname()
    c.kubectl("delete", "pod", "hostport", "hostnet", "--grace-period=1")
