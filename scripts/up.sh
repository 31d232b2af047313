#!/usr/bin/env bash
# The "try it" command: installs what is needed, builds, starts `kubes server` in the
# background with its data in ./.kubes, and applies the sample in examples/hello/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh kubes
data="$PWD/.kubes"
mkdir -p "$data/images/import"
# The starter images (busybox, nginx, redis), built from Debian packages and loaded by
# the node at start.
images/build.sh build/images
cp -u build/images/*.tar "$data/images/import/"
if [ -f "$data/server.pid" ] && kill -0 "$(cat "$data/server.pid")" 2>/dev/null; then
  echo "kubes is already running (pid $(cat "$data/server.pid"))"
else
  nohup build/kubes server --data-dir "$data" >"$data/server.log" 2>&1 &
  echo $! >"$data/server.pid"
fi
export KUBECONFIG="$data/kubeconfig.yaml"
for _ in $(seq 100); do
  [ -f "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.1
done
kubectl apply -f examples/hello/
kubectl wait --for=condition=Ready pod/hello-web --timeout=120s
kubectl get pods,configmaps -o wide
cat <<MSG

kubes is running (pid $(cat "$data/server.pid"), log in $data/server.log).
  export KUBECONFIG=$KUBECONFIG
  kubectl get all
Stop it with: kill \$(cat $data/server.pid)
(containers keep running while kubes is stopped; build/kubes server --data-dir $data --cleanup removes them)
MSG
