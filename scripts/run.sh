#!/bin/sh
# `make run`: the main job on an embedded default. Until the engine lands (issue 5) this
# runs the runtime demo: a local runtime with system + 2 target xstreams, a visible
# workload of ULTs, messages and collectives, and its metrics. State goes under ./run/.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
mkdir -p run
if [ -x "$build/bin/cairn-rt-demo" ]; then
	exec "$build/bin/cairn-rt-demo" --config src/tools/rt_demo/rt-demo.yaml "$@"
fi
echo "run: $build/bin/cairn-rt-demo was not built; see the build output above" >&2
exit 1
