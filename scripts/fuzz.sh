#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets (tests/fuzz/fuzz_*.c, with clang, ASan and UBSan) and run
# each for a bounded time from its seed corpus.  Fails when any target finds a crash; the
# crashing input (or one that runs over 20 s: a hang) is kept under build-fuzz/crashes/ to become
# a regression test.
#
#   scripts/fuzz.sh [SECONDS]     run each target SECONDS (default 60)
#   scripts/fuzz.sh --ci          what CI runs: 25 seconds per target
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=60
[ "${1:-}" = "--ci" ] && seconds=25
[[ "${1:-}" =~ ^[0-9]+$ ]] && seconds=$1

CC=clang cmake -S . -B build-fuzz -DBARGE_FUZZ=ON -DBARGE_INTEGRATION_TESTS=OFF \
	-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_event fuzz_jobfile fuzz_rules fuzz_grants >/dev/null

shared=${BARGE_SHARED:-$root/../shared}
mkdir -p build-fuzz/crashes build-fuzz/corpus
status=0
for target in fuzz_event fuzz_jobfile fuzz_rules fuzz_grants; do
	work=build-fuzz/corpus/$target
	mkdir -p "$work"
	seeds=("$work")
	[ -d "tests/fuzz/corpus/${target#fuzz_}" ] && seeds+=("tests/fuzz/corpus/${target#fuzz_}")
	case $target in
	fuzz_event)
		[ -d "$shared/fixtures/binlog/mysql" ] && seeds+=("$shared/fixtures/binlog/mysql/rust_mysql_common" "$shared/fixtures/binlog/mysql/apecloud-rust")
		;;
	fuzz_jobfile)
		seeds+=(tests/data/jobs/valid tests/data/jobs/invalid examples)
		;;
	esac
	echo "== $target: ${seconds}s"
	if ! build-fuzz/tests/fuzz/$target -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=20 \
		-artifact_prefix=build-fuzz/crashes/$target- -print_final_stats=1 "${seeds[@]}" \
		>"build-fuzz/$target.log" 2>&1; then
		echo "$target found a problem; see build-fuzz/$target.log and build-fuzz/crashes/" >&2
		tail -30 "build-fuzz/$target.log" >&2
		status=1
	fi
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "build-fuzz/$target.log" | sed "s/^/  $target /" || true
done
exit $status
