#!/usr/bin/env bash
# valgrind.sh — build barge without sanitizers (build-valgrind/) and run the tests under valgrind
# memcheck: every test binary, and every `barge` process the integration tests start (BARGE_BIN
# points at a wrapper that execs valgrind on the real binary).  A definite or indirect leak, or
# any memory error, fails the test (exit 99); valgrind's reports are kept in
# build-valgrind/vglogs/.  Suppressions: tests/valgrind.supp (library noise only).
#
#   scripts/valgrind.sh          unit tests + every integration test
#   scripts/valgrind.sh --ci     unit tests + a subset of integration tests that keeps CI under
#                                about 3 minutes on 2 cores
#   scripts/valgrind.sh ... -- ARGS   extra ctest arguments, e.g. -- -R security
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

ci=0
while [ $# -gt 0 ]; do
	case "$1" in
	--ci) ci=1 ;;
	--) shift; break ;;
	*) echo "valgrind.sh: unknown option $1 (see the comment at the top of this file)" >&2; exit 1 ;;
	esac
	shift
done
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 1; }

build=$root/build-valgrind
logs=$build/vglogs
vg=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30
    --suppressions="$root/tests/valgrind.supp" --gen-suppressions=all)

mkdir -p "$build"
rm -rf "$logs"
mkdir -p "$logs"
# barge itself, as the integration tests start it
cat >"$build/vg-barge" <<EOS
#!/bin/sh
exec ${vg[*]} --log-file=$logs/barge.%p.log '$build/cmd/barge' "\$@"
EOS
# a test binary: its barge processes go through vg-barge
cat >"$build/vg-test" <<EOS
#!/bin/sh
export BARGE_BIN='$build/vg-barge'
exec ${vg[*]} --log-file=$logs/test.%p.log "\$@"
EOS
chmod +x "$build/vg-barge" "$build/vg-test"

# CMAKE_CROSSCOMPILING_EMULATOR prefixes every add_test() of an executable target, so each
# test case runs as `vg-test test_binary CASE`; other tests (the servers fixture, the schema
# check in Python) run as they are.
cmake -S . -B "$build" -DBARGE_WERROR=ON -DBARGE_SANITIZE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_CROSSCOMPILING_EMULATOR="$build/vg-test" >/dev/null
cmake --build "$build" -j"$(nproc)"

select=()
if [ "$ci" = 1 ]; then
	# unit tests, and integration cases that drive the most code per second: the full copy of
	# every type, replication of every change, the controller's plan/apply/run/pause/delete
	select=(-R '^(unit\.|servers_|integration\.test_full\.every_type_round_trips$|integration\.test_incremental\.changes_of_every_kind_follow_the_full_phase$|integration\.test_control\.plan_apply_run_pause_resume_delete_status$)')
fi
start=$(date +%s)
status=0
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 900 "${select[@]}" "$@") || status=$?
# a barge process whose exit status a test did not check still leaves its report
bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost|indirectly lost|Invalid (read|write|free)|uninitialised' "$logs"/*.log 2>/dev/null || true)
if [ -n "$bad" ]; then
	echo "valgrind.sh: valgrind reported problems in:" >&2
	for f in $bad; do echo "== $f" >&2; head -60 "$f" >&2; done
	status=1
fi
echo "valgrind.sh: $(( $(date +%s) - start ))s, $(ls "$logs" | wc -l) valgrind logs in $logs"
exit $status
