"""Workload controllers (issue 5): Deployments and ReplicaSets on a node with real
containers, driven by the real kubectl as the Kubernetes docs' Deployment page does it
(examples/workloads/deployment/)."""
import json
import os

import pytest

from conftest import EXAMPLES, wait_for


def example(*parts):
    path = os.path.join(EXAMPLES, "workloads", *parts)
    assert os.path.exists(path), f"missing example {path}"
    return path


def pods_of(c, selector, ns="default"):
    items = c.get_json("pods", "-l", selector, "-n", ns)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def replica_sets(c, selector):
    return {rs["metadata"]["name"]: rs for rs in c.get_json("rs", "-l", selector)["items"]}


def rollout_status(c, name, timeout=120):
    return c.kubectl("rollout", "status", f"deployment/{name}", f"--timeout={timeout}s", timeout=timeout + 10)


def http_get_from_pod(c, ips, name="client"):
    """Fetches / from each IP with a busybox pod on the pod network; returns its log."""
    script = "; ".join(f"echo -e 'GET / HTTP/1.0\\r\\n\\r\\n' | nc {ip} 80" for ip in ips)
    c.kubectl("run", name, "--image=busybox:1.36", "--restart=Never", "--command", "--", "sh", "-c", script)
    wait_for(lambda: c.get_json("pod", name)["status"].get("phase") in ("Succeeded", "Failed"), timeout=60,
             what=f"{name} to finish")
    out = c.kubectl("logs", name).stdout
    c.kubectl("delete", "pod", name, "--grace-period=0", "--force", check=False)
    return out


def test_deployment_runs_three_nginx_pods_that_answer_http(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("deployment", "nginx-deployment.yaml"))
    out = rollout_status(c, "nginx-deployment").stdout
    assert 'deployment "nginx-deployment" successfully rolled out' in out

    d = c.get_json("deployment", "nginx-deployment")
    st = d["status"]
    assert (st["replicas"], st["updatedReplicas"], st["readyReplicas"], st["availableReplicas"]) == (3, 3, 3, 3)
    conds = {x["type"]: x for x in st["conditions"]}
    assert conds["Available"]["status"] == "True" and conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    table = c.kubectl("get", "deployment", "nginx-deployment").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:4] == ["nginx-deployment", "3/3", "3", "3"]

    rss = replica_sets(c, "app=nginx")
    assert len(rss) == 1
    (rs_name, rs), = rss.items()
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs_name == f"nginx-deployment-{pod_hash}"
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"

    pods = pods_of(c, "app=nginx")
    assert len(pods) == 3
    for p in pods:
        assert p["metadata"]["name"].startswith(rs_name + "-")
        assert p["metadata"]["labels"]["pod-template-hash"] == pod_hash
        assert p["status"]["phase"] == "Running"
    log = http_get_from_pod(c, [p["status"]["podIP"] for p in pods])
    assert log.count("HTTP/1.1 200 OK") == 3, log

    # Self-healing: a deleted pod is replaced.
    victim = pods[0]["metadata"]["name"]
    c.kubectl("delete", "pod", victim, "--grace-period=1")
    wait_for(lambda: len([p for p in pods_of(c, "app=nginx") if p["metadata"]["name"] != victim
                          and any(x["type"] == "Ready" and x["status"] == "True"
                                  for x in p["status"].get("conditions", []))]) == 3,
             timeout=60, what="a replacement pod")
    events = json.loads(c.kubectl("get", "events", "--field-selector", f"involvedObject.name={rs_name}",
                                  "-o", "json").stdout)["items"]
    messages = [e["message"] for e in events if e["reason"] == "SuccessfulCreate"]
    assert len(messages) >= 4 and all(m.startswith("Created pod: " + rs_name) for m in messages), messages


def test_rolling_update_history_and_undo(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("deployment", "nginx-deployment.yaml"))
    rollout_status(c, "nginx-deployment")
    first = set(replica_sets(c, "app=nginx"))

    c.kubectl("set", "image", "deployment/nginx-deployment", "nginx=nginx:1.16.1")
    c.kubectl("annotate", "deployment/nginx-deployment", "kubernetes.io/change-cause=image 1.16.1")
    rollout_status(c, "nginx-deployment")
    rss = replica_sets(c, "app=nginx")
    assert len(rss) == 2
    (new_name,) = set(rss) - first
    (old_name,) = first
    assert rss[new_name]["spec"]["replicas"] == 3 and rss[old_name]["spec"]["replicas"] == 0
    assert rss[new_name]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = pods_of(c, "app=nginx")
    wait_for(lambda: len(pods_of(c, "app=nginx")) == 3, timeout=60, what="old pods to terminate")
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.16.1" for p in pods_of(c, "app=nginx"))

    events = json.loads(c.kubectl("get", "events", "--field-selector",
                                  "involvedObject.kind=Deployment,involvedObject.name=nginx-deployment",
                                  "-o", "json").stdout)["items"]
    scaling = [e["message"] for e in events if e["reason"] == "ScalingReplicaSet"]
    assert f"Scaled up replica set {new_name} from 0 to 1" in scaling, scaling
    assert any(m.startswith(f"Scaled down replica set {old_name} to ") for m in scaling), scaling

    history = c.kubectl("rollout", "history", "deployment/nginx-deployment").stdout
    assert "REVISION" in history and "CHANGE-CAUSE" in history
    lines = [line.split(None, 1) for line in history.splitlines()[2:] if line.strip()]
    assert [x[0] for x in lines] == ["1", "2"], history
    assert lines[1][1].strip() == "image 1.16.1"

    out = c.kubectl("rollout", "undo", "deployment/nginx-deployment").stdout
    assert "rolled back" in out
    rollout_status(c, "nginx-deployment")
    rss = replica_sets(c, "app=nginx")
    assert rss[old_name]["spec"]["replicas"] == 3 and rss[new_name]["spec"]["replicas"] == 0, json.dumps(
        {n: (rs["spec"]["replicas"], rs["metadata"]["annotations"]) for n, rs in rss.items()}, indent=1)
    ann = rss[old_name]["metadata"]["annotations"]
    assert ann["deployment.kubernetes.io/revision"] == "3"
    assert ann["deployment.kubernetes.io/revision-history"] == "1"
    wait_for(lambda: all(p["spec"]["containers"][0]["image"] == "nginx:1.14.2" for p in pods_of(c, "app=nginx"))
             and len(pods_of(c, "app=nginx")) == 3, timeout=60, what="the old template back")

    # Scale; then delete: the garbage collector takes the ReplicaSets and the pods.
    c.kubectl("scale", "deployment/nginx-deployment", "--replicas=5")
    rollout_status(c, "nginx-deployment")
    assert c.get_json("deployment", "nginx-deployment")["status"]["availableReplicas"] == 5
    c.kubectl("delete", "deployment", "nginx-deployment")
    wait_for(lambda: not replica_sets(c, "app=nginx") and not pods_of(c, "app=nginx"), timeout=90,
             what="ReplicaSets and pods to be garbage-collected")


def test_recreate_stops_old_pods_before_new_ones(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("deployment", "recreate.yaml"))
    rollout_status(c, "recreate")
    old_pods = {p["metadata"]["name"] for p in pods_of(c, "app=recreate")}
    assert len(old_pods) == 2
    with c.kubectl_stream("get", "pods", "-l", "app=recreate", "-w", "--output-watch-events",
                          "-o", "jsonpath={.type} {.object.metadata.name} {.object.status.phase}{\"\\n\"}") as watch:
        watch.wait_line(lambda line: line.startswith("ADDED "), what="the watch to start")
        c.kubectl("set", "env", "deployment/recreate", "VERSION=2")
        rollout_status(c, "recreate")
        events = [line.split() + [""] for line in watch.drain() if line.strip()]
    # No new pod was created while an old one still ran: the controller waits until every
    # old pod is gone or terminal (the kubelet writes Succeeded/Failed before a deleted
    # pod goes, as upstream's since 1.27; upstream's Recreate counts those as stopped).
    gone_at, created_at = {}, {}
    for i, (kind, name, phase, *_) in enumerate(events):
        if name in old_pods and (kind == "DELETED" or phase in ("Succeeded", "Failed")):
            gone_at.setdefault(name, i)
        elif name not in old_pods and name not in created_at:
            created_at[name] = i
    assert len(created_at) == 2, created_at
    assert max(gone_at.values()) < min(created_at.values()), (gone_at, created_at)
    c.kubectl("delete", "deployment", "recreate")


def test_stuck_rollout_exceeds_its_progress_deadline(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("deployment", "stuck.yaml"))
    r = c.kubectl("rollout", "status", "deployment/stuck", "--timeout=60s", check=False, timeout=70)
    assert r.returncode != 0
    assert 'deployment "stuck" exceeded its progress deadline' in r.stderr
    cond = {x["type"]: x for x in c.get_json("deployment", "stuck")["status"]["conditions"]}["Progressing"]
    assert (cond["status"], cond["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert cond["message"].endswith("has timed out progressing.")
    c.kubectl("delete", "deployment", "stuck")


def test_pause_and_resume(node_cluster):
    c = node_cluster
    c.kubectl("create", "deployment", "paused", "--image=busybox:1.36", "--", "sleep", "3600")
    rollout_status(c, "paused")
    c.kubectl("rollout", "pause", "deployment/paused")
    wait_for(lambda: {x["type"]: x for x in c.get_json("deployment", "paused")["status"]["conditions"]}
             ["Progressing"]["reason"] == "DeploymentPaused", what="Progressing=DeploymentPaused")
    c.kubectl("set", "image", "deployment/paused", "busybox=busybox:1.35")
    # Paused: the controller has seen the new template but starts no new ReplicaSet.
    wait_for(lambda: (lambda d: d["status"].get("observedGeneration") == d["metadata"]["generation"])(
        c.get_json("deployment", "paused")), what="the controller to observe the change")
    assert len(replica_sets(c, "app=paused")) == 1
    c.kubectl("rollout", "resume", "deployment/paused")
    rollout_status(c, "paused")
    assert len(replica_sets(c, "app=paused")) == 2
    c.kubectl("delete", "deployment", "paused")


def sts_pods(c):
    items = c.get_json("pods", "-l", "app=nginx,statefulset.kubernetes.io/pod-name")["items"]
    return {p["metadata"]["name"]: p for p in items}


def ready_since(p):
    for x in p["status"].get("conditions", []):
        if x["type"] == "Ready" and x["status"] == "True":
            return x["lastTransitionTime"]
    return None


def test_statefulset_ordered_stable_names_and_storage(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("statefulset", "web.yaml"))
    c.kubectl("rollout", "status", "sts/web", "--timeout=120s", timeout=130)
    pods = sts_pods(c)
    assert sorted(pods) == ["web-0", "web-1"]
    # Ordered: web-1 was created no earlier than web-0 became Ready.
    assert pods["web-1"]["metadata"]["creationTimestamp"] >= ready_since(pods["web-0"])
    for name, p in pods.items():
        assert p["spec"]["hostname"] == name and p["spec"]["subdomain"] == "nginx"
        assert p["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == name[-1]
        claim = [v for v in p["spec"]["volumes"] if v["name"] == "www"][0]["persistentVolumeClaim"]["claimName"]
        assert claim == f"www-{name}"
        assert c.kubectl("exec", name, "--", "hostname").stdout.strip() == name
    claims = {x["metadata"]["name"]: x for x in c.get_json("pvc", "-l", "app=nginx")["items"]}
    assert sorted(claims) == ["www-web-0", "www-web-1"]
    assert all(x["status"]["phase"] == "Bound" for x in claims.values())
    events = json.loads(c.kubectl("get", "events", "--field-selector", "involvedObject.name=web,involvedObject.kind=StatefulSet",
                                  "-o", "json").stdout)["items"]
    messages = [e["message"] for e in events]
    assert "create Pod web-0 in StatefulSet web successful" in messages
    assert "create Claim www-web-0 Pod web-0 in StatefulSet web success" in messages

    # The data survives the pods, which come back under the same names.
    for name in pods:
        c.kubectl("exec", name, "--", "sh", "-c", "echo $(hostname) > /usr/share/nginx/html/index.html")
    uids = {n: p["metadata"]["uid"] for n, p in pods.items()}
    c.kubectl("delete", "pod", "web-0", "web-1", "--wait=false")
    wait_for(lambda: (lambda now: sorted(now) == ["web-0", "web-1"] and all(
        p["metadata"]["uid"] != uids[n] and ready_since(p) for n, p in now.items()))(sts_pods(c)),
        timeout=120, what="both pods back and Ready")
    for name in ("web-0", "web-1"):
        assert c.kubectl("exec", name, "--", "cat", "/usr/share/nginx/html/index.html").stdout == name + "\n"
        # nginx serves the volume, as in the tutorial.
        out = c.kubectl("exec", name, "--", "sh", "-c",
                        "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 80").stdout
        assert out.endswith(name + "\n"), out

    # Scale up in order, down from the highest ordinal; the claims stay.
    c.kubectl("scale", "sts", "web", "--replicas=3")
    c.kubectl("rollout", "status", "sts/web", "--timeout=120s", timeout=130)
    assert sorted(sts_pods(c)) == ["web-0", "web-1", "web-2"]
    c.kubectl("scale", "sts", "web", "--replicas=1")
    wait_for(lambda: sorted(sts_pods(c)) == ["web-0"], timeout=120, what="web-2 and web-1 to go")
    events = json.loads(c.kubectl("get", "events", "--field-selector", "involvedObject.name=web,involvedObject.kind=StatefulSet",
                                  "-o", "json").stdout)["items"]
    deletes = [e["message"] for e in sorted(events, key=lambda e: e["metadata"]["creationTimestamp"])
               if e["reason"] == "SuccessfulDelete"]
    assert deletes[-2:] == ["delete Pod web-2 in StatefulSet web successful",
                            "delete Pod web-1 in StatefulSet web successful"], deletes
    assert sorted(x["metadata"]["name"] for x in c.get_json("pvc", "-l", "app=nginx")["items"]) == \
        ["www-web-0", "www-web-1", "www-web-2"]

    # A rolling update: new revision, highest ordinal first.
    c.kubectl("scale", "sts", "web", "--replicas=2")
    c.kubectl("rollout", "status", "sts/web", "--timeout=120s", timeout=130)
    before = c.get_json("sts", "web")["status"]["currentRevision"]
    c.kubectl("patch", "sts", "web", "--type=json", "-p",
              '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.k8s.io/nginx-slim:0.8"}]')
    out = c.kubectl("rollout", "status", "sts/web", "--timeout=120s", timeout=130).stdout
    # rollingUpdate.partition defaults to 0, so kubectl reports a partitioned roll out.
    assert "partitioned roll out complete: 2 new pods have been updated..." in out
    st = wait_for(lambda: (lambda s: s["currentRevision"] == s["updateRevision"] and s)(
        c.get_json("sts", "web")["status"]), what="the update revision to become current")
    assert st["currentRevision"] != before
    assert all(p["metadata"]["labels"]["controller-revision-hash"] == st["updateRevision"]
               for p in sts_pods(c).values())
    assert all(p["spec"]["containers"][0]["image"] == "registry.k8s.io/nginx-slim:0.8" for p in sts_pods(c).values())
    c.kubectl("delete", "-f", example("statefulset", "web.yaml"))
    c.kubectl("delete", "pvc", "-l", "app=nginx")
