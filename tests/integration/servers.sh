#!/usr/bin/env bash
# servers.sh — throwaway MariaDB servers on 127.0.0.1 for barge's tests, demo and benchmarks.
#
#   servers.sh start DIR              start a binlog source and a target under DIR and write
#                                     DIR/env (KEY=VALUE lines: ports, sockets, users, passwords)
#   servers.sh start-one DIR NAME ROLE [mariadbd options...]
#                                     start one more server (ROLE source: binlog on; target: off)
#                                     and write DIR/NAME.env
#   servers.sh stop DIR [NAME]        stop every server under DIR (or only NAME)
#   servers.sh restart DIR NAME       start NAME again on its data directory and port
#
# Every server runs as the calling user (as root with --user=root), listens on a free port of
# 127.0.0.1 and on a socket under DIR, and is created with the users the TiDB Cloud Data Migration
# document asks for:
#   source  barge_src: SELECT, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT on *.*
#           barge_src_reload: the same plus RELOAD (to exercise FLUSH TABLES WITH READ LOCK)
#   target  barge_tgt: CREATE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, INDEX on *.*
#           (MariaDB has no TRUNCATE privilege; DROP covers TRUNCATE TABLE there)
#   both    barge_admin: ALL PRIVILEGES WITH GRANT OPTION, for tests to set up and compare
#
# With BARGE_WATCH_PID set, a watchdog stops the servers when that process exits, so servers
# never outlive the test run that started them, even when it crashes.
set -euo pipefail

MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
INSTALL_DB=${INSTALL_DB:-$(command -v mariadb-install-db || echo /usr/bin/mariadb-install-db)}
CLIENT=${CLIENT:-$(command -v mariadb || echo /usr/bin/mariadb)}

die() { echo "servers.sh: $*" >&2; exit 1; }

pick_port() {
	local port
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	die "no free port found on 127.0.0.1"
}

rand_pass() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

sql() { # sql SOCKET STATEMENTS
	"$CLIENT" --no-defaults --protocol=socket -S "$1" -uroot -e "$2"
}

# launch DIR NAME: start mariadbd for an initialised DIR/NAME and wait until it answers.
launch() {
	local name=$2 sdir=$1/$2 port pid
	# shellcheck disable=SC1090
	source "$sdir/server.conf"
	for attempt in 1 2 3 4 5; do
		port=${PORT:-$(pick_port)}
		local userarg=()
		[ "$(id -u)" = 0 ] && userarg=(--user=root)
		"$MARIADBD" --no-defaults "${userarg[@]}" --datadir="$sdir/data" \
			--port="$port" --bind-address=127.0.0.1 --socket="$sdir/sock" \
			--pid-file="$sdir/pid" --log-error="$sdir/error.log" \
			--innodb-buffer-pool-size=256M --innodb-log-file-size=64M \
			--innodb-flush-log-at-trx-commit=2 --sync-binlog=0 \
			--max-connections=500 --local-infile=1 --skip-name-resolve \
			--max-allowed-packet=256M \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
			"${ROLE_ARGS[@]}" "${EXTRA_ARGS[@]}" >>"$sdir/stdout.log" 2>&1 &
		pid=$!
		for _ in $(seq 1 300); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if "$CLIENT" --no-defaults --protocol=socket -S "$sdir/sock" -uroot \
				-e 'SELECT 1' >/dev/null 2>&1; then
				echo "$pid" >"$sdir/mariadbd.pid"
				echo "$port" >"$sdir/port"
				return 0
			fi
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null || true
			die "$name did not answer within 30 s; see $sdir/error.log"
		fi
		if [ -n "${PORT:-}" ] || ! grep -q 'Address already in use' "$sdir/error.log"; then
			tail -20 "$sdir/error.log" >&2 || true
			die "$name failed to start; see $sdir/error.log"
		fi
		: "attempt $attempt: port $port was taken, trying another"
	done
	die "$name: no free port after 5 attempts"
}

# start_one DIR NAME ROLE [mariadbd options...]
start_one() {
	local dir=$1 name=$2 role=$3
	shift 3
	local sdir=$dir/$name
	[ -e "$sdir/mariadbd.pid" ] && kill -0 "$(cat "$sdir/mariadbd.pid")" 2>/dev/null &&
		die "$name is already running under $dir"
	rm -rf "$sdir"
	mkdir -p "$sdir/data" "$sdir/tmp"
	local userarg=()
	[ "$(id -u)" = 0 ] && userarg=(--user=root)
	"$INSTALL_DB" --no-defaults "${userarg[@]}" --datadir="$sdir/data" \
		--auth-root-authentication-method=normal --skip-test-db \
		--innodb-log-file-size=64M >"$sdir/install.log" 2>&1 ||
		die "mariadb-install-db failed for $name; see $sdir/install.log"
	local server_id=$(( (RANDOM % 1000) + 1 ))
	{
		echo "ROLE=$role"
		if [ "$role" = source ]; then
			printf 'ROLE_ARGS=(--log-bin=%q --server-id=%d --binlog-format=ROW --binlog-row-image=FULL --binlog-checksum=CRC32 --expire-logs-days=2)\n' \
				"$sdir/data/mysql-bin" "$server_id"
		else
			printf 'ROLE_ARGS=(--server-id=%d --skip-log-bin)\n' "$((server_id + 1000))"
		fi
		printf 'EXTRA_ARGS=('
		[ $# -gt 0 ] && printf '%q ' "$@"
		printf ')\n'
	} >"$sdir/server.conf"
	PORT='' launch "$dir" "$name"
	local port admin_pass src_pass tgt_pass
	port=$(cat "$sdir/port")
	admin_pass=$(rand_pass)
	src_pass=$(rand_pass)
	tgt_pass=$(rand_pass)
	sql "$sdir/sock" "
		CREATE USER 'barge_admin'@'%' IDENTIFIED BY '$admin_pass';
		GRANT ALL PRIVILEGES ON *.* TO 'barge_admin'@'%' WITH GRANT OPTION;
		CREATE USER 'barge_src'@'%' IDENTIFIED BY '$src_pass';
		GRANT SELECT, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'barge_src'@'%';
		CREATE USER 'barge_src_reload'@'%' IDENTIFIED BY '$src_pass';
		GRANT SELECT, LOCK TABLES, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'barge_src_reload'@'%';
		CREATE USER 'barge_tgt'@'%' IDENTIFIED BY '$tgt_pass';
		GRANT CREATE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, INDEX ON *.* TO 'barge_tgt'@'%';
		FLUSH PRIVILEGES;" || die "could not create users on $name"
	[ "$role" = source ] && sql "$sdir/sock" "RESET MASTER;"
	local up
	up=$(echo "$name" | tr '[:lower:]-' '[:upper:]_')
	cat >"$dir/$name.env" <<-EOF
		${up}_HOST=127.0.0.1
		${up}_PORT=$port
		${up}_SOCKET=$sdir/sock
		${up}_DIR=$sdir
		${up}_ADMIN_USER=barge_admin
		${up}_ADMIN_PASSWORD=$admin_pass
		${up}_SRC_USER=barge_src
		${up}_SRC_RELOAD_USER=barge_src_reload
		${up}_SRC_PASSWORD=$src_pass
		${up}_TGT_USER=barge_tgt
		${up}_TGT_PASSWORD=$tgt_pass
	EOF
	echo "$name: mariadbd $role on 127.0.0.1:$port (pid $(cat "$sdir/mariadbd.pid"))" >&2
}

stop_one() {
	local sdir=$1/$2 pid
	[ -f "$sdir/mariadbd.pid" ] || return 0
	pid=$(cat "$sdir/mariadbd.pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$sdir/mariadbd.pid"
}

stop_all() {
	local dir=$1 s
	for s in "$dir"/*/server.conf; do
		[ -f "$s" ] || continue
		stop_one "$dir" "$(basename "$(dirname "$s")")"
	done
	[ -f "$dir/watchdog.pid" ] && kill "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
	rm -f "$dir/watchdog.pid"
}

watchdog() {
	local dir=$1 watch=$2
	(
		trap '' HUP
		while kill -0 "$watch" 2>/dev/null; do sleep 1; done
		for s in "$dir"/*/mariadbd.pid; do
			[ -f "$s" ] && kill -9 "$(cat "$s")" 2>/dev/null || true
		done
	) </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/watchdog.pid"
	disown 2>/dev/null || true
}

cmd=${1:-}
case "$cmd" in
start)
	[ $# -ge 2 ] || die "usage: servers.sh start DIR"
	dir=$(mkdir -p "$2" && cd "$2" && pwd)
	[ -n "${BARGE_WATCH_PID:-}" ] && watchdog "$dir" "$BARGE_WATCH_PID"
	start_one "$dir" source source
	start_one "$dir" target target
	cat "$dir/source.env" "$dir/target.env" >"$dir/env"
	;;
start-one)
	[ $# -ge 4 ] || die "usage: servers.sh start-one DIR NAME source|target [mariadbd options...]"
	dir=$(mkdir -p "$2" && cd "$2" && pwd)
	name=$3 role=$4
	shift 4
	case "$role" in source|target) ;; *) die "role must be source or target, not $role" ;; esac
	[ -n "${BARGE_WATCH_PID:-}" ] && [ ! -f "$dir/watchdog.pid" ] && watchdog "$dir" "$BARGE_WATCH_PID"
	start_one "$dir" "$name" "$role" "$@"
	;;
restart)
	[ $# -eq 3 ] || die "usage: servers.sh restart DIR NAME"
	dir=$(cd "$2" && pwd)
	PORT=$(cat "$dir/$3/port") launch "$dir" "$3"
	;;
stop)
	[ $# -ge 2 ] || die "usage: servers.sh stop DIR [NAME]"
	[ -d "$2" ] || exit 0
	if [ $# -ge 3 ]; then stop_one "$2" "$3"; else stop_all "$2"; fi
	;;
*)
	sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
