"""Jobs and CronJobs (issue 5) on a node with real containers, driven by the real
kubectl the way the Kubernetes docs' Job and CronJob pages do it
(examples/workloads/job/, examples/workloads/cronjob/)."""
import calendar
import json
import os
import time

from conftest import EXAMPLES, wait_for


def example(*parts):
    path = os.path.join(EXAMPLES, "workloads", *parts)
    assert os.path.exists(path), f"missing example {path}"
    return path


def job_pods(c, job):
    return c.get_json("pods", "-l", f"batch.kubernetes.io/job-name={job}")["items"]


def conditions(job):
    return [(x["type"], x["status"], x.get("reason", "")) for x in job["status"].get("conditions", [])]


def events(c, name, reason=None):
    items = json.loads(c.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}",
                                 "-o", "json").stdout)["items"]
    return [e for e in items if reason is None or e["reason"] == reason]


def wait_condition(c, job, condition, timeout):
    c.kubectl("wait", f"--for=condition={condition}", f"job/{job}", f"--timeout={timeout}s", timeout=timeout + 10)


def job_row(c, name):
    lines = c.kubectl("get", "job", name).stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], lines
    return lines[1].split()


def test_pi_job_runs_to_completion(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("job", "pi.yaml"))
    wait_condition(c, "pi", "complete", 120)
    job = c.get_json("job", "pi")
    assert conditions(job) == [("SuccessCriteriaMet", "True", "CompletionsReached"),
                               ("Complete", "True", "CompletionsReached")]
    st = job["status"]
    assert st["succeeded"] == 1 and st["uncountedTerminatedPods"] == {} and "completionTime" in st
    row = job_row(c, "pi")
    assert row[:3] == ["pi", "Complete", "1/1"], row
    # The apiserver generated the selector from the Job's uid.
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"]["matchLabels"] == {"batch.kubernetes.io/controller-uid": uid}

    (pod,) = job_pods(c, "pi")
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] == uid
    assert pod["metadata"]["labels"]["job-name"] == "pi"
    assert "batch.kubernetes.io/job-tracking" not in pod["metadata"].get("finalizers", [])
    out = c.kubectl("logs", "job/pi").stdout
    assert out.startswith("3.14159265358979323846"), out[:100]
    created = [e["message"] for e in events(c, "pi", "SuccessfulCreate")]
    assert created == [f"Created pod: {pod['metadata']['name']}"], created
    assert [e["message"] for e in events(c, "pi", "Completed")] == ["Job completed"]
    c.kubectl("delete", "job", "pi")
    wait_for(lambda: not job_pods(c, "pi"), timeout=60, what="the pi pod to be garbage-collected")


def test_fixed_completion_count_runs_two_at_a_time(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("job", "fixed-completions.yaml"))
    peak = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = c.get_json("job", "fixed")
        peak = max(peak, job["status"].get("active", 0))
        assert job["status"].get("active", 0) <= 2, job["status"]
        if ("Complete", "True", "CompletionsReached") in conditions(job):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"job/fixed did not complete: {job['status']}")
    assert peak == 2
    assert job_row(c, "fixed")[:3] == ["fixed", "Complete", "5/5"]
    pods = job_pods(c, "fixed")
    assert len(pods) == 5 and all(p["status"]["phase"] == "Succeeded" for p in pods)
    c.kubectl("delete", "job", "fixed")


def test_indexed_job_gives_every_pod_its_own_item(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("job", "indexed.yaml"))
    wait_condition(c, "indexed", "complete", 120)
    job = c.get_json("job", "indexed")
    assert job["status"]["completedIndexes"] == "0-4"
    assert job_row(c, "indexed")[:3] == ["indexed", "Complete", "5/5"]
    words = ["foo", "bar", "baz", "qux", "xyz"]
    pods = job_pods(c, "indexed")
    assert len(pods) == 5
    for p in pods:
        ix = p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
        assert p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == ix
        assert p["spec"]["hostname"] == f"indexed-{ix}"
        assert p["metadata"]["name"].startswith(f"indexed-{ix}-")
        log = c.kubectl("logs", p["metadata"]["name"]).stdout.strip()
        word = words[int(ix)]
        assert log == f"index {ix}: {word} -> {word[::-1]}", log
    c.kubectl("delete", "job", "indexed")


def test_work_queue_job_drains_redis(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("job", "redis-pod.yaml"))
    c.kubectl("wait", "--for=condition=Ready", "pod/redis", "--timeout=60s", timeout=70)
    items = ["apple", "banana", "cherry", "date", "eggplant", "fig", "grape", "lemon", "melon", "orange"]
    c.kubectl("exec", "redis", "--", "redis-cli", "rpush", "job2", *items)
    ip = c.get_json("pod", "redis")["status"]["podIP"]
    c.kubectl("create", "configmap", "redis-address", f"--from-literal=REDIS_HOST={ip}")
    c.kubectl("apply", "-f", example("job", "queue-job.yaml"))
    wait_condition(c, "job-wq-2", "complete", 120)
    job = c.get_json("job", "job-wq-2")
    assert job["status"]["succeeded"] == 2 and "active" not in job["status"]
    # No completions: any success completes the Job; COMPLETIONS reads "2/1 of 2".
    assert job_row(c, "job-wq-2")[:5] == ["job-wq-2", "Complete", "2/1", "of", "2"]
    assert c.kubectl("exec", "redis", "--", "redis-cli", "llen", "job2").stdout.strip() == "0"
    processed = []
    for p in job_pods(c, "job-wq-2"):
        log = c.kubectl("logs", p["metadata"]["name"]).stdout
        processed += [line.split()[1] for line in log.splitlines() if line.startswith("processing ")]
        assert "queue empty, exiting" in log
    assert sorted(processed) == sorted(items)
    c.kubectl("delete", "job", "job-wq-2")
    c.kubectl("delete", "pod", "redis", "--grace-period=1")
    c.kubectl("delete", "configmap", "redis-address")


def test_failing_job_backs_off_then_exceeds_its_backoff_limit(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("job", "backoff.yaml"))
    wait_condition(c, "flaky", "failed", 120)
    job = c.get_json("job", "flaky")
    assert conditions(job) == [("FailureTarget", "True", "BackoffLimitExceeded"),
                               ("Failed", "True", "BackoffLimitExceeded")]
    assert job["status"]["conditions"][1]["message"] == "Job has reached the specified backoff limit"
    assert job["status"]["failed"] == 2 and "succeeded" not in job["status"]
    assert job_row(c, "flaky")[:3] == ["flaky", "Failed", "0/1"]
    pods = sorted(job_pods(c, "flaky"), key=lambda p: p["metadata"]["creationTimestamp"])
    assert len(pods) == 2 and all(p["status"]["phase"] == "Failed" for p in pods)
    # The replacement waited the 10 s pod-failure backoff after the first failure.
    first_end = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]
    second_start = pods[1]["metadata"]["creationTimestamp"]
    gap = calendar.timegm(time.strptime(second_start, "%Y-%m-%dT%H:%M:%SZ")) - \
        calendar.timegm(time.strptime(first_end, "%Y-%m-%dT%H:%M:%SZ"))
    assert 9 <= gap <= 20, (first_end, second_start)
    warnings = events(c, "flaky", "BackoffLimitExceeded")
    assert [e["type"] for e in warnings] == ["Warning"]
    c.kubectl("delete", "job", "flaky")


def test_suspend_and_resume(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("job", "suspended.yaml"))
    wait_for(lambda: ("Suspended", "True", "JobSuspended") in conditions(c.get_json("job", "later")),
             what="the Suspended condition")
    assert job_pods(c, "later") == []
    assert "startTime" not in c.get_json("job", "later")["status"]
    assert job_row(c, "later")[:2] == ["later", "Suspended"]

    c.kubectl("patch", "job/later", "--type=strategic", "--patch", '{"spec":{"suspend":false}}')
    wait_for(lambda: c.get_json("job", "later")["status"].get("active") == 2, timeout=30, what="2 active pods")
    assert ("Suspended", "False", "JobResumed") in conditions(c.get_json("job", "later"))

    # Suspending again deletes the running pods.
    c.kubectl("patch", "job/later", "--type=strategic", "--patch", '{"spec":{"suspend":true}}')
    wait_for(lambda: not [p for p in job_pods(c, "later") if not p["metadata"].get("deletionTimestamp")],
             timeout=30, what="the pods to be deleted")
    wait_for(lambda: ("Suspended", "True", "JobSuspended") in conditions(c.get_json("job", "later")),
             what="Suspended again")
    assert len(events(c, "later", "SuccessfulDelete")) == 2

    c.kubectl("patch", "job/later", "--type=strategic", "--patch", '{"spec":{"suspend":false}}')
    wait_condition(c, "later", "complete", 90)
    assert job_row(c, "later")[:3] == ["later", "Complete", "2/2"]
    c.kubectl("delete", "job", "later")


def test_ttl_after_finished_deletes_the_job(node_cluster):
    c = node_cluster
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi-with-ttl"},
                "spec": {"ttlSecondsAfterFinished": 3,
                         "template": {"spec": {"restartPolicy": "Never",
                                               "containers": [{"name": "pi", "image": "busybox:1.36",
                                                               "command": ["true"]}]}}}}
    c.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    wait_condition(c, "pi-with-ttl", "complete", 60)
    completed = c.get_json("job", "pi-with-ttl")["status"]["completionTime"]
    wait_for(lambda: c.kubectl("get", "job", "pi-with-ttl", check=False).returncode != 0, timeout=30,
             what="the TTL controller to delete the Job")
    # Not before its TTL: 3 s from the Complete condition (times are whole seconds).
    assert time.time() - calendar.timegm(time.strptime(completed, "%Y-%m-%dT%H:%M:%SZ")) >= 2
    wait_for(lambda: not job_pods(c, "pi-with-ttl"), timeout=30, what="its pod to go too")


def test_cronjob_creates_jobs_on_schedule_and_keeps_history(node_cluster):
    c = node_cluster
    c.kubectl("apply", "-f", example("cronjob", "hello.yaml"))
    cj = c.get_json("cronjob", "hello")
    assert (cj["spec"]["concurrencyPolicy"], cj["spec"]["successfulJobsHistoryLimit"],
            cj["spec"]["failedJobsHistoryLimit"], cj["spec"]["suspend"]) == ("Allow", 3, 1, False)

    # kubectl create job --from=cronjob: a Job from the template right now.
    c.kubectl("create", "job", "--from=cronjob/hello", "manual")
    manual = c.get_json("job", "manual")
    assert manual["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert manual["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    wait_condition(c, "manual", "complete", 60)
    assert "Hello from the Kubernetes cluster" in c.kubectl("logs", "job/manual").stdout

    # The schedule fires within a minute (plus a little).
    scheduled = wait_for(lambda: [j for j in c.get_json("jobs")["items"]
                                  if j["metadata"]["name"].startswith("hello-")], timeout=75,
                         what="the CronJob's first Job")
    name = scheduled[0]["metadata"]["name"]
    minutes = int(name.split("-")[1])
    stamp = scheduled[0]["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(minutes * 60)), stamp
    wait_condition(c, name, "complete", 60)
    assert "Hello from the Kubernetes cluster" in c.kubectl("logs", f"job/{name}").stdout
    assert f"Created job {name}" in [e["message"] for e in events(c, "hello", "SuccessfulCreate")]

    # successfulJobsHistoryLimit 1: of "manual" and the scheduled Job only the one that
    # started last stays (the schedule may have fired before "manual" was created).
    c.kubectl("patch", "cronjob/hello", "--type=merge", "--patch", '{"spec":{"successfulJobsHistoryLimit":1}}')
    wait_for(lambda: len({"manual", name} & {j["metadata"]["name"] for j in c.get_json("jobs")["items"]}) == 1,
             timeout=30, what="the older finished Job to be deleted")
    wait_for(lambda: events(c, "hello", "SawCompletedJob"), timeout=30, what="SawCompletedJob")
    cj = c.get_json("cronjob", "hello")
    assert cj["status"]["lastScheduleTime"] >= stamp and "lastSuccessfulTime" in cj["status"]
    row = c.kubectl("get", "cronjob", "hello").stdout.splitlines()
    assert row[0].split()[:6] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST"], row
    assert row[1].split()[:5] == ["hello", "*", "*", "*", "*"]
    c.kubectl("delete", "cronjob", "hello")
    wait_for(lambda: not c.get_json("jobs")["items"], timeout=60, what="the CronJob's Jobs to be garbage-collected")
