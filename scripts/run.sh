#!/bin/sh
# `make run`: the main job on an embedded default — a single-node Cairn (cairn-server +
# one engine with 2 targets) on file-backed storage under ./run/. See
# scripts/run-system.sh for what it does and the variables it takes.
# `make demo` runs the runtime demo instead (xstreams, ULTs, messages, collectives).
set -eu
build=${1:-build}
exec bash "$(dirname "$0")/run-system.sh" "$build"
