#!/usr/bin/env bash
# bench/decode/run.sh — decoding speed on a binlog written by sysbench oltp_write_only.
#
# Starts a throwaway MariaDB source, runs sysbench oltp_write_only until the binlog holds at
# least MB megabytes (default 500), then decodes that binlog
#   1. with `barge binlog decode` to /dev/null (text, like mysqlbinlog -v),
#   2. with `barge binlog decode --stats` (every value rendered as SQL, as the apply side does),
#   3. with `mariadb-binlog --base64-output=decode-rows --verbose` to /dev/null,
# reporting MB/s, row events/s and peak RSS (/usr/bin/time -v) of each.  Best of REPEAT runs.
#
#   bench/decode/run.sh [MB] [REPEAT]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mb=${1:-500} repeat=${2:-3}
cd "$root"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBARGE_WERROR=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target barge >/dev/null
barge=$root/build-bench/cmd/barge
work=$(mktemp -d /tmp/barge-bench-decode-XXXXXX)
trap 'tests/integration/servers.sh stop "$work/servers" >/dev/null 2>&1; rm -rf "$work"' EXIT
BARGE_WATCH_PID=$$ tests/integration/servers.sh start-one "$work/servers" source source \
	--max-binlog-size=1G 2>/dev/null
source "$work/servers/source.env"
src() { mariadb --no-defaults -h127.0.0.1 -P"$SOURCE_PORT" -ubarge_admin -p"$SOURCE_ADMIN_PASSWORD" "$@"; }
sb() {
	sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$SOURCE_PORT" \
		--mysql-user=barge_admin --mysql-password="$SOURCE_ADMIN_PASSWORD" --mysql-db=sbtest \
		--tables=4 --table-size=100000 "$@"
}
src -e "CREATE DATABASE sbtest"
sb --threads=2 prepare >/dev/null
src -e "FLUSH BINARY LOGS"
file=$SOURCE_DIR/data/$(src -N -e "SHOW MASTER STATUS" | awk '{print $1}')
while [ "$(stat -c %s "$file")" -lt $((mb * 1000 * 1000)) ]; do
	sb --threads=2 --time=30 --report-interval=0 run >/dev/null
done
src -e "FLUSH BINARY LOGS"
size=$(stat -c %s "$file")
rows=$("$barge" binlog decode --stats "$file" | sed -E 's/.* ([0-9]+) rows,.*/\1/')
echo "binlog: $file, $(awk "BEGIN{printf \"%.1f\", $size/1e6}") MB, $rows row images"

measure() { # measure NAME COMMAND...: best wall seconds and max RSS
	local name=$1 best="" rss=0 out wall r
	shift
	for _ in $(seq 1 "$repeat"); do
		out=$( { /usr/bin/time -v "$@" >/dev/null 2>"$work/err"; } 2>&1; cat "$work/err")
		wall=$(grep 'Elapsed (wall clock)' <<<"$out" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
		r=$(grep 'Maximum resident set size' <<<"$out" | awk '{print $NF}')
		if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
		[ "$r" -gt "$rss" ] && rss=$r
	done
	printf '%-44s %8.2f s %9.1f MB/s %11.0f rows/s %8.1f MiB\n' "$name" "$best" \
		"$(awk "BEGIN{print $size/1e6/$best}")" "$(awk "BEGIN{print $rows/$best}")" \
		"$(awk "BEGIN{print $rss/1024}")"
	eval "wall_$2=$best" 2>/dev/null || true
}
printf '%-44s %10s %14s %18s %12s\n' command wall throughput "row images" "peak RSS"
measure "barge binlog decode (text)" "$barge" binlog decode "$file"
measure "barge binlog decode --stats (values as SQL)" "$barge" binlog decode --stats "$file"
measure "mariadb-binlog --base64-output=decode-rows -v" mariadb-binlog --base64-output=decode-rows --verbose "$file"
