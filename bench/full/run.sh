#!/usr/bin/env bash
# bench/full/run.sh — the full phase against its anchors, in one run on the same servers.
#
# Starts a throwaway source and target MariaDB (tests/integration/servers.sh), fills the source
# with sysbench's oltp tables (TABLES x ROWS, default 4 x 250,000), then migrates the database
#   1. with barge (`barge run --once`, 2 threads),
#   2. with mydumper + myloader (2 threads each),
#   3. with mariadb-dump | mariadb,
# into a fresh target database each time, checking every result with CHECKSUM TABLE, and
# reports wall time and peak memory (max RSS from /usr/bin/time -v; for pipelines and
# mydumper+myloader the sum of the parts' peaks).
#
#   bench/full/run.sh [TABLES] [ROWS] [REPEAT]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tables=${1:-4} rows=${2:-250000} repeat=${3:-3}
cd "$root"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBARGE_WERROR=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target barge >/dev/null
barge=$root/build-bench/cmd/barge
work=$(mktemp -d /tmp/barge-bench-full-XXXXXX)
trap 'tests/integration/servers.sh stop "$work/servers" >/dev/null 2>&1; rm -rf "$work"' EXIT
BARGE_WATCH_PID=$$ tests/integration/servers.sh start "$work/servers" 2>/dev/null
source "$work/servers/env"
src() { mariadb --no-defaults -h127.0.0.1 -P"$SOURCE_PORT" -ubarge_admin -p"$SOURCE_ADMIN_PASSWORD" "$@"; }
tgt() { mariadb --no-defaults -h127.0.0.1 -P"$TARGET_PORT" -ubarge_admin -p"$TARGET_ADMIN_PASSWORD" "$@"; }

src -e "CREATE DATABASE sbtest"
sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$SOURCE_PORT" \
	--mysql-user=barge_admin --mysql-password="$SOURCE_ADMIN_PASSWORD" --mysql-db=sbtest \
	--tables="$tables" --table-size="$rows" --threads=2 prepare >/dev/null
src -e "ANALYZE TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$tables")" >/dev/null
checksums() { # checksums FUNC
	"$1" -N -e "CHECKSUM TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$tables")" | awk '{print $2}' | tr '\n' ' '
}
expected=$(checksums src)

# measure NAME COMMAND... : wall seconds and max RSS (KiB) of one command
measure() {
	local name=$1 out
	shift
	out=$( { /usr/bin/time -v "$@" >/dev/null 2>"$work/$name.err"; } 2>&1; cat "$work/$name.err")
	wall=$(grep 'Elapsed (wall clock)' <<<"$out" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
	rss=$(grep 'Maximum resident set size' <<<"$out" | awk '{print $NF}')
}

cat >"$work/job.yaml" <<YAML
apiVersion: barge/v1
kind: MigrationJob
metadata: {name: bench-full}
spec:
  mode: full
  source: {host: 127.0.0.1, port: $SOURCE_PORT, user: barge_src_reload, password: "\${env:BENCH_SRC}"}
  target: {host: 127.0.0.1, port: $TARGET_PORT, user: barge_admin, password: "\${env:BENCH_TGT}"}
  objects: {allow: [{schema: sbtest}]}
  full: {threads: 2, chunkRows: 50000}
YAML
export BENCH_SRC=$SOURCE_SRC_PASSWORD BENCH_TGT=$TARGET_ADMIN_PASSWORD

fresh_target() { tgt -e "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS barge_meta"; }
verify() { # verify NAME
	local got
	got=$(checksums tgt)
	if [ "$got" != "$expected" ]; then
		echo "$1: the target differs from the source ($got vs $expected)" >&2
		exit 1
	fi
}

declare -A best_wall best_rss
record() { # record NAME WALL RSS
	if [ -z "${best_wall[$1]:-}" ] || awk "BEGIN{exit !($2 < ${best_wall[$1]})}"; then
		best_wall[$1]=$2
	fi
	if [ -z "${best_rss[$1]:-}" ] || [ "$3" -gt "${best_rss[$1]}" ]; then
		best_rss[$1]=$3
	fi
}

for i in $(seq 1 "$repeat"); do
	fresh_target
	measure barge "$barge" run --once --log-level warn --store "dir:$work/store" "$work/job.yaml"
	verify barge
	record barge "$wall" "$rss"

	fresh_target
	rm -rf "$work/dump"
	measure mydumper mydumper -h 127.0.0.1 -P "$SOURCE_PORT" -u barge_admin -p "$SOURCE_ADMIN_PASSWORD" \
		-B sbtest -t 2 -o "$work/dump"
	w1=$wall r1=$rss
	measure myloader myloader -h 127.0.0.1 -P "$TARGET_PORT" -u barge_admin -p "$TARGET_ADMIN_PASSWORD" \
		-B sbtest -t 2 -d "$work/dump"
	verify mydumper+myloader
	record mydumper+myloader "$(awk "BEGIN{print $w1 + $wall}")" "$((r1 + rss))"

	fresh_target
	tgt -e "CREATE DATABASE sbtest"
	cat >"$work/pipe.sh" <<PIPE
mariadb-dump --no-defaults -h127.0.0.1 -P$SOURCE_PORT -ubarge_admin -p$SOURCE_ADMIN_PASSWORD --single-transaction sbtest | mariadb --no-defaults -h127.0.0.1 -P$TARGET_PORT -ubarge_admin -p$TARGET_ADMIN_PASSWORD sbtest
PIPE
	measure dump "$BASH" "$work/pipe.sh"
	verify mariadb-dump
	record "mariadb-dump | mariadb" "$wall" "$rss"
done

echo "tables=$tables rows=$rows repeat=$repeat (best wall time of the runs; peak RSS the largest)"
printf '%-24s %10s %14s\n' tool "wall (s)" "peak RSS (MiB)"
for t in barge mydumper+myloader "mariadb-dump | mariadb"; do
	printf '%-24s %10.2f %14.1f\n' "$t" "${best_wall[$t]}" "$(awk "BEGIN{print ${best_rss[$t]}/1024}")"
done
echo "barge / mydumper+myloader = $(awk "BEGIN{printf \"%.2f\", ${best_wall[barge]} / ${best_wall[mydumper+myloader]}}")"
