#!/usr/bin/env bash
# chaos.sh — the long chaos run: build barge and the chaos test (tests/integration/test_chaos.c)
# and run it once for as long as asked, against throwaway mariadbd servers.  A random schema and
# workload on the source, a `mode: all` job, and SIGKILLs of barge, kill -9 of the target and
# cut source connections at random moments; at the end every table is compared row by row.
#
#   scripts/chaos.sh                      a time-based seed, 10 minutes
#   scripts/chaos.sh --seed N --minutes M replay seed N (the seed is printed first, always)
#   scripts/chaos.sh --sanitize ...       the same under AddressSanitizer + UBSan (build-asan/)
#
# The CI version is the same test with a bounded duration (ctest -R chaos: 60 s of chaos, 35 s
# under a sanitizer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seed="" minutes=10 sanitize=OFF builddir=build
while [ $# -gt 0 ]; do
	case "$1" in
	--seed) seed=$2; shift ;;
	--minutes) minutes=$2; shift ;;
	--sanitize) sanitize=ON builddir=build-asan ;;
	*) echo "chaos.sh: unknown option $1 (see the comment at the top of this file)" >&2; exit 1 ;;
	esac
	shift
done
[[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "chaos.sh: --minutes wants a number" >&2; exit 1; }
[ -n "$seed" ] || seed=$(( ($(date +%s) << 16) ^ $$ ))
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "chaos.sh: --seed wants a number" >&2; exit 1; }
seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
echo "chaos.sh: seed $seed, $minutes minute(s) (replay: scripts/chaos.sh --seed $seed --minutes $minutes)"

cmake -S . -B "$builddir" -DBARGE_WERROR=ON -DBARGE_SANITIZE="$sanitize" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$builddir" -j"$(nproc)" --target barge test_chaos >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export BARGE_CHAOS_SEED=$seed BARGE_CHAOS_SECONDS=$seconds
# the test binary run directly: it starts its own pair of servers (a watchdog stops them however
# it ends), and no CTest timeout applies
BARGE_BIN="$root/$builddir/cmd/barge" BARGE_SOURCE_DIR="$root" "$builddir/tests/test_chaos" \
	|| { echo "chaos.sh: FAILED with seed $seed (replay: scripts/chaos.sh --seed $seed --minutes $minutes)"; exit 1; }
echo "chaos.sh: passed, seed $seed"
