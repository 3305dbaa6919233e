#!/usr/bin/env bash
# demo.sh — watch barge migrate a database on a fresh machine.
#
# Installs what it needs (Debian packages), builds barge, starts two throwaway MariaDB servers
# on 127.0.0.1 (a source with its binlog on, and a target standing in for TiDB), loads a sample
# shop database into the source, migrates it with `barge run --once`, and compares both sides
# table by table.  The servers are stopped and removed at the end, whatever happens.
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
	echo "== installing missing dependencies" >&2
	scripts/install-deps.sh
fi
echo "== building barge"
cmake -S . -B build -DBARGE_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
barge=$root/build/cmd/barge

work=$(mktemp -d /tmp/barge-demo-XXXXXX)
cleanup() {
	tests/integration/servers.sh stop "$work/servers" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
echo "== starting a source and a target MariaDB on 127.0.0.1"
BARGE_WATCH_PID=$$ tests/integration/servers.sh start "$work/servers"
# shellcheck disable=SC1091
source "$work/servers/env"
src() { mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$SOURCE_PORT" -ubarge_admin -p"$SOURCE_ADMIN_PASSWORD" "$@"; }
tgt() { mariadb --no-defaults --default-character-set=utf8mb4 -h127.0.0.1 -P"$TARGET_PORT" -ubarge_admin -p"$TARGET_ADMIN_PASSWORD" "$@"; }

echo "== loading the sample shop database into the source"
src <examples/demo/shop.sql
src -t -e "SELECT TABLE_NAME AS \`table\`, TABLE_ROWS AS \`rows (estimate)\` FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' ORDER BY 1"

sed -e "s/@SOURCE_PORT@/$SOURCE_PORT/" -e "s/@TARGET_PORT@/$TARGET_PORT/" \
	examples/demo/shop.yaml.in >"$work/shop.yaml"
export DEMO_SOURCE_PASSWORD=$SOURCE_SRC_PASSWORD DEMO_TARGET_PASSWORD=$TARGET_TGT_PASSWORD

echo "== barge validate"
"$barge" validate "$work/shop.yaml"
echo "== barge run --once (the job file: $work/shop.yaml)"
"$barge" run --once --progress 1 --store "dir:$work/store" "$work/shop.yaml"

echo "== source and target, table by table (CHECKSUM TABLE)"
tables=$(src -N -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' ORDER BY 1")
printf '%-28s %10s %10s %22s %22s %s\n' table "src rows" "tgt rows" "src checksum" "tgt checksum" ""
ok=1
while IFS= read -r t; do
	q=$(printf '%s' "$t" | sed 's/`/``/g')
	sr=$(src -N -e "SELECT COUNT(*) FROM shop.\`$q\`")
	tr=$(tgt -N -e "SELECT COUNT(*) FROM shop.\`$q\`")
	sc=$(src -N -e "CHECKSUM TABLE shop.\`$q\` EXTENDED" | awk -F'\t' '{print $2}')
	tc=$(tgt -N -e "CHECKSUM TABLE shop.\`$q\` EXTENDED" | awk -F'\t' '{print $2}')
	mark=same
	if [ "$sr" != "$tr" ] || [ "$sc" != "$tc" ]; then mark=DIFFERENT; ok=0; fi
	printf '%-28s %10s %10s %22s %22s %s\n' "$t" "$sr" "$tr" "$sc" "$tc" "$mark"
done <<<"$tables"
echo "== checkpoints barge kept in the target (barge_meta.tables)"
tgt -t -e "SELECT src_table, keyless, done, rows_copied, first_file, first_pos FROM barge_meta.tables WHERE job = 'shop-demo' ORDER BY 1"
if [ "$ok" = 1 ]; then
	echo "== done: the target holds exactly what the source holds"
else
	echo "== the target differs from the source" >&2
	exit 1
fi
