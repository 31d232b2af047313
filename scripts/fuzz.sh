#!/usr/bin/env bash
# Builds every libFuzzer harness with clang into build-fuzz/ and runs each for
# $1 seconds (default 60) on its seed corpus. Crashes are left in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DKUBES_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build-fuzz decode_fuzz protobuf_fuzz yaml_fuzz json_patch_fuzz strategic_merge_patch_fuzz \
  labels_selector_fuzz fields_selector_fuzz jwt_fuzz fieldmanager_fuzz crd_schema_fuzz images_fuzz websocket_fuzz \
  spdy_fuzz scheduler_fuzz kubes_demo_http_fuzz schedule_fuzz summary_fuzz
run() {  # name corpus-dir
  local work="build-fuzz/corpus-$1"
  mkdir -p "$work"
  echo "== $1"
  "build-fuzz/$2" -max_total_time="$seconds" -artifact_prefix="build-fuzz/$1-" "$work" "$3"
}
run decode api/decode_fuzz api/fuzz_corpus/decode
run protobuf api/protobuf_fuzz api/fuzz_corpus/protobuf
run yaml api/yaml_fuzz api/fuzz_corpus/yaml
run json_patch apiserver/patch/json_patch_fuzz apiserver/patch/fuzz_corpus/json_patch
run strategic_merge_patch apiserver/patch/strategic_merge_patch_fuzz apiserver/patch/fuzz_corpus/strategic_merge_patch
run labels apimachinery/labels/labels_selector_fuzz apimachinery/labels/fuzz_corpus/selector
run fields apimachinery/fields/fields_selector_fuzz apimachinery/fields/fuzz_corpus/selector
run jwt pki/jwt_fuzz pki/fuzz_corpus/jwt
run fieldmanager apiserver/fieldmanager/fieldmanager_fuzz apiserver/fieldmanager/fuzz_corpus/fieldmanager
run crd_schema apiserver/crd/crd_schema_fuzz apiserver/crd/fuzz_corpus/crd_schema
run images runtime/images/images_fuzz runtime/images/fuzz_corpus/images
run websocket kubelet/streaming/websocket_fuzz kubelet/streaming/fuzz_corpus/websocket
run spdy kubelet/streaming/spdy_fuzz kubelet/streaming/fuzz_corpus/spdy
run scheduler scheduler/scheduler_fuzz scheduler/fuzz_corpus/scheduler
run kubes_demo_http cmd/kubes-demo/kubes_demo_http_fuzz cmd/kubes-demo/fuzz_corpus/http
run schedule controller/schedule_fuzz controller/cronjob/fuzz_corpus/schedule
run summary metrics/summary_fuzz metrics/fuzz_corpus/summary
