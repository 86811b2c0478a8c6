# shellcheck shell=bash
# Helpers shared by the scripts in scripts/: progress lines, timing, free
# loopback ports and random secrets. Sourced, never run.

# say prints a progress line.
say() { printf '==> %s\n' "$*"; }

# warn prints a progress line on stderr.
warn() { printf '==> warning: %s\n' "$*" >&2; }

# die prints an error and exits with status 1 (the EXIT trap still runs).
die() {
	printf '==> error: %s\n' "$*" >&2
	exit 1
}

# have reports whether an executable is on PATH.
have() { command -v "$1" >/dev/null 2>&1; }

# now_ms prints the current time in milliseconds.
now_ms() { date +%s%3N; }

# since START_MS prints the time elapsed since START_MS, e.g. "1.4s".
since() {
	local ms=$(($(now_ms) - $1))
	printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

# random_hex BYTES prints BYTES random bytes as hex.
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# port_in_use PORT reports whether something accepts connections on
# 127.0.0.1:PORT. Plain bash: neither python nor ss is needed.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a loopback port nobody listens on. It starts from a random
# port in 20000-31999, below Linux's ephemeral range (32768-60999) so that no
# outgoing connection holds it. Two scripts can still pick the same port
# between the check and the bind, so callers retry when their server cannot
# bind.
free_port() {
	local port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000)) i
	for ((i = 0; i < 500; i++)); do
		if ! port_in_use "$port"; then
			echo "$port"
			return 0
		fi
		port=$((port + 1))
		((port < 32000)) || port=20000
	done
	return 1
}

# wait_for SECONDS CMD... runs CMD every 0.1s until it succeeds (status 0) or
# SECONDS have passed (status 1).
wait_for() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		(($(now_ms) < deadline)) || return 1
		sleep 0.1
	done
}

# stop_pid PID ends a server this shell started: SIGTERM, up to 10 seconds
# to exit, then SIGKILL; it returns once the process is gone.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
