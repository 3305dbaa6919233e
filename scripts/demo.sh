#!/usr/bin/env bash
# demo.sh — see barge work on a fresh machine: installs what it needs, builds barge, and
# validates the example job files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

need_deps=0
for cmd in cmake cc pkg-config mariadbd mariadb-install-db; do
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || need_deps=1
done
for pc in libmariadb yaml-0.1 libpcre2-8 libcurl libzstd zlib jansson openssl; do
	pkg-config --exists "$pc" 2>/dev/null || need_deps=1
done
if [ "$need_deps" = 1 ]; then
	echo "demo: installing missing dependencies" >&2
	scripts/install-deps.sh
fi
cmake -S . -B build -DBARGE_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== barge validate examples/"
build/cmd/barge validate examples/
