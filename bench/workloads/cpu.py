"""CPU time of one process and of its threads, from /proc (user + system, in seconds).

A CpuMeter is started before a phase and stopped after it; the difference is what the
process spent in between. The process's own figure (/proc/PID/stat) includes threads
that exited during the phase; the per-thread figures (/proc/PID/task/TID/stat) cannot,
so what the live threads do not account for is reported as "exited threads". The
children's figure is what the process's waited-for children spent (runc invocations and
other short commands the node runs); processes it does not wait for (the container
monitors, the containers) are not in it.

Threads are grouped by their name (/proc/PID/task/TID/comm, 15 characters at most): a
server that names its threads can be split into controllers, node (kubelet and
runtime) and the rest; one that does not gives every thread the process's own name and
only the whole process can be reported.
"""
import os

TICK = os.sysconf("SC_CLK_TCK")

# Words a thread name is matched against (lower case, anywhere in the name). The node's
# words are tried first, so a "kubelet-…" thread is never counted as a controller.
NODE_WORDS = ("kubelet", "runtime", "pleg", "prober", "probe", "cni", "netns", "network", "image",
              "monitor", "runc", "crun", "container", "sandbox", "volume", "eviction", "cadvisor", "stats")
CONTROLLER_WORDS = ("controller", "ctrl", "replicaset", "deployment", "deploy", "statefulset", "daemonset",
                    "job", "cronjob", "garbage", "gc", "namespace", "serviceacc", "endpoint", "nodeipam",
                    "nodelifecycle", "disruption", "podautoscal", "hpa", "ttl", "localpath")
GROUPS = ("controllers", "node", "rest")


def _stat_fields(path):
    """The fields of a /proc stat file after the command name (which may hold spaces)."""
    with open(path) as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def process_cpu(pid):
    """(own, waited-for children) CPU seconds of a process; (0, 0) when it is gone."""
    try:
        f = _stat_fields(f"/proc/{pid}/stat")
    except OSError:
        return 0.0, 0.0
    # fields 14-17 of stat(5): utime, stime, cutime, cstime; here counted from field 3
    return (int(f[11]) + int(f[12])) / TICK, (int(f[13]) + int(f[14])) / TICK


def thread_user_system(pid):
    """{tid: (name, user s, system s)} of the process's live threads."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            f = _stat_fields(f"/proc/{pid}/task/{tid}/stat")
            with open(f"/proc/{pid}/task/{tid}/comm") as c:
                name = c.read().strip()
        except OSError:
            continue  # exited between the listing and the read
        out[tid] = (name, int(f[11]) / TICK, int(f[12]) / TICK)
    return out


def thread_cpu(pid):
    """{tid: (name, CPU seconds)} of the process's live threads."""
    return {tid: (name, user + system) for tid, (name, user, system) in thread_user_system(pid).items()}


def process_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def group_of(name):
    low = name.lower()
    if any(w in low for w in NODE_WORDS):
        return "node"
    if any(w in low for w in CONTROLLER_WORDS):
        return "controllers"
    return "rest"


class CpuSample:
    """What a process spent between a CpuMeter's start and stop."""

    def __init__(self, seconds, own, children, by_name, threads, named):
        self.seconds = seconds    # wall-clock length of the phase
        self.own = own            # the process (all its threads, also exited ones)
        self.children = children  # its waited-for children
        self.by_name = by_name    # {thread name: seconds}, live threads only
        self.threads = threads    # live threads at the stop
        self.named = named        # whether any thread has a name other than the process's

    def by_group(self):
        """{controllers, node, rest, exited threads: seconds}; only meaningful when named."""
        groups = dict.fromkeys(GROUPS, 0.0)
        for name, s in self.by_name.items():
            groups[group_of(name)] += s
        groups["exited threads"] = max(0.0, self.own - sum(self.by_name.values()))
        return groups

    def top(self, n=6):
        return sorted(self.by_name.items(), key=lambda kv: -kv[1])[:n]


class CpuMeter:
    def __init__(self, pid, clock):
        self.pid = pid
        self._clock = clock
        self._t0 = clock()
        self._own0, self._children0 = process_cpu(pid)
        self._threads0 = thread_cpu(pid)

    def stop(self):
        t1 = self._clock()
        own1, children1 = process_cpu(self.pid)
        threads1 = thread_cpu(self.pid)
        by_name = {}
        for tid, (name, s) in threads1.items():
            before = self._threads0.get(tid, (name, 0.0))[1]
            by_name[name] = by_name.get(name, 0.0) + max(0.0, s - before)
        lead = process_name(self.pid)
        named = any(name != lead for name, _ in threads1.values())
        return CpuSample(t1 - self._t0, own1 - self._own0, children1 - self._children0, by_name,
                         len(threads1), named)
