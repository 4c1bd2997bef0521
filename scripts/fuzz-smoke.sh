#!/bin/sh
# Run every libFuzzer target for a short, bounded time (CI smoke). Seeds for fuzz_<mod>_<rest>
# are taken from tests/fuzz/<mod>/corpus/, tests/fuzz/<mod>/corpus_<rest>/ or
# tests/fuzz/corpus/<target>/, whichever exist.
set -eu
dir=${1:-build-fuzz}/fuzz
secs=${FUZZ_SECONDS:-15}
[ -d "$dir" ] || { echo "fuzz-smoke: no fuzz targets built"; exit 0; }
fail=0; n=0
for f in "$dir"/*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	mod=$(echo "$name" | cut -d_ -f2)
	rest=${name#fuzz_${mod}_}
	work=$(mktemp -d)
	for corpus in "tests/fuzz/$mod/corpus" "tests/fuzz/$mod/corpus_$rest" \
		"tests/fuzz/corpus/$name"; do
		[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
	done
	echo "fuzz-smoke: $name (${secs}s)"
	if ! "$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 "$work" \
		>"$work.log" 2>&1; then
		echo "fuzz-smoke: $name FAILED"; tail -40 "$work.log"; fail=$((fail + 1))
	fi
	n=$((n + 1))
	rm -rf "$work" "$work.log"
done
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
