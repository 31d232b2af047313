#!/usr/bin/env bash
# The test command: installs what is needed, builds, runs the unit tests (ctest) and
# the end-to-end tests (pytest with the real kubectl and the Python client).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
echo "== unit tests"
(cd build && ctest --output-on-failure -j2)
echo "== end-to-end tests"
/usr/bin/python3 -m pytest -q test/e2e "$@"
