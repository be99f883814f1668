#!/usr/bin/env bash
# make demo: the main job. Until the network exists, it screens the public conformance requests
# and prints each explained decision.
set -euo pipefail
comity=${1:-build/bin/comity}
"$comity" --version
