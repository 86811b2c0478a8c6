# shellcheck shell=bash
# A throwaway Redis server for the tests. Sourced after common.sh, never run.

REDIS_DIR= # the server's folder: config, log; empty when none started
REDIS_PID=

# redis_ready PORT PASSWORD PID reports whether the Redis answering on PORT
# with PASSWORD is process PID, ours, and not a server that took the port first.
# The password goes through the environment, not the command line.
redis_ready() {
	local info
	info=$(REDISCLI_AUTH=$2 redis-cli -h 127.0.0.1 -p "$1" info server 2>/dev/null) || return 1
	info=${info//$'\r'/}
	[[ $'\n'$info$'\n' == *$'\n'"process_id:$3"$'\n'* ]]
}

# start_redis WORKDIR starts Redis on a free loopback port with a random
# password, no persistence and WORKDIR/redis as its folder, and exports
# TEST_REDIS_URL. Without Redis installed it only warns.
start_redis() {
	if ! have redis-server || ! have redis-cli; then
		warn "Redis not found: its tests will be skipped (or fail when CI is set)"
		return 0
	fi
	REDIS_DIR=$1/redis
	mkdir -p "$REDIS_DIR"
	local password port
	password=$(random_hex 16)

	for _ in 1 2 3 4 5; do
		port=$(free_port) || die "no free port for Redis"
		say "starting Redis on 127.0.0.1:$port"
		cat >"$REDIS_DIR/redis.conf" <<-CONF
			bind 127.0.0.1
			port $port
			requirepass $password
			dir "$REDIS_DIR"
			logfile "$REDIS_DIR/redis.log"
			daemonize no
			save ""
			appendonly no
		CONF
		: >"$REDIS_DIR/redis.log"
		redis-server "$REDIS_DIR/redis.conf" </dev/null >/dev/null 2>&1 &
		REDIS_PID=$!

		# Wait for it to answer, or to give up (usually a port taken between
		# the check and the bind: retry on another).
		local deadline=$(($(now_ms) + 30000))
		while kill -0 "$REDIS_PID" 2>/dev/null && (($(now_ms) < deadline)); do
			if redis_ready "$port" "$password" "$REDIS_PID"; then
				export TEST_REDIS_URL="redis://:$password@127.0.0.1:$port/0"
				return 0
			fi
			sleep 0.1
		done
		stop_redis
		grep -q 'Address already in use' "$REDIS_DIR/redis.log" || break
	done
	cat "$REDIS_DIR/redis.log" >&2
	die "Redis did not start"
}

# stop_redis stops the server start_redis started, if any, and waits for it.
stop_redis() {
	[[ -n $REDIS_PID ]] || return 0
	stop_pid "$REDIS_PID"
	REDIS_PID=
}
