"""What kubes is compared with: `podman kube play` of the same pod manifests, and the
floor — a bare `runc run` / `crun run` of /bin/true in a busybox bundle.

podman runs with a configuration of the run's own (CONTAINERS_CONF, --root, --runroot,
--tmpdir, its CNI network in the run's directory with a bridge of its own name), so the
machine's /etc/containers is never changed. What podman still puts outside that
directory (its SHM lock, a blob-info cache, CNI result files, cgroups under
libpod_parent) is recorded before the run and removed by `Podman.cleanup` if the run made it.
"""
import glob
import json
import os
import shutil
import subprocess
import threading
import time

from cluster import pod_manifest
from host import monitor_pids, rmdir_tree, stop_pid, unmount_under

NETWORK = "podbench"
# Paths podman may create outside its own directories, removed afterwards if absent before.
GLOBAL_PATHS = ["/dev/shm/libpod_lock", "/var/lib/containers", "/var/cache/containers", "/var/lib/cni",
                "/run/runc", "/run/netns"]
EMPTY_ONLY = {"/run/runc", "/run/netns"}  # shared with other runtimes: removed only when empty
CGROUP_PARENT = "libpod_parent"


def cgroup_hierarchies():
    return sorted(d for d in glob.glob("/sys/fs/cgroup/*") if os.path.isdir(d) and not os.path.islink(d))


def global_snapshot():
    """What exists now of the paths podman may leave behind (recorded before it runs)."""
    parents = {}
    for h in cgroup_hierarchies():
        p = os.path.join(h, CGROUP_PARENT)
        if os.path.isdir(p):
            parents[p] = sorted(os.listdir(p))
    return {"paths": [p for p in GLOBAL_PATHS if os.path.lexists(p)], "cgroups": parents}


class Podman:
    def __init__(self, work, subnet_octet, bridge):
        self.dir = os.path.join(work, "podman")
        self.subnet_octet = subnet_octet
        self.bridge = bridge
        d = self.dir
        self.conf = os.path.join(d, "containers.conf")
        self.tmp = os.path.join(d, "tmp")
        self.netdir = os.path.join(d, "networks")
        self.runc_root = os.path.join(d, "runc")
        self.manifests = os.path.join(d, "manifests")
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf, TMPDIR=self.tmp)
        self.base = ["podman", "--root", os.path.join(d, "root"), "--runroot", os.path.join(d, "runroot"),
                     "--storage-driver", "overlay", "--runtime", "runc", "--runtime-flag", f"root={self.runc_root}",
                     "--cgroup-manager", "cgroupfs", "--tmpdir", self.tmp, "--network-config-dir", self.netdir,
                     "--events-backend", "file"]

    # ---- setup ---------------------------------------------------------------------------

    def setup(self, busybox_tar):
        for sub in ("tmp", "networks", "runc", "manifests", "ipam"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        # machine-notes: rlimits equal to the host's hard limits fail with EPERM here.
        with open(self.conf, "w") as f:
            f.write('[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
                    f'[engine]\ntmp_dir = "{self.tmp}"\nevents_logger = "file"\n'
                    f'events_logfile_path = "{self.dir}/events.log"\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n'
                    f'[network]\nnetwork_config_dir = "{self.netdir}"\n')
        # A CNI bridge like kubes' own pod network (bridge + host-local, no NAT), with a
        # bridge name and an address range of this run's own.
        conflist = {"cniVersion": "0.4.0", "name": NETWORK, "plugins": [{
            "type": "bridge", "bridge": self.bridge, "isGateway": True, "ipMasq": False, "hairpinMode": True,
            "ipam": {"type": "host-local", "dataDir": os.path.join(self.dir, "ipam"),
                     "routes": [{"dst": "0.0.0.0/0"}],
                     "ranges": [[{"subnet": f"10.{self.subnet_octet}.0.0/16",
                                  "gateway": f"10.{self.subnet_octet}.0.1"}]]}}]}
        with open(os.path.join(self.netdir, f"{NETWORK}.conflist"), "w") as f:
            json.dump(conflist, f)
        self.run("pull", f"oci-archive:{busybox_tar}:docker.io/library/busybox:1.36")

    def run(self, *args, timeout=300):
        r = subprocess.run(self.base + list(args), env=self.env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()[-800:]}")
        return r.stdout

    def version(self):
        return self.run("version", "--format", "{{.Client.Version}}").strip()

    def manifest_file(self, name):
        """The same pod manifest the kubes phases POST, as a file for `podman kube play`
        (JSON is YAML)."""
        path = os.path.join(self.manifests, f"{name}.yaml")
        with open(path, "w") as f:
            json.dump(pod_manifest(name), f)
        return path

    def play_argv(self, path):
        return self.base + ["kube", "play", "--network", NETWORK, path]

    # ---- phases --------------------------------------------------------------------------

    def play_one_at_a_time(self, names):
        """Plays each manifest after the previous returned; latency = the command's run
        time (it returns once the pod's containers are started)."""
        files = [self.manifest_file(n) for n in names]
        latencies = []
        for path in files:
            t0 = time.monotonic()
            r = subprocess.run(self.play_argv(path), env=self.env, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=120)
            latencies.append(time.monotonic() - t0)
            if r.returncode != 0:
                raise RuntimeError(f"podman kube play {path}: {r.stderr.strip()[-800:]}")
        return latencies

    def play_at_once(self, names):
        """Starts one `podman kube play` per manifest, all at once. Returns (per-pod
        latencies from each command's start to its return, total from the first start to
        the last return)."""
        files = [self.manifest_file(n) for n in names]
        started, ended, failures = {}, {}, []
        procs = {}
        start = time.monotonic()
        for path in files:
            started[path] = time.monotonic()
            procs[path] = subprocess.Popen(self.play_argv(path), env=self.env, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        def waiter(path, proc):
            _, err = proc.communicate(timeout=300)
            ended[path] = time.monotonic()
            if proc.returncode != 0:
                failures.append(f"{path}: {err.strip()[-300:]}")

        threads = [threading.Thread(target=waiter, args=(p, proc)) for p, proc in procs.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise RuntimeError(f"{len(failures)} podman kube play failed, first: {failures[0]}")
        return [ended[p] - started[p] for p in files], max(ended.values()) - start

    def running_pods(self):
        pods = json.loads(self.run("pod", "ps", "--format", "json") or "[]")
        return sum(1 for p in pods if p.get("Status") == "Running")

    def conmons(self):
        return monitor_pids(self.dir)

    def clear(self):
        """Removes every pod: kill first (the sleeps ignore SIGTERM, so `rm` alone waits
        out the stop timeout for each)."""
        self.run("pod", "kill", "--all")
        self.run("pod", "rm", "--all", "--force")
        self.run("rm", "--all", "--force")

    # ---- cleanup -------------------------------------------------------------------------

    @staticmethod
    def cleanup(work, bridge, before):
        """Undoes everything a run's podman made; safe to call twice and after a crash."""
        d = os.path.join(work, "podman")
        if not os.path.isdir(d):
            return
        p = Podman(work, 0, bridge)
        if shutil.which("podman") and os.path.exists(p.conf):
            for args in (["pod", "kill", "--all"], ["pod", "rm", "--all", "--force"], ["rm", "--all", "--force"]):
                subprocess.run(p.base + args, env=p.env, capture_output=True, timeout=300)
        # Containers podman lost track of: runc's own state says which are left.
        if os.path.isdir(p.runc_root):
            for cid in os.listdir(p.runc_root):
                subprocess.run(["runc", "--root", p.runc_root, "delete", "--force", cid], capture_output=True)
        for pid in monitor_pids(d):
            stop_pid(pid, d, timeout=5)
        unmount_under(d)
        if bridge and os.path.exists(f"/sys/class/net/{bridge}"):
            subprocess.run(["ip", "link", "del", bridge], capture_output=True)
        Podman._remove_globals(before)

    @staticmethod
    def _remove_globals(before):
        if before is None:
            return
        for path in GLOBAL_PATHS:
            if path in before["paths"] or not os.path.lexists(path):
                continue
            if path in EMPTY_ONLY:
                try:
                    os.rmdir(path)
                except OSError:
                    pass
            elif os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        for h in cgroup_hierarchies():
            parent = os.path.join(h, CGROUP_PARENT)
            if not os.path.isdir(parent):
                continue
            if parent not in before["cgroups"]:
                rmdir_tree(parent)
            else:
                for child in set(os.listdir(parent)) - set(before["cgroups"][parent]):
                    if os.path.isdir(os.path.join(parent, child)):
                        rmdir_tree(os.path.join(parent, child))


# ---- the floor -----------------------------------------------------------------------------

def floor_cgroup(pid):
    return f"podbench-floor-{pid}"


def make_bundle(work, busybox_tar):
    """An OCI bundle whose rootfs is the busybox image's layers and whose process is
    /bin/true, with resource limits, its own cgroup and (runc spec's default) a new network
    namespace."""
    bundle = os.path.join(work, "floor", "bundle")
    oci = os.path.join(work, "floor", "oci")
    rootfs = os.path.join(bundle, "rootfs")
    os.makedirs(oci)
    os.makedirs(rootfs)
    subprocess.run(["tar", "-xf", busybox_tar, "-C", oci], check=True)

    def blob(digest):
        return os.path.join(oci, "blobs", *digest.split(":", 1))

    with open(os.path.join(oci, "index.json")) as f:
        manifest_digest = json.load(f)["manifests"][0]["digest"]
    with open(blob(manifest_digest)) as f:
        layers = json.load(f)["layers"]
    for layer in layers:
        subprocess.run(["tar", "-xf", blob(layer["digest"]), "-C", rootfs], check=True)
    subprocess.run(["runc", "spec", "--bundle", bundle], check=True)
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["/bin/true"]
    spec["linux"]["cgroupsPath"] = "/" + floor_cgroup(os.getpid())
    spec["linux"]["resources"] = dict(spec["linux"].get("resources", {}),
                                      memory={"limit": 64 << 20},
                                      cpu={"quota": 50000, "period": 100000},
                                      pids={"limit": 64})
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def run_floor(runtime, bundle, state_root, runs):
    """`runtime run` of the bundle `runs` times; returns (seconds per run, None) or
    (None, the runtime's error) when it cannot run here."""
    os.makedirs(state_root, exist_ok=True)
    times = []
    for i in range(runs):
        cid = f"podbench-floor-{os.getpid()}-{i}"
        t0 = time.monotonic()
        r = subprocess.run([runtime, "--root", state_root, "run", "--bundle", bundle, cid],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        times.append(time.monotonic() - t0)
        if r.returncode != 0:
            subprocess.run([runtime, "--root", state_root, "delete", "--force", cid], capture_output=True)
            err = (r.stderr or r.stdout).strip().splitlines()
            return None, err[-1] if err else f"exit {r.returncode}"
    return times, None


def cleanup_floor(work, pid):
    for runtime in ("runc", "crun"):
        state_root = os.path.join(work, "floor", runtime)
        if os.path.isdir(state_root) and shutil.which(runtime):
            for cid in os.listdir(state_root):
                subprocess.run([runtime, "--root", state_root, "delete", "--force", cid], capture_output=True)
    for h in cgroup_hierarchies():
        path = os.path.join(h, floor_cgroup(pid))
        if os.path.isdir(path):
            rmdir_tree(path)
    unmount_under(os.path.join(work, "floor"))
