#!/usr/bin/env bash
# images/build.sh OUT_DIR — builds kubes' starter images offline from Debian packages.
#
# Writes OUT_DIR/busybox.tar, OUT_DIR/nginx.tar, OUT_DIR/redis.tar and
# OUT_DIR/kubes-demo.tar: OCI archives (a tar of an OCI image layout, one uncompressed
# layer each) whose index.json names every alias listed for them in images/aliases.
# `kubes image import OUT_DIR/*.tar` loads them; images/push.sh pushes them into a registry.
#
#   busybox  the host's /bin/busybox (package busybox-static) with its applet links,
#            /etc/passwd and /etc/group (root, nobody), /tmp; Cmd ["sh"]
#   nginx    nginx-light + busybox-static from Debian (mmdebstrap --variant=extract) with
#            what the packages' maintainer scripts would have set up; logs go to the
#            container's stdout/stderr like the official image; port 80, StopSignal SIGQUIT
#   redis    redis-server + busybox-static; redis-server --protected-mode no, port 6379
#   kubes-demo  cmd/kubes-demo compiled here into one static binary (g++ -static, with
#            libssl-dev's libssl.a and libcrypto.a) + busybox-static; runs as nonroot
#            (65532), ports 8080 and 8443
#
# Needs root (mmdebstrap extracts files owned by other users), busybox-static, mmdebstrap,
# g++ and libssl-dev, and apt's mirror (the only network used). Results are cached in
# ${KUBES_IMAGE_CACHE:-$HOME/.cache/kubes/images} by the versions of the packages (for
# kubes-demo: by a hash of its sources and the compiler's and libraries' versions): a
# second run copies them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
demo_src=$(cd "$here/../cmd/kubes-demo" && pwd)
out=${1:?usage: images/build.sh OUT_DIR}
cache=${KUBES_IMAGE_CACHE:-$HOME/.cache/kubes/images}
suite=bookworm
epoch=${SOURCE_DATE_EPOCH:-1700000000}  # newer file times are clamped to this
path_env="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

log() { echo "images/build.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the images hold files owned by several users)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install mmdebstrap"
[ -x /bin/busybox ] && dpkg -S /bin/busybox 2>/dev/null | grep -q busybox-static ||
  die "/bin/busybox must come from busybox-static: apt-get install busybox-static"

mkdir -p "$out" "$cache"
work=$(mktemp -d /tmp/kubes-image-build-XXXXXX)
trap 'rm -rf "$work"' EXIT

# The host's apt sources, so mmdebstrap uses the same mirror as apt does here.
sources=http://deb.debian.org/debian
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  if [ -s "$f" ]; then sources=$f; break; fi
done

case "$(dpkg --print-architecture)" in
  amd64) arch=amd64 variant= ;;
  arm64) arch=arm64 variant=v8 ;;
  armhf) arch=arm variant=v7 ;;
  i386) arch=386 variant= ;;
  *) arch=$(dpkg --print-architecture) variant= ;;
esac

# ---- JSON, written by hand (strings here never hold control characters) -------------
json_string() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}
json_array() {
  local sep= item
  printf '['
  for item in "$@"; do printf '%s%s' "$sep" "$(json_string "$item")"; sep=,; done
  printf ']'
}

aliases_for() { awk -v a="$1" '$1 == a && $0 !~ /^#/ { print $2 }' "$here/aliases"; }

# The versions apt would install now, asked once (apt-cache takes most of a cached run).
declare -A candidates
while read -r pkg version; do candidates[$pkg]=$version; done < <(
  apt-cache policy busybox-static nginx-light redis-server usr-is-merged 2>/dev/null |
    awk '/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1) } /Candidate:/ { print pkg, $2 }')
candidate() { echo "${candidates[$1]:-unknown}"; }

# kubes-demo's sources: every .cc and .h but the tests and the fuzz harness.
demo_sources() {
  find "$demo_src" -maxdepth 1 \( -name '*.cc' -o -name '*.h' \) ! -name '*_test.cc' ! -name '*_fuzz.cc' | sort
}

# What goes into an archive besides packages: for kubes-demo, its sources and the
# compiler and libraries it is built with (the installed ones, not apt's candidates).
extra_key() {
  case "$1" in
    kubes-demo)
      demo_sources | xargs sha256sum | sed "s|$demo_src/||"
      { g++ --version 2>/dev/null || echo "no g++"; } | head -1
      dpkg-query -W -f='${Package} ${Version}\n' libssl-dev libc6-dev nlohmann-json3-dev 2>/dev/null || true
      ;;
  esac
}

# A key that changes when anything that goes into an archive changes.
cache_key() {
  local name=$1; shift
  {
    sha256sum "$here/build.sh"
    aliases_for "$name"
    echo "$suite $arch"
    sha256sum /bin/busybox
    for pkg in "$@"; do echo "$pkg $(candidate "$pkg")"; done
    extra_key "$name"
  } | sha256sum | cut -c1-16
}

# ---- root filesystems -----------------------------------------------------------------

# /bin/<applet> → busybox for every applet no package already provides.
add_applets() {
  local root=$1 applet
  mkdir -p "$root/bin"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] && continue   # busybox lists itself
    [ -e "$root/bin/$applet" ] || [ -e "$root/usr/bin/$applet" ] || [ -e "$root/sbin/$applet" ] ||
      [ -e "$root/usr/sbin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
}

# /etc/passwd and /etc/group: root, nobody, and "name:uid" for each argument.
write_users() {
  local root=$1 user; shift
  mkdir -p "$root/etc"
  {
    echo "root:x:0:0:root:/root:/bin/sh"
    for user in "$@"; do echo "${user%%:*}:x:${user##*:}:${user##*:}:${user%%:*}:/nonexistent:/bin/false"; done
    echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false"
  } >"$root/etc/passwd"
  {
    echo "root:x:0:"
    for user in "$@"; do echo "${user%%:*}:x:${user##*:}:"; done
    echo "nogroup:x:65534:"
  } >"$root/etc/group"
  chmod 0644 "$root/etc/passwd" "$root/etc/group"
}

# Directories every image has; the runtime mounts /dev, /proc, /sys and the /etc files.
base_dirs() {
  local root=$1
  mkdir -p "$root"/{dev,proc,sys,etc,root,home,tmp,run,var/tmp,usr/local/bin}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 0700 "$root/root"
  find "$root/dev" -mindepth 1 -delete
  : >"$root/etc/hostname"
  : >"$root/etc/resolv.conf"
}

rootfs_busybox() {
  local root=$1
  mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/busybox"
  add_applets "$root"
  base_dirs "$root"
  write_users "$root"
}

# The packages (and what they depend on) unpacked, no maintainer scripts run.
rootfs_debian() {
  local root=$1; shift
  local include
  include=$(IFS=,; echo "$*")
  if ! mmdebstrap --quiet --variant=extract --include="$include" \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      "$suite" "$root" "$sources" >"$work/mmdebstrap.log" 2>&1; then
    cat "$work/mmdebstrap.log" >&2
    die "mmdebstrap failed for $include"
  fi
  rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/*
  # busybox-static puts its binary in /bin already; give it its applets.
  add_applets "$root"
  base_dirs "$root"
}

# What nginx-common's postinst and the official image's Dockerfile would do.
finish_nginx() {
  local root=$1
  write_users "$root" www-data:33
  mkdir -p "$root"/var/{log/nginx,lib/nginx,www/html}
  ln -sfn ../sites-available/default "$root/etc/nginx/sites-enabled/default"
  ln -sfn /dev/stdout "$root/var/log/nginx/access.log"
  ln -sfn /dev/stderr "$root/var/log/nginx/error.log"
  cp "$root/usr/share/nginx/html/index.html" "$root/var/www/html/index.nginx-debian.html"
  # Serve /usr/share/nginx/html as the official image does: the docs' examples mount
  # their content there.
  sed -i 's#^\(\s*root\) /var/www/html;#\1 /usr/share/nginx/html;#' "$root/etc/nginx/sites-available/default"
}

finish_redis() {
  local root=$1
  write_users "$root" redis:999
  mkdir -p "$root/data"
}

# cmd/kubes-demo as one static binary: nothing else from kubes, OpenSSL linked in.
compile_kubes_demo() {
  local bin=$1
  command -v g++ >/dev/null || die "g++ is missing: apt-get install g++"
  [ "$(g++ -print-file-name=libssl.a)" != libssl.a ] || die "libssl.a is missing: apt-get install libssl-dev"
  # shellcheck disable=SC2046  # one argument per source file
  if ! g++ -std=c++20 -O2 -static -s -pthread -o "$bin" $(demo_sources | grep '\.cc$') -lssl -lcrypto \
      2>"$work/kubes-demo-build.log"; then
    cat "$work/kubes-demo-build.log" >&2
    die "compiling cmd/kubes-demo failed"
  fi
  # libcrypto.a holds code for dlopen'ed engines and host name lookups that kubes-demo
  # never runs; the linker warns about those in any static binary. Show anything else.
  grep -v -e 'in statically linked applications requires at runtime' -e 'libcrypto\.a(.*): in function' \
    "$work/kubes-demo-build.log" >&2 || true
}

# The demo binary, busybox (so `kubectl exec` has a shell, wget and env for the
# examples), and a nonroot user to run as.
rootfs_kubes_demo() {
  local root=$1
  rootfs_busybox "$root"
  write_users "$root" nonroot:65532
  compile_kubes_demo "$root/usr/local/bin/kubes-demo"
}

# ---- OCI archive ------------------------------------------------------------------------

# blob FILE → moves FILE into the layout's blobs, prints its hex digest.
blob() {
  local hex
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$layout/blobs/sha256/$hex"
  echo "$hex"
}

# make_archive NAME ROOTFS CONFIG — CONFIG is the JSON object of the image config's "config".
make_archive() {
  local name=$1 root=$2 config=$3
  layout=$work/$name-layout
  mkdir -p "$layout/blobs/sha256"
  tar --create --file "$work/layer.tar" --directory "$root" --numeric-owner --sort=name --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime="@$epoch" --clamp-mtime --xattrs .
  local layer_size layer diff_id
  layer_size=$(stat -c %s "$work/layer.tar")
  layer=$(blob "$work/layer.tar")
  diff_id=sha256:$layer   # uncompressed: the blob is its own diff ID
  local platform="\"architecture\":\"$arch\",\"os\":\"linux\""
  [ -n "$variant" ] && platform+=",\"variant\":\"$variant\""
  printf '{%s,"config":%s,"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created_by":"images/build.sh %s"}]}' \
    "$platform" "$config" "$diff_id" "$name" >"$work/config.json"
  local config_size config_hex
  config_size=$(stat -c %s "$work/config.json")
  config_hex=$(blob "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config_hex" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
  local manifest_size manifest_hex
  manifest_size=$(stat -c %s "$work/manifest.json")
  manifest_hex=$(blob "$work/manifest.json")
  # One index entry per name: containerd's annotation for the full name, and the full
  # name as ref.name too so `skopeo copy oci-archive:FILE:NAME` can pick it.
  local entries= sep= alias
  for alias in $(aliases_for "$name"); do
    entries+=$sep$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{%s},"annotations":{"io.containerd.image.name":%s,"org.opencontainers.image.ref.name":%s}}' \
      "$manifest_hex" "$manifest_size" "$platform" "$(json_string "$alias")" "$(json_string "$alias")")
    sep=,
  done
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "$entries" \
    >"$layout/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  tar --create --file "$work/$name.tar" --directory "$layout" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$epoch" oci-layout index.json blobs
  rm -rf "$layout"
}

# ---- the images ---------------------------------------------------------------------------

# build NAME PACKAGES... — from the cache, or built and cached.
build() {
  local name=$1; shift
  local key cached
  key=$(cache_key "$name" "$@")
  cached="$cache/$name-$key.tar"
  if [ ! -s "$cached" ]; then
    log "building $name (packages: ${*:-none}; takes a minute)"
    local root=$work/$name-root
    rm -rf "$root"
    case "$name" in
      busybox)
        rootfs_busybox "$root"
        make_archive busybox "$root" "{\"Cmd\":$(json_array sh),\"Env\":$(json_array "$path_env")}"
        ;;
      nginx)
        rootfs_debian "$root" "$@"
        finish_nginx "$root"
        make_archive nginx "$root" "{\"Cmd\":$(json_array nginx -g 'daemon off;'),\"Env\":$(json_array "$path_env"),\"ExposedPorts\":{\"80/tcp\":{}},\"StopSignal\":\"SIGQUIT\"}"
        ;;
      redis)
        rootfs_debian "$root" "$@"
        finish_redis "$root"
        make_archive redis "$root" "{\"Cmd\":$(json_array redis-server --protected-mode no),\"Env\":$(json_array "$path_env"),\"ExposedPorts\":{\"6379/tcp\":{}},\"WorkingDir\":\"/data\"}"
        ;;
      kubes-demo)
        rootfs_kubes_demo "$root"
        make_archive kubes-demo "$root" "{\"Cmd\":$(json_array /usr/local/bin/kubes-demo),\"Env\":$(json_array "$path_env"),\"ExposedPorts\":{\"8080/tcp\":{},\"8443/tcp\":{}},\"User\":\"65532:65532\"}"
        ;;
    esac
    rm -rf "$root"
    rm -f "$cache/$name"-*.tar   # older builds of this image
    mv "$work/$name.tar" "$cached"
  fi
  cp "$cached" "$out/$name.tar.tmp"
  mv "$out/$name.tar.tmp" "$out/$name.tar"
  log "$out/$name.tar ($(aliases_for "$name" | wc -l) names)"
}

build busybox busybox-static
build nginx nginx-light busybox-static
# usr-is-merged stands in for usrmerge (and the perl it drags in) in init-system-helpers'
# dependencies; nothing is configured in an extract anyway.
build redis redis-server usr-is-merged busybox-static
# Compiled from cmd/kubes-demo; busybox-static is the only package in it.
build kubes-demo busybox-static
