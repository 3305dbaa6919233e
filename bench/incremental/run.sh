#!/usr/bin/env bash
# bench/incremental/run.sh — incremental catch-up against MariaDB's own replication, in one run
# on the same machine.
#
# Starts a throwaway source (binlog ROW) and three targets (tests/integration/servers.sh):
# `target` for barge and `replica1` / `replica8` for the anchors.  Fills the source with
# sysbench's oltp tables (TABLES x ROWS, default 4 x 100,000), copies them into all three with a
# barge `mode: full` job, notes the source's binlog position, then writes a backlog with
# `sysbench oltp_write_only` for SECONDS (default 60) that nobody applies yet.  Then, one after
# the other, each applies that same backlog from the same position:
#   1. barge, a `mode: incremental` job (`workers: 8`) run by `barge run` in the background;
#      caught up when every worker's checkpoint (barge_meta.positions) is at the backlog's end;
#   2. a MariaDB replica's SQL thread, slave_parallel_threads=0;
#   3. a MariaDB replica, slave_parallel_threads=8, slave_parallel_mode=optimistic;
#      caught up when Exec_Master_Log_Pos reaches the backlog's end.
# Each time runs from the start command (barge's precheck and connections included) to the
# catch-up, and every result is checked with CHECKSUM TABLE against the source.  The CPU
# seconds of the applier (barge's process; for a replica, its mariadbd) and of the target server
# during the catch-up are reported too.
#
# Then (unless LIVE_SECONDS is 0) barge follows the source again while sysbench writes at a fixed
# --rate (LIVE_RATE transactions/s, default 1000) for LIVE_SECONDS (default 30); barge's lag is
# sampled every second from `barge status --json` (lagSeconds) and from the checkpoints (bytes
# behind the source's head), and max / p50 are reported.
#
#   bench/incremental/run.sh [TABLES] [ROWS] [SECONDS] [LIVE_SECONDS] [LIVE_RATE]
#
# BENCH_WORKERS=N sets barge's incremental.workers (default 8).
# BENCH_PERF=DIR records `perf record -g` of barge and of its target's mariadbd during barge's
# catch-up into DIR/barge.perf and DIR/target.perf (perf must be installed).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tables=${1:-4} rows=${2:-100000} seconds=${3:-60} live_seconds=${4:-30} live_rate=${5:-1000}
workers=${BENCH_WORKERS:-8}
cd "$root"
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) vCPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
echo "== uptime:$(uptime)"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBARGE_WERROR=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target barge >/dev/null
barge=$root/build-bench/cmd/barge
work=$(mktemp -d /tmp/barge-bench-inc-XXXXXX)
barge_pid=
cleanup() {
	if [ -n "$barge_pid" ] && kill -0 "$barge_pid" 2>/dev/null; then
		kill -TERM "$barge_pid" 2>/dev/null || true
		wait "$barge_pid" 2>/dev/null || true
	fi
	tests/integration/servers.sh stop "$work/servers" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
export BARGE_WATCH_PID=$$
servers() { tests/integration/servers.sh "$@" 2>>"$work/servers.err" || { cat "$work/servers.err" >&2; exit 1; }; }
servers start "$work/servers"
servers start-one "$work/servers" replica1 target
servers start-one "$work/servers" replica8 target
source "$work/servers/env"
source "$work/servers/replica1.env"
source "$work/servers/replica8.env"
src() { mariadb --no-defaults -h127.0.0.1 -P"$SOURCE_PORT" -ubarge_admin -p"$SOURCE_ADMIN_PASSWORD" "$@"; }
tgt() { mariadb --no-defaults -h127.0.0.1 -P"$TARGET_PORT" -ubarge_admin -p"$TARGET_ADMIN_PASSWORD" "$@"; }
rp1() { mariadb --no-defaults -h127.0.0.1 -P"$REPLICA1_PORT" -ubarge_admin -p"$REPLICA1_ADMIN_PASSWORD" "$@"; }
rp8() { mariadb --no-defaults -h127.0.0.1 -P"$REPLICA8_PORT" -ubarge_admin -p"$REPLICA8_ADMIN_PASSWORD" "$@"; }
now() { date +%s.%N; }
# cpu PID: user+system CPU seconds used so far by a process
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
mariadbd_pid() { cat "$work/servers/$1/mariadbd.pid"; }
sb() { # sb TEST ARGS...: sysbench against the source
	local test=$1
	shift
	sysbench "$test" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$SOURCE_PORT" \
		--mysql-user=barge_admin --mysql-password="$SOURCE_ADMIN_PASSWORD" --mysql-db=sbtest \
		--tables="$tables" --table-size="$rows" "$@"
}

src -e "CREATE DATABASE sbtest"
sb oltp_write_only --threads=2 prepare >/dev/null
src -e "ANALYZE TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$tables")" >/dev/null
checksums() { # checksums FUNC
	"$1" -N -e "CHECKSUM TABLE $(seq -s, -f 'sbtest.sbtest%g' 1 "$tables")" | awk '{print $2}' | tr '\n' ' '
}
verify() { # verify NAME FUNC
	local got
	got=$(checksums "$2")
	if [ "$got" != "$expected" ]; then
		echo "$1: the target differs from the source ($got vs $expected)" >&2
		exit 1
	fi
}
export BENCH_SRC=$SOURCE_SRC_PASSWORD

# 1. the same starting data on the three targets: a barge full copy into each
for t in TARGET REPLICA1 REPLICA8; do
	port=${t}_PORT pass=${t}_ADMIN_PASSWORD
	export BENCH_TGT=${!pass}
	cat >"$work/full.yaml" <<YAML
apiVersion: barge/v1
kind: MigrationJob
metadata: {name: bench-full}
spec:
  mode: full
  source: {host: 127.0.0.1, port: $SOURCE_PORT, user: barge_src_reload, password: "\${env:BENCH_SRC}"}
  target: {host: 127.0.0.1, port: ${!port}, user: barge_admin, password: "\${env:BENCH_TGT}"}
  objects: {allow: [{schema: sbtest}]}
  full: {threads: 2, chunkRows: 50000}
YAML
	rm -rf "$work/store-full"
	"$barge" run --once --log-level warn --store "dir:$work/store-full" "$work/full.yaml" >/dev/null
done
expected=$(checksums src)
verify "full copy" tgt
verify "full copy" rp1
verify "full copy" rp8
read -r start_file start_pos < <(src -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')

# 2. the backlog
sb oltp_write_only --threads=4 --time="$seconds" --report-interval=0 run >"$work/backlog.txt"
txns=$(awk '/transactions:/ {print $2; exit}' "$work/backlog.txt")
read -r end_file end_pos < <(src -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
# bytes of binlog between the two positions (across rotations)
bytes=$(src -N -e "SHOW BINARY LOGS" | awk -v sf="$start_file" -v sp="$start_pos" \
	-v ef="$end_file" -v ep="$end_pos" '
	$1 == sf { on = 1 }
	on { from = ($1 == sf) ? sp : 4; to = ($1 == ef) ? ep : $2; total += to - from }
	$1 == ef { on = 0 }
	END { print total }')
expected=$(checksums src)
echo "== backlog: $txns transactions in ${seconds}s, $bytes binlog bytes ($start_file:$start_pos .. $end_file:$end_pos)"

declare -A r_wall r_cpu r_tcpu
record() { # record NAME WALL APPLIER_CPU TARGET_CPU
	r_wall[$1]=$2 r_cpu[$1]=$3 r_tcpu[$1]=$4
	printf '== %s: caught up in %.2f s (applier CPU %.1f s, target server CPU %.1f s)\n' "$@"
}

# 3. barge
export BENCH_TGT=$TARGET_ADMIN_PASSWORD
cat >"$work/inc.yaml" <<YAML
apiVersion: barge/v1
kind: MigrationJob
metadata: {name: bench-inc}
spec:
  mode: incremental
  source: {host: 127.0.0.1, port: $SOURCE_PORT, user: barge_src, password: "\${env:BENCH_SRC}", serverId: 4242}
  target: {host: 127.0.0.1, port: $TARGET_PORT, user: barge_admin, password: "\${env:BENCH_TGT}"}
  objects: {allow: [{schema: sbtest}]}
  incremental:
    start: {binlogName: $start_file, binlogPos: $start_pos}
    workers: $workers
YAML
# behind FILE POS: how many workers' checkpoints are before FILE:POS ("" while there are none)
behind() {
	tgt -N -e "SELECT IF(COUNT(*) = 0, '', SUM((binlog_file, binlog_pos) < ('$1', $2)))
		FROM barge_meta.positions WHERE job = 'bench-inc'" 2>/dev/null || true
}
start_barge() { # start_barge LOGNAME
	"$barge" run --store "dir:$work/store-inc" --progress 1 "$work/inc.yaml" >"$work/$1.log" 2>&1 &
	barge_pid=$!
}
stop_barge() {
	kill -TERM "$barge_pid"
	wait "$barge_pid" || true
	barge_pid=
}
tcpu0=$(cpu "$(mariadbd_pid target)")
t0=$(now)
start_barge barge
perf_pids=()
if [ -n "${BENCH_PERF:-}" ]; then
	mkdir -p "$BENCH_PERF"
	perf record -q -g -F 499 -p "$barge_pid" -o "$BENCH_PERF/barge.perf" >/dev/null 2>&1 &
	perf_pids+=($!)
	perf record -q -g -F 499 -p "$(mariadbd_pid target)" -o "$BENCH_PERF/target.perf" >/dev/null 2>&1 &
	perf_pids+=($!)
fi
while :; do
	kill -0 "$barge_pid" 2>/dev/null || { cat "$work/barge.log" >&2; echo "barge ended early" >&2; exit 1; }
	b=$(behind "$end_file" "$end_pos")
	[ -n "$b" ] && [ -z "${ts:-}" ] && ts=$(now) # the checkpoints exist: prechecked, applying
	[ "$b" = 0 ] && break
	sleep 0.1
done
t1=$(now)
for p in "${perf_pids[@]}"; do kill -INT "$p"; wait "$p" || true; done
startup=$(awk "BEGIN{print ${ts:-$t1} - $t0}")
record barge "$(awk "BEGIN{print $t1 - $t0}")" "$(cpu "$barge_pid")" \
	"$(awk "BEGIN{print $(cpu "$(mariadbd_pid target)") - $tcpu0}")"
stop_barge
verify barge tgt
printf '   of which %.2f s before the first checkpoint (precheck, connections, table definitions)\n' "$startup"
grep -o 'this run applied.*' "$work/barge.log" | sed 's/^/   barge: /' || true
grep -E 'precheck|Warning|Syncing' "$work/barge.log" | head -3 | sed 's/^/   barge log: /' || true

# 4. the anchors: a MariaDB replica's SQL thread
replica() { # replica NAME FUNC PARALLEL_THREADS
	local name=$1 f=$2 threads=$3 st pid c0 ta tb
	pid=$(mariadbd_pid "$name")
	"$f" -e "SET GLOBAL slave_parallel_threads = $threads; SET GLOBAL slave_parallel_mode = optimistic;
		CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $SOURCE_PORT,
		MASTER_USER = 'barge_src', MASTER_PASSWORD = '$SOURCE_SRC_PASSWORD',
		MASTER_LOG_FILE = '$start_file', MASTER_LOG_POS = $start_pos, MASTER_USE_GTID = no"
	c0=$(cpu "$pid")
	ta=$(now)
	"$f" -e "START SLAVE"
	while :; do
		st=$("$f" -e 'SHOW SLAVE STATUS\G')
		if grep -q 'Slave_SQL_Running: No' <<<"$st"; then
			echo "$name: the SQL thread stopped: $(grep Last_SQL_Error <<<"$st")" >&2
			exit 1
		fi
		if awk -v ef="$end_file" -v ep="$end_pos" '
			/ Relay_Master_Log_File:/ { f = $2 } / Exec_Master_Log_Pos:/ { p = $2 }
			END { exit !(f > ef || (f == ef && p >= ep)) }' <<<"$st"; then
			break
		fi
		sleep 0.1
	done
	tb=$(now)
	local used
	used=$(awk "BEGIN{print $(cpu "$pid") - $c0}")
	# a replica's applier is its own mariadbd: applier CPU and target CPU are the same figure
	record "$name" "$(awk "BEGIN{print $tb - $ta}")" "$used" "$used"
	"$f" -e "STOP SLAVE"
	verify "$name" "$f"
}
replica replica1 rp1 0
replica replica8 rp8 8

# 5. live: barge follows while sysbench writes at a fixed rate
if [ "$live_seconds" -gt 0 ]; then
	start_barge barge-live
	status_json() { "$barge" status --store "dir:$work/store-inc" --json bench-inc 2>/dev/null; }
	until status_json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[0]["stage"] != "Syncing")' 2>/dev/null; do
		kill -0 "$barge_pid" 2>/dev/null || { cat "$work/barge-live.log" >&2; exit 1; }
		sleep 0.2
	done
	sb oltp_write_only --threads=4 --time="$live_seconds" --rate="$live_rate" --report-interval=0 \
		run >"$work/live.txt" &
	sb_pid=$!
	: >"$work/lag.txt"
	while kill -0 "$sb_pid" 2>/dev/null; do
		lag_s=$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["lagSeconds"])' 2>/dev/null || echo -1)
		read -r hf hp < <(src -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
		# the head is read first: a checkpoint may already be past it (then 0 behind)
		lag_b=$(tgt -N -e "SELECT GREATEST(CAST($hp AS SIGNED) - CAST(MIN(binlog_pos) AS SIGNED), 0)
			FROM barge_meta.positions WHERE job = 'bench-inc' AND binlog_file = '$hf'" || echo -1)
		echo "$lag_s $lag_b" >>"$work/lag.txt"
		sleep 1
	done
	wait "$sb_pid"
	live_txns=$(awk '/transactions:/ {print $2; exit}' "$work/live.txt")
	read -r end_file end_pos < <(src -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
	ta=$(now)
	while [ "$(behind "$end_file" "$end_pos")" != 0 ]; do sleep 0.1; done
	drain=$(awk "BEGIN{print $(now) - $ta}")
	stop_barge
	expected=$(checksums src)
	verify barge-live tgt
	live_stats() { # live_stats COLUMN: max and p50 of a column of lag.txt
		awk -v c="$1" '$c >= 0 {print $c}' "$work/lag.txt" | sort -n |
			awk '{v[NR] = $1} END {printf "%s %s\n", v[NR], v[int((NR + 1) / 2)]}'
	}
	read -r ls_max ls_p50 < <(live_stats 1)
	read -r lb_max lb_p50 < <(live_stats 2)
fi

# 6. report
echo
echo "tables=$tables rows=$rows backlog=${seconds}s of oltp_write_only (4 threads): $txns transactions, $(awk "BEGIN{printf \"%.1f\", $bytes / 1048576}") MiB of binlog"
echo
echo "| applier | catch-up (s) | transactions/s | binlog MiB/s | applier CPU (s) | target CPU (s) |"
echo "|---|---:|---:|---:|---:|---:|"
for n in barge replica1 replica8; do
	case $n in
	barge) label="barge, incremental, workers: $workers" ;;
	replica1) label="MariaDB replica, slave_parallel_threads=0" ;;
	replica8) label="MariaDB replica, slave_parallel_threads=8 optimistic" ;;
	esac
	if [ "$n" = barge ]; then tc=$(printf '%.1f' "${r_tcpu[$n]}"); else tc="(same)"; fi
	awk -v l="$label" -v w="${r_wall[$n]}" -v t="$txns" -v b="$bytes" -v c="${r_cpu[$n]}" -v tc="$tc" \
		'BEGIN { printf "| %s | %.2f | %.0f | %.2f | %.1f | %s |\n", l, w, t / w, b / 1048576 / w, c, tc }'
done
echo
printf 'barge without its start-up (%.2f s): %.2f s, %.0f transactions/s\n' "$startup" \
	"$(awk "BEGIN{print ${r_wall[barge]} - $startup}")" "$(awk "BEGIN{print $txns / (${r_wall[barge]} - $startup)}")"
echo "barge / replica (single SQL thread) catch-up time = $(awk "BEGIN{printf \"%.2f\", ${r_wall[barge]} / ${r_wall[replica1]}}")"
echo "barge / replica (8 parallel, optimistic) catch-up time = $(awk "BEGIN{printf \"%.2f\", ${r_wall[barge]} / ${r_wall[replica8]}}")"
if [ "$live_seconds" -gt 0 ]; then
	echo
	echo "live: ${live_seconds}s at --rate=$live_rate ($live_txns transactions): barge lag max ${ls_max}s, p50 ${ls_p50}s (status lagSeconds);" \
		"bytes behind the source's head max $lb_max, p50 $lb_p50 (checkpoints, sampled every second);" \
		"caught up $(printf '%.2f' "$drain") s after sysbench ended"
fi
