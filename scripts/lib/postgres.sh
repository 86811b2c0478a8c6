# shellcheck shell=bash
# A throwaway PostgreSQL server for the tests. Sourced after common.sh and
# deps.sh, never run.

PG_ROLE=dryad # the superuser the tests connect as (trust auth, loopback only)
PG_DIR=       # the server's folder: data/, socket, logs; empty when none started
PG_BIN=
PG_PID=

# as_pg_owner runs a command as the owner of the cluster, from inside PG_DIR
# (the caller's folder may be closed to that user). initdb refuses to run as
# root, so root hands the cluster to the postgres user, through setpriv, which
# execs the command in place (runuser where setpriv is missing).
as_pg_owner() {
	(cd "$PG_DIR" && exec "${pg_owner[@]}" "$@")
}
pg_owner=()
if ((EUID == 0)); then
	if have setpriv; then
		pg_owner=(setpriv --reuid=postgres --regid=postgres --init-groups --)
	else
		pg_owner=(runuser -u postgres --)
	fi
fi

# ensure_postgres_user creates the postgres system user when it is missing
# (the Debian package creates it, a bare set of binaries may not).
ensure_postgres_user() {
	id -u postgres >/dev/null 2>&1 && return 0
	say "creating system user postgres"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin postgres
}

# start_postgres WORKDIR initializes a cluster in WORKDIR/pg, starts it on a
# free loopback port and exports TEST_DATABASE_URL. Without PostgreSQL
# installed it only warns.
start_postgres() {
	PG_BIN=$(pg_bin_dir) || {
		warn "PostgreSQL not found: its tests will be skipped (or fail when CI is set)"
		return 0
	}
	PG_DIR=$1/pg
	mkdir -p "$PG_DIR"
	if ((EUID == 0)); then
		ensure_postgres_user
		chown postgres: "$PG_DIR"
	fi

	as_pg_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_ROLE" --auth=trust \
		--encoding=UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log" >&2
		die "initdb failed"
	}

	# Speed over durability: the data is thrown away when the tests end.
	cat >>"$PG_DIR/data/postgresql.conf" <<-CONF

		# Throwaway server of scripts/test.sh.
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$PG_DIR'
		max_connections = 300
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		wal_level = minimal
		max_wal_senders = 0
		max_wal_size = 1GB
		checkpoint_timeout = 1h
		# Parallel queries use /dev/shm, which is small in containers.
		max_parallel_workers_per_gather = 0
		log_min_messages = warning
	CONF
	cat >"$PG_DIR/data/pg_hba.conf" <<-CONF
		local all all trust
		host  all all 127.0.0.1/32 trust
	CONF

	# postgres runs in the background as this shell's own child (rather than
	# daemonized by pg_ctl), so stop_postgres can wait for it to be gone.
	local port deadline
	for _ in 1 2 3 4 5; do
		port=$(free_port) || die "no free port for PostgreSQL"
		say "starting PostgreSQL on 127.0.0.1:$port"
		: >"$PG_DIR/postgres.log"
		(cd "$PG_DIR" && exec "${pg_owner[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$port") \
			</dev/null >>"$PG_DIR/postgres.log" 2>&1 &
		PG_PID=$!
		deadline=$(($(now_ms) + 60000))
		while kill -0 "$PG_PID" 2>/dev/null && (($(now_ms) < deadline)); do
			# Ready when our postmaster says so in postmaster.pid (a server of
			# someone else's on the same port would answer pg_isready too).
			if [[ $(sed -n 8p "$PG_DIR/data/postmaster.pid" 2>/dev/null) == ready* ]] &&
				"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$PG_ROLE" -d postgres; then
				export TEST_DATABASE_URL="postgres://$PG_ROLE@127.0.0.1:$port/postgres?sslmode=disable"
				return 0
			fi
			sleep 0.1
		done
		stop_postgres
		# Another process took the port between the check and the bind: retry.
		grep -q 'Address already in use' "$PG_DIR/postgres.log" || break
	done
	cat "$PG_DIR/postgres.log" >&2
	die "PostgreSQL did not start"
}

# stop_postgres stops the server start_postgres started, if any, and waits
# for it to exit. Immediate mode: nothing in it needs to survive.
stop_postgres() {
	[[ -n $PG_PID ]] || return 0
	if [[ ! -f $PG_DIR/data/postmaster.pid ]] ||
		! as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1; then
		kill -KILL "$PG_PID" 2>/dev/null || true
	fi
	wait "$PG_PID" 2>/dev/null || true
	PG_PID=
}
