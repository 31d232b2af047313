"""Host helpers for the pod benchmark: processes and their memory, free address ranges,
mounts under a directory, and the record of what a run made (so a cleanup, even one run
later from run.sh's trap, can undo exactly that).

Everything here reads /proc and /sys directly; nothing signals a process that was not
looked up by PID and checked by its command line first.
"""
import ipaddress
import json
import os
import signal
import sys
import subprocess
import time


PROGRAM = "podbench"  # the name progress lines carry; another harness importing this sets its own


def harness_args(description):
    """The options every harness of bench/ takes (its run.sh passes them); add your own."""
    import argparse
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", help="the run's directory (made and removed by run.sh)")
    p.add_argument("--kubes", help="the kubes binary")
    p.add_argument("--images", help="the directory holding busybox.tar (images/build.sh)")
    p.add_argument("--scale", type=float, default=1.0, help="every count times this (0.1 for a quick try)")
    p.add_argument("--out", help="also write the table to this file")
    p.add_argument("--label", default="", help="what was measured (commit, build time)")
    p.add_argument("--cleanup", metavar="DIR", help="only undo what a run in DIR left, then exit")
    return p


def exit_on_signals():
    """SIGTERM and SIGINT end the harness through SystemExit, so `finally` blocks clean up."""
    def on_term(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)


def log(msg):
    """Progress goes to stderr, with the wall-clock time, so stdout keeps only the table."""
    print(time.strftime("%H:%M:%S"), f"{PROGRAM}:", msg, file=sys.stderr, flush=True)


# ---- percentiles -------------------------------------------------------------------------

def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n*q/100), at least 1
    return ordered[int(rank) - 1]


def median(values):
    return percentile(values, 50)


# ---- processes ---------------------------------------------------------------------------

def cmdline(pid):
    """A process's argv, or [] when it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def rss_kib(pid):
    """VmRSS of a process in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# The per-container monitor processes: kubes runs its own kubes-monitor, podman runs conmon.
MONITORS = ("kubes-monitor", "conmon")


def monitor_pids(marker):
    """PIDs of the container monitors (kubes-monitor or conmon) whose command line mentions
    `marker` (a directory only one run uses: kubes' data dir or podman's root)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = cmdline(entry)
        if argv and os.path.basename(argv[0]) in MONITORS and any(marker in a for a in argv):
            pids.append(int(entry))
    return pids




def pss_kib(pid):
    """Proportional set size in KiB: shared pages divided among the processes that map
    them, so a sum over many processes of one program is not inflated (0 when gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_sum_kib(pids):
    """(count, RSS sum, PSS sum) of the processes, in KiB."""
    return len(pids), sum(rss_kib(p) for p in pids), sum(pss_kib(p) for p in pids)


def stop_pid(pid, must_contain, timeout=20.0):
    """SIGTERM, then SIGKILL after `timeout`, to the process `pid` — only while its command
    line still contains `must_contain` (a PID can be reused once the process is gone)."""
    def ours():
        return any(must_contain in a for a in cmdline(pid))

    if not pid or not ours():
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)  # reaps it when it is our child
            if done == pid:
                return
        except ChildProcessError:
            pass
        if not ours():
            return
        time.sleep(0.05)
    if ours():
        log(f"pid {pid} did not stop after SIGTERM in {timeout:.0f} s: SIGKILL")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---- addresses ---------------------------------------------------------------------------

def used_ipv4_networks():
    """Every IPv4 network the host has a route or an address in."""
    nets = []
    for cmd in (["ip", "-4", "route", "show", "table", "all"], ["ip", "-4", "-o", "addr", "show"]):
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        for word in out.split():
            try:
                if word[0].isdigit():
                    nets.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                pass
    return nets


def free_slash16s(count, first=190, last=249):
    """`count` second octets N for which 10.N.0.0/16 overlaps nothing the host routes or
    holds, picked from 10.190–10.249 (away from the ranges the e2e tests use), in an
    order that depends on our PID so two runs at once are unlikely to collide."""
    used = used_ipv4_networks()
    candidates = list(range(first, last + 1))
    start = os.getpid() % len(candidates)
    candidates = candidates[start:] + candidates[:start]
    picked = []
    for n in candidates:
        net = ipaddress.ip_network(f"10.{n}.0.0/16")
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            picked.append(n)
            if len(picked) == count:
                return picked
    raise RuntimeError("no free 10.N.0.0/16 ranges left in 10.190-10.249")


# ---- mounts and files ----------------------------------------------------------------------

def mounts_under(path):
    """Mount points at or below `path`, deepest first."""
    path = os.path.realpath(path)
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == path or point.startswith(path + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_under(path):
    for point in mounts_under(path):
        subprocess.run(["umount", "-l", point], capture_output=True)


def rmdir_tree(path):
    """Removes a tree of empty directories bottom-up (cgroup directories: rmdir succeeds
    only for a cgroup with no processes left). Returns how many were left."""
    left = 0
    for dirpath, dirnames, _ in os.walk(path, topdown=False):
        try:
            os.rmdir(dirpath)
        except OSError:
            left += 1
    return left


class State:
    """What a run made, as JSON in <work>/state.json, written as soon as each thing is made."""

    def __init__(self, work):
        self.path = os.path.join(work, "state.json")
        self.data = {}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.data = json.load(f)

    def set(self, key, value):
        self.data[key] = value
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1)
        os.replace(tmp, self.path)

    def get(self, key, default=None):
        return self.data.get(key, default)
