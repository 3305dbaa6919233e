#!/usr/bin/env bash
# test.sh — build barge with warnings as errors and run every test: unit tests, and integration
# tests against real mariadbd servers that the tests start on 127.0.0.1 and stop afterwards.
#
#   scripts/test.sh              the normal build (build/)
#   scripts/test.sh --sanitize   the same under AddressSanitizer + UBSan (build-asan/)
#   scripts/test.sh --unit       unit tests only (no servers)
#   scripts/test.sh ... -- ARGS  extra ctest arguments, e.g. -- -R rules
#
# Installs the Debian packages it needs first (scripts/install-deps.sh) when any is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

sanitize=OFF builddir=build labels=()
while [ $# -gt 0 ]; do
	case "$1" in
	--sanitize) sanitize=ON builddir=build-asan ;;
	--unit) labels=(-L unit) ;;
	--) shift; break ;;
	*) echo "test.sh: unknown option $1 (see the comment at the top of this file)" >&2; exit 1 ;;
	esac
	shift
done

need_deps=0
for cmd in cmake cc pkg-config mariadbd mariadb-install-db; do
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || need_deps=1
done
for pc in libmariadb yaml-0.1 libpcre2-8 libcurl libzstd zlib jansson openssl; do
	pkg-config --exists "$pc" 2>/dev/null || need_deps=1
done
if [ "$need_deps" = 1 ]; then
	echo "test.sh: installing missing build and test dependencies" >&2
	scripts/install-deps.sh
fi

cmake -S . -B "$builddir" -DBARGE_WERROR=ON -DBARGE_SANITIZE="$sanitize" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$builddir" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$builddir"
ctest --output-on-failure -j"$(nproc)" "${labels[@]}" "$@"
