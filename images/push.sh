#!/usr/bin/env bash
# images/push.sh OUT_DIR REGISTRY — pushes every starter image under every name it has
# (images/aliases) into a registry spoken to over plain HTTP, e.g. 127.0.0.1:5000.
#
# Names map to the registry so that one mirror line per upstream registry serves them:
#   docker.io/library/nginx:1.22  → REGISTRY/library/nginx:1.22
#   registry.k8s.io/pause:3.9     → REGISTRY/pause:3.9
# and then registries.yaml says
#   mirrors:
#     docker.io:       {endpoint: ["http://REGISTRY"]}
#     registry.k8s.io: {endpoint: ["http://REGISTRY"]}
#
# OUT_DIR is what images/build.sh wrote. Needs skopeo.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: images/push.sh OUT_DIR REGISTRY}
registry=${2:?usage: images/push.sh OUT_DIR REGISTRY}
command -v skopeo >/dev/null || { echo "images/push.sh: skopeo is missing: apt-get install skopeo" >&2; exit 1; }

awk '$0 !~ /^#/ && NF == 2 { print $1, $2 }' "$here/aliases" | while read -r archive name; do
  [ -f "$out/$archive.tar" ] || { echo "images/push.sh: $out/$archive.tar is missing (run images/build.sh $out)" >&2; exit 1; }
  path=${name#*/}   # drop the registry: docker.io/library/x:t → library/x:t
  echo "images/push.sh: $name → $registry/$path" >&2
  # The archive's index names each image by its full name (see build.sh).
  skopeo copy --quiet --insecure-policy --dest-tls-verify=false \
    "oci-archive:$out/$archive.tar:$name" "docker://$registry/$path"
done
