# shellcheck shell=bash
# Starting a built dryad-registry for the benchmark scripts.

# start_registry BINARY WORK [NAME=VALUE...]: starts BINARY serve on a free
# loopback port with SQLite and archives in WORK/data, rate limits off and
# the extra settings given, logging to WORK/server.log; sets url and
# server_pid. A free port is picked here rather than with PORT=0 so that
# the address is known whatever LOG_LEVEL hides; another process may take
# it first, so the start is retried.
start_registry() {
	local bin=$1 work=$2 port
	shift 2
	url=
	for _ in 1 2 3; do
		port=$(free_port) || die "no free loopback port"
		env HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" INSTALL_RATE_LIMIT=0 API_RATE_LIMIT=0 UPLOAD_RATE_LIMIT=0 \
			BCRYPT_COST=10 JWT_SECRET="$(random_hex 32)" "$@" "$bin" serve >"$work/server.log" 2>&1 &
		server_pid=$!
		if wait_for 30 curl -sf "http://127.0.0.1:$port/health" && kill -0 "$server_pid" 2>/dev/null; then
			url=http://127.0.0.1:$port
			return 0
		fi
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	done
	die "the registry did not start: $(cat "$work/server.log")"
}

# build_registry WORK: builds dryad-registry and the benchmark helper
# (scripts/bench) into WORK.
build_registry() {
	go build -o "$1/dryad-registry" ./cmd/dryad-registry
	(cd scripts/bench && go build -o "$1/bench" .)
}

# stop_registry: stops the registry start_registry started, if any.
stop_registry() {
	if [[ -n ${server_pid:-} ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}
