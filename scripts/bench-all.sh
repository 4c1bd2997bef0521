#!/bin/sh
# `make bench`: every benchmark in bench/, one after the other. Each prints a table and,
# as its last line, one JSON object; this script collects those lines in
# run/bench-results.jsonl. Benchmarks want a quiet machine: close other work first.
set -u
build=${1:-build}
mkdir -p run
out=run/bench-results.jsonl
: >"$out"
run() {
	name=$1; shift
	echo "=== $name"
	if "$@" >run/bench-$name.log 2>&1; then
		cat run/bench-$name.log
		tail -n 1 run/bench-$name.log | sed "s/^{/{\"bench\":\"$name\",/" >>"$out"
	else
		echo "bench: $name failed; see run/bench-$name.log"; tail -20 run/bench-$name.log
	fi
}
[ -x "$build/bin/cairn-rt-bench" ] && run rt "$build/bin/cairn-rt-bench" --json
[ -f bench/net.sh ] && run net sh bench/net.sh "$build"
[ -f bench/vos.sh ] && run vos sh bench/vos.sh "$build"
[ -f bench/iscsi.sh ] && run iscsi bash bench/iscsi.sh "$build"
[ -f bench/system.sh ] && run system bash bench/system.sh "$build"
echo "bench: results in $out"
