"""The pod benchmark's results and the Markdown table made of them. A value that was not
measured (its phase failed or was skipped) shows as "—"; the errors follow the table."""
import os
import subprocess
import time

from host import median, percentile


class Results:
    def __init__(self, counts, label):
        self.counts = counts
        self.label = label
        self.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        self.load_before = loadavg()
        self.errors = []
        self.floor = {}  # runtime -> (seconds per run or None, error or None)
        self.podman_version = None
        self.podman_seq = self.podman_burst = self.podman_burst_total = self.podman_conmon = None
        self.kubes_version = "kubes"
        self.kubes_runtime = None
        self.kubes_seq = self.kubes_burst = self.kubes_burst_total = self.kubes_monitors = None
        self.rss_idle = self.rss_burst = self.rss_density = None
        self.density_n = self.density_s = self.density_monitors = None
        self.rss_settled = self.density_monitors_settled = None
        self.density_note = ""
        self.kubes_cleanup_s = None

    def check(self, ok, message):
        if not ok:
            self.errors.append(message)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


NA = "—"


def ms(seconds):
    return f"{seconds * 1000:.0f}"


def p50_p99(values):
    if not values:
        return NA
    return f"{ms(median(values))} / {ms(percentile(values, 99))} ms"


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else NA


def ratios(xs, ys):
    if not xs or not ys:
        return NA
    return f"{ratio(median(xs), median(ys))} / {ratio(percentile(xs, 99), percentile(ys, 99))}"


def mib(kib):
    return f"{kib / 1024:.1f}" if kib is not None else NA


def settled_cell(res):
    """Server RSS + the monitors' PSS once the density pods have slept a while."""
    if res.rss_settled is None or not res.density_monitors_settled:
        return NA
    pss = res.density_monitors_settled[2]
    return (f"{mib(res.rss_settled)} + {mib(pss)} = {mib(res.rss_settled + pss)} MiB "
            f"({(res.rss_settled + pss) * 1024 / 1e6:.1f} MB)")


def monitor_cell(c, name):
    """(count, RSS, PSS) of a set of container monitors (kubes-monitor or conmon)."""
    if not c:
        return NA
    count, rss, pss = c
    each = f"; {rss / count:.0f} / {pss / count:.0f} KiB each" if count else ""
    return f"{mib(rss)} / {mib(pss)} MiB ({count} {name}s{each})"


def floor_cell(res, runtime):
    times, err = res.floor.get(runtime, (None, "not measured"))
    if err:
        return f"not run here: {err}"
    return f"{ms(median(times))} ms (min {ms(min(times))}, max {ms(max(times))})"


def render(res):
    c = res.counts
    kubes_total = f"{res.kubes_burst_total:.2f} s" if res.kubes_burst_total else NA
    podman_total = f"{res.podman_burst_total:.2f} s" if res.podman_burst_total else NA
    density = NA
    if res.density_s:
        density = f"{res.density_s:.1f} s ({res.density_n / res.density_s:.1f} pods/s)"
    rss = f"{mib(res.rss_idle)} → {mib(res.rss_burst)} → {mib(res.rss_density)} MiB"
    podman_name = f"podman {res.podman_version} (runc)" if res.podman_version else "podman"
    lines = [
        f"`bench/pods/run.sh`, run {res.started} on {os.cpu_count()} cores, load average before: {res.load_before}; "
        f"{res.kubes_version} ({res.label}), "
        f"node runtime {res.kubes_runtime or '?'}; {tool_version(['runc', '--version'])}; "
        f"load average after: {loadavg()}",
        "",
        f"| measurement | kubes | {podman_name} | kubes / podman |",
        "|---|---|---|---|",
        f"| one at a time, {c.seq} pods: create → Ready (podman: `kube play` run time), p50 / p99 "
        f"| {p50_p99(res.kubes_seq)} | {p50_p99(res.podman_seq)} | {ratios(res.kubes_seq, res.podman_seq)} |",
        f"| {c.burst} pods at once: per pod, create → Ready, p50 / p99 "
        f"| {p50_p99(res.kubes_burst)} | {p50_p99(res.podman_burst)} | {ratios(res.kubes_burst, res.podman_burst)} |",
        f"| {c.burst} pods at once: first create → last Ready "
        f"| {kubes_total} | {podman_total} | {ratio(res.kubes_burst_total, res.podman_burst_total)} |",
        f"| container monitors' memory with those {c.burst} pods running (kubes-monitor / conmon), sum of RSS / PSS "
        f"| {monitor_cell(res.kubes_monitors, 'kubes-monitor')} | {monitor_cell(res.podman_conmon, 'conmon')} "
        f"| {ratio(res.kubes_monitors and res.kubes_monitors[1], res.podman_conmon and res.podman_conmon[1])} / "
        f"{ratio(res.kubes_monitors and res.kubes_monitors[2], res.podman_conmon and res.podman_conmon[2])} |",
        f"| floor: `runc run` of /bin/true in a busybox bundle, median of {c.floor} | {floor_cell(res, 'runc')} | | |",
        f"| floor: `crun run`, the same | {floor_cell(res, 'crun')} | | |",
        f"| density: {res.density_n or c.density} pods in batches of 50, first create → all Running "
        f"| {density} | | |",
        f"| kubes server RSS: idle → {c.burst} pods → {res.density_n or c.density} pods | {rss} | | |",
        f"| kubes-monitor memory with {res.density_n or c.density} pods, sum of RSS / PSS "
        f"| {monitor_cell(res.density_monitors, 'kubes-monitor')} | | |",
        f"| kubes' own memory, the {res.density_n or c.density} pods asleep for {c.settle} s: server RSS + monitors' PSS "
        f"| {settled_cell(res)} | | |",
    ]
    notes = []
    if res.density_note:
        notes.append(f"Density: {res.density_note}.")
    if res.kubes_cleanup_s is not None:
        notes.append(f"`kubes server --cleanup` after the run took {res.kubes_cleanup_s:.1f} s.")
    for e in res.errors:
        notes.append(f"**Error**: {e}")
    if notes:
        lines += [""] + notes
    return "\n".join(lines)
