"""Resource metrics and the HorizontalPodAutoscaler (issue 5) on a node with real
containers: `kubectl top` reads metrics.k8s.io, and an HPA scales the walkthrough's
Deployment out under load and back in after it (examples/autoscaling/hpa/).

The cluster syncs HPAs every 2 s and stabilizes scale-downs over 20 s instead of 15 s
and 5 min, so the whole walkthrough takes about two minutes."""
import json
import os
import re

import pytest

from conftest import EXAMPLES, node_flags, start_node_cluster, stop_node_cluster, wait_for

HPA_DIR = os.path.join(EXAMPLES, "autoscaling", "hpa")
STABILIZATION = 20


@pytest.fixture(scope="module")
def hpa_cluster(starter_images):
    assert os.path.exists(os.path.join(starter_images, "kubes-demo.tar")), "images/build.sh made no kubes-demo.tar"
    flags = node_flags() + ["--horizontal-pod-autoscaler-sync-period", "2s",
                            "--horizontal-pod-autoscaler-downscale-stabilization", f"{STABILIZATION}s"]
    c = start_node_cluster(starter_images, archives=("busybox.tar", "kubes-demo.tar"), flags=flags)
    try:
        c.kubectl("apply", "-f", os.path.join(HPA_DIR, "deployment.yaml"))
        c.kubectl("rollout", "status", "deployment/hpa-demo", "--timeout=120s", timeout=130)
        yield c
    finally:
        stop_node_cluster(c)


def replicas(c):
    return c.get_json("deployment", "hpa-demo")["spec"]["replicas"]


def rescale_messages(c):
    events = c.get_json("events", "--field-selector", "reason=SuccessfulRescale")["items"]
    return [e["message"] for e in events if e["involvedObject"]["name"] == "hpa-demo"]


def start_load(c):
    """The walkthrough's load generator: busybox asking one pod for CPU in a loop."""
    ip = c.get_json("pods", "-l", "app=hpa-demo")["items"][0]["status"]["podIP"]
    c.kubectl("run", "load-generator", "--image=busybox:1.36", "--restart=Never", "--",
              "/bin/sh", "-c", f"while true; do wget -q -O- 'http://{ip}:8080/cpu?ms=100' >/dev/null; done")


def stop_load(c):
    c.kubectl("delete", "pod", "load-generator", "--grace-period=0", "--force", "--ignore-not-found", check=False)


def test_metrics_api_is_discovered(hpa_cluster):
    c = hpa_cluster
    out = c.kubectl("api-resources", "--api-group=metrics.k8s.io").stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["nodes"][1:] == ["metrics.k8s.io/v1beta1", "false", "NodeMetrics"], out
    assert rows["pods"][1:] == ["metrics.k8s.io/v1beta1", "true", "PodMetrics"], out
    # get and list only.
    r = c.kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/pods?watch=true", check=False)
    assert r.returncode != 0 and "MethodNotAllowed" in r.stderr, r.stderr


def test_kubectl_top_node_and_pod(hpa_cluster):
    c = hpa_cluster
    # The first figures need about 15 s of readings.
    out = wait_for(lambda: c.kubectl("top", "node", check=False).stdout, timeout=60, what="kubectl top node")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    name, cpu, cpu_pct, memory, memory_pct = lines[1].split()
    assert name == c.node_name
    assert re.fullmatch(r"\d+m", cpu) and re.fullmatch(r"\d+%", cpu_pct), lines[1]
    assert re.fullmatch(r"\d+Mi", memory) and int(memory[:-2]) > 0, lines[1]

    pod = c.get_json("pods", "-l", "app=hpa-demo")["items"][0]["metadata"]["name"]
    out = wait_for(lambda: (lambda o: o if pod in o else None)(
        c.kubectl("top", "pod", "-A", "--containers", check=False).stdout),
        timeout=60, what="the demo pod in kubectl top pod")
    lines = out.splitlines()
    assert lines[0].split() == ["NAMESPACE", "POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    row = next(line.split() for line in lines if pod in line)
    assert row[:3] == ["default", pod, "web"], row
    assert re.fullmatch(r"\d+m", row[3]) and re.fullmatch(r"\d+Mi", row[4]), row

    # The objects themselves: upstream's shape, with the pod's labels.
    m = json.loads(c.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/{pod}").stdout)
    assert m["kind"] == "PodMetrics" and m["window"] == "15s"
    assert m["metadata"]["labels"]["app"] == "hpa-demo"
    assert m["containers"][0]["name"] == "web"
    assert re.fullmatch(r"\d+[num]?", m["containers"][0]["usage"]["cpu"]), m
    assert re.fullmatch(r"\d+(Ki|Mi)?", m["containers"][0]["usage"]["memory"]), m
    r = c.kubectl("top", "pod", "no-such-pod", check=False)
    assert r.returncode != 0 and 'podmetrics.metrics.k8s.io "default/no-such-pod" not found' in r.stderr, r.stderr
    lst = json.loads(c.kubectl("get", "--raw",
                               "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dnone").stdout)
    assert lst["kind"] == "PodMetricsList" and lst["items"] == []


def test_autoscale_scales_out_under_load_and_back_in(hpa_cluster):
    c = hpa_cluster
    # kubectl 1.32's autoscale writes an autoscaling/v1 object.
    c.kubectl("autoscale", "deployment", "hpa-demo", "--cpu-percent=50", "--min=1", "--max=4")
    try:
        hpa = wait_for(lambda: (lambda h: h if "currentCPUUtilizationPercentage" in h.get("status", {}) else None)(
            json.loads(c.kubectl("get", "--raw",
                                 "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/hpa-demo").stdout)),
            timeout=60, what="the HPA's first CPU reading")
        assert hpa["status"]["currentReplicas"] == 1 and hpa["status"]["desiredReplicas"] == 1
        row = c.kubectl("get", "hpa", "hpa-demo").stdout.splitlines()
        assert row[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
        assert row[1].split()[:3] == ["hpa-demo", "Deployment/hpa-demo", "cpu:"], row
        assert re.fullmatch(r"\d+%/50%", row[1].split()[3]), row
        # Stored as autoscaling/v2 (as upstream stores it): the v2 view has the metric and
        # the conditions, the v1 view carries the conditions in an annotation, and
        # describe (which reads v2) shows everything.
        v2 = c.get_json("hpa.v2.autoscaling", "hpa-demo")
        assert v2["apiVersion"] == "autoscaling/v2"
        assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]
        assert {x["type"] for x in v2["status"]["conditions"]} == {"AbleToScale", "ScalingActive", "ScalingLimited"}
        assert "autoscaling.alpha.kubernetes.io/conditions" in hpa["metadata"]["annotations"]
        out = c.kubectl("describe", "hpa", "hpa-demo").stdout
        assert re.search(r"Reference:\s+Deployment/hpa-demo", out), out
        assert re.search(r"Min replicas:\s+1\n", out) and re.search(r"Max replicas:\s+4\n", out), out
        assert "ScalingActive   True    ValidMetricFound" in out, out

        start_load(c)
        wait_for(lambda: replicas(c) > 1, timeout=120, interval=1, what="the HPA to scale out")
        msgs = wait_for(lambda: rescale_messages(c), timeout=30, what="a SuccessfulRescale event")
        assert re.fullmatch(r"New size: \d; reason: cpu resource utilization \(percentage of request\) above target",
                            msgs[0]), msgs
        # The busy pod sits at its 200m limit: 200% of its request, 4 times the 50% target.
        wait_for(lambda: replicas(c) == 4, timeout=90, interval=1, what="4 replicas")
        status = c.get_json("hpa", "hpa-demo")["status"]
        assert status["desiredReplicas"] == 4 and "lastScaleTime" in status
        wait_for(lambda: len([p for p in c.get_json("pods", "-l", "app=hpa-demo")["items"]
                              if p["status"].get("phase") == "Running"]) == 4, timeout=90, what="4 running pods")

        stop_load(c)
        # Usage falls within one measuring window; then the scale-down waits for the
        # stabilization window.
        wait_for(lambda: replicas(c) == 1, timeout=120, interval=1, what="the HPA to scale back in")
        assert any(m == "New size: 1; reason: All metrics below target" for m in rescale_messages(c)), \
            rescale_messages(c)
    finally:
        stop_load(c)
        c.kubectl("delete", "hpa", "hpa-demo", "--ignore-not-found")


def test_v2_hpa_reports_conditions(hpa_cluster):
    c = hpa_cluster
    wait_for(lambda: replicas(c) == 1, timeout=60, what="one replica to start from")
    c.kubectl("apply", "-f", os.path.join(HPA_DIR, "hpa.yaml"))
    try:
        def conditions():
            st = c.get_json("hpa.v2.autoscaling", "hpa-demo").get("status", {})
            return {x["type"]: x for x in st.get("conditions", [])} if st.get("currentMetrics") else None
        conds = wait_for(lambda: (lambda x: x if x and x["ScalingActive"]["status"] == "True" else None)(conditions()),
                         timeout=60, what="the v2 HPA's conditions")
        assert conds["AbleToScale"]["status"] == "True"
        assert conds["ScalingActive"]["reason"] == "ValidMetricFound"
        assert conds["ScalingActive"]["message"] == ("the HPA was able to successfully calculate a replica count "
                                                    "from cpu resource utilization (percentage of request)")
        assert conds["ScalingLimited"]["reason"] in ("DesiredWithinRange", "TooFewReplicas")
        st = c.get_json("hpa.v2.autoscaling", "hpa-demo")["status"]
        current = st["currentMetrics"][0]["resource"]
        assert current["name"] == "cpu" and isinstance(current["current"]["averageUtilization"], int)
        out = c.kubectl("describe", "hpa", "hpa-demo").stdout
        assert "ScalingActive   True    ValidMetricFound" in out, out
        assert re.search(r"resource cpu on pods\s+\(as a percentage of request\):\s+\d+% \(\d+m?\) / 50%", out), out
    finally:
        c.kubectl("delete", "-f", os.path.join(HPA_DIR, "hpa.yaml"), "--ignore-not-found")
