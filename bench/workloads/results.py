"""The workload benchmark's results and the Markdown table made of them. Repeated
measurements show their median and each run's value; a value that was not measured (its
phase failed) shows as "—"; the errors follow the table."""
import os
import statistics
import time

from cpu import group_of
from report import NA, loadavg, mib, p50_p99, tool_version  # bench/pods/report.py

__all__ = ["Results", "render", "tool_version"]


class Results:
    def __init__(self, counts, label):
        self.counts = counts
        self.label = label
        self.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        self.load_before = loadavg()
        self.errors = []
        self.kubes_version = "kubes"
        self.kubes_runtime = None
        # scale phase
        self.rss_node_idle = None
        self.threads_idle = None  # (count, names)
        self.scale_runs = []      # workbench.ScaleRun
        self.cleanup_s = None
        # many phase
        self.rss_cp_idle = self.rss_cp_posted = self.rss_cp_all = None
        self.rs_at_posted = self.pods_at_posted = None
        self.post_s = self.rs_all_s = self.rs_after_post_s = self.pods_all_s = None
        self.rs_latency = None
        self.cpu_many = None
        self.stop_s = {}  # phase -> seconds from SIGTERM to the server's exit (20 s: it was killed)


def _values(runs, get):
    return [v for v in (get(r) for r in runs) if v is not None]


def seconds_cell(runs, get, n=None):
    """Median in seconds, the pods/s it means when n is given, and each run's value."""
    vals = _values(runs, get)
    if not vals:
        return NA
    m = statistics.median(vals)
    text = f"{m:.2f} s"
    if n:
        text += f" ({n / m:.1f} pods/s)"
    if len(vals) > 1:
        text += f"; runs {', '.join(f'{v:.2f}' for v in vals)}"
    return text


def cpu_cell(samples):
    """Median of the process's own CPU, its share of one core over the phase, and the
    waited-for children's CPU."""
    if not samples:
        return NA
    own = statistics.median(s.own for s in samples)
    wall = statistics.median(s.seconds for s in samples)
    children = statistics.median(s.children for s in samples)
    text = f"{own:.2f} s in {wall:.1f} s ({own / wall * 100:.0f}% of a core); children {children:.2f} s"
    if len(samples) > 1:
        text += f"; runs {', '.join(f'{s.own:.2f}' for s in samples)}"
    return text


def split_cell(samples, threads_idle):
    if not samples:
        return NA
    if not all(s.named for s in samples):
        count = threads_idle[0] if threads_idle else samples[-1].threads
        name = threads_idle[1][0] if threads_idle and len(threads_idle[1]) == 1 else "the process's name"
        return (f"not measurable: this binary does not name its threads (all {count} are `{name}`), "
                f"so only the whole process is reported")
    groups = [s.by_group() for s in samples]
    parts = [f"{g} {statistics.median(x[g] for x in groups):.2f} s"
             for g in ("controllers", "node", "rest", "exited threads")]
    return " / ".join(parts)


def render(res):
    c = res.counts
    runs = res.scale_runs
    n = c.replicas
    times = "median of " + str(len(runs)) if len(runs) > 1 else "one run"
    up = [r.cpu_up for r in runs if r.cpu_up]
    down = [r.cpu_down for r in runs if r.cpu_down]
    # Each run's Deployment rate against the reference taken just before it.
    ratios = _values(runs, lambda r: (n / r.ready) / (c.bare / r.bare) if r.ready and r.bare else None)
    ratio = NA
    if ratios:
        ratio = f"{statistics.median(ratios):.2f}x"
        if len(ratios) > 1:
            ratio += f"; runs {', '.join(f'{x:.2f}x' for x in ratios)}"
    rss_ready = _values(runs, lambda r: r.rss_ready)
    rss_node = f"{mib(res.rss_node_idle)} → {mib(statistics.median(rss_ready) if rss_ready else None)} MiB"
    rs_at = ""
    if res.rs_at_posted is not None:
        rs_at = f" ({res.rs_at_posted} ReplicaSets and {res.pods_at_posted} Pods existed then)"
    posted = NA
    if res.post_s:
        posted = f"{res.post_s:.2f} s ({c.deployments / res.post_s:.0f}/s)"
    lines = [
        f"`bench/workloads/run.sh`, run {res.started} on {os.cpu_count()} cores, "
        f"load average before: {res.load_before}; {res.kubes_version} ({res.label}), "
        f"node runtime {res.kubes_runtime or '?'}; load average after: {loadavg()}",
        "",
        "| measurement | kubes |",
        "|---|---|",
        f"| **Deployment 0 → {n} → 0** ({times}; clock from the `PUT …/scale`) | |",
        f"| scale to {n}: last of the {n} Pods created | {seconds_cell(runs, lambda r: r.created, n)} |",
        f"| scale to {n}: all {n} Pods Ready | {seconds_cell(runs, lambda r: r.ready, n)} |",
        f"| scale to {n}: Deployment reports availableReplicas {n} | {seconds_cell(runs, lambda r: r.available)} |",
        f"|   per pod, created → Ready (median over the pods) | {seconds_cell(runs, lambda r: r.ready_p50)} |",
        f"| scale to 0: every Pod object gone | {seconds_cell(runs, lambda r: r.gone, n)} |",
        f"| scale to 0: no monitor of the node left | {seconds_cell(runs, lambda r: r.no_monitor)} |",
        f"| kubes CPU (user+sys) during the scale up, until availableReplicas {n} | {cpu_cell(up)} |",
        f"| kubes CPU during the scale down, until every Pod is gone | {cpu_cell(down)} |",
        f"| CPU by threads, up: controllers / node (kubelet, runtime) / rest (API server, scheduler, …) / exited "
        f"| {split_cell(up, res.threads_idle)} |",
        f"| CPU by threads, down: the same | {split_cell(down, res.threads_idle)} |",
        f"| reference, before each run: {c.bare} bare Pods at once, {min(16, c.bare)} clients, first POST → last Ready "
        f"| {seconds_cell(runs, lambda r: r.bare, c.bare)} |",
        f"| Deployment scale-up rate ÷ bare-Pod rate of the reference before it (all Ready) | {ratio} |",
        f"| kubes server RSS: node idle → {n} Deployment Pods Ready | {rss_node} |",
        f"| **{c.deployments} Deployments of 1 replica, server with `--disable-node`** | |",
        f"| POST the {c.deployments} Deployments, {min(16, c.deployments)} clients | {posted} |",
        f"| first POST → all {c.deployments} ReplicaSets exist (watch) | "
        f"{f'{res.rs_all_s:.2f} s ({res.rs_after_post_s:.2f} s after the last POST)' if res.rs_all_s else NA} |",
        f"|   per Deployment, its POST → its ReplicaSet, p50 / p99 | {p50_p99(res.rs_latency)} |",
        f"| first POST → all {c.deployments} Pods exist (Pending) | {f'{res.pods_all_s:.2f} s' if res.pods_all_s else NA} |",
        f"| kubes CPU from the first POST until all Pods exist | {cpu_cell([res.cpu_many] if res.cpu_many else [])} |",
        f"| server RSS: idle → {c.deployments} Deployments POSTed → + their ReplicaSets and Pods "
        f"| {mib(res.rss_cp_idle)} → {mib(res.rss_cp_posted)} → {mib(res.rss_cp_all)} MiB{rs_at} |",
    ]
    notes = []
    samples = up + down
    if res.threads_idle and len(res.threads_idle[1]) > 1:
        count, names = res.threads_idle
        by_group = {}
        for name in names:
            by_group.setdefault(group_of(name), []).append(f"`{name}`")
        notes.append(f"Thread names of the server with its node, idle ({count} threads): "
                     + "; ".join(f"{g}: {', '.join(by_group[g])}" for g in ("controllers", "node", "rest")
                                 if g in by_group) + ".")
    if samples and all(s.named for s in samples):
        top = {}
        for s in samples:
            for name, sec in s.by_name.items():
                top[name] = top.get(name, 0.0) + sec
        busiest = sorted(top.items(), key=lambda kv: -kv[1])[:8]
        notes.append("Busiest threads over the scale runs (CPU s, summed): "
                     + ", ".join(f"`{name}` {sec:.2f}" for name, sec in busiest) + ".")
    if res.stop_s:
        notes.append("Stopping each server (SIGTERM until it exits; after 20 s the harness sends SIGKILL): "
                     + ", ".join(f"{phase} {s:.1f} s{' (SIGKILLed)' if s >= 20 else ''}"
                                 for phase, s in res.stop_s.items()) + ".")
    if res.cleanup_s is not None:
        notes.append(f"`kubes server --cleanup` after the scale phase took {res.cleanup_s:.1f} s.")
    for e in res.errors:
        notes.append(f"**Error**: {e}")
    if notes:
        lines += [""] + notes
    return "\n".join(lines)
