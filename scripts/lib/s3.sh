# shellcheck shell=bash
# A throwaway S3 server for the tests: Versity's S3 gateway (versitygw) over
# a folder. Sourced after common.sh, never run.

VERSITYGW_VERSION=v1.8.0
S3_DIR= # the server's folder: data and log; empty when none started
S3_PID=

# versitygw_bin prints the path of versitygw at VERSITYGW_VERSION, building
# it into $(go env GOPATH)/bin the first time (about a minute on two cores).
versitygw_bin() {
	local bin
	bin=$(go env GOPATH)/bin/versitygw
	if [[ -x $bin ]] && go version -m "$bin" 2>/dev/null | grep -q "mod[[:space:]]*github.com/versity/versitygw[[:space:]]*$VERSITYGW_VERSION"; then
		echo "$bin"
		return 0
	fi
	local t0
	t0=$(now_ms)
	say "building versitygw $VERSITYGW_VERSION (once; about a minute)" >&2
	GOBIN=$(go env GOPATH)/bin GOFLAGS=-buildvcs=false \
		go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2 || return 1
	say "built versitygw ($(since "$t0"))" >&2
	echo "$bin"
}

# start_s3 WORKDIR starts versitygw on a free loopback port with a random
# access key and secret, storing buckets as folders of WORKDIR/s3, and
# exports TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY_ID and
# TEST_S3_SECRET_ACCESS_KEY, and TEST_VERSITYGW for tests that run their own
# gateway (testenv.StartS3). Each test creates its own bucket. When
# versitygw cannot be built (no network) it only warns.
start_s3() {
	local bin
	if ! bin=$(versitygw_bin); then
		warn "versitygw could not be built: the S3 tests will be skipped (or fail when CI is set)"
		return 0
	fi
	S3_DIR=$1/s3
	mkdir -p "$S3_DIR/data"
	local access secret port
	access=$(random_hex 10)
	secret=$(random_hex 20)

	for _ in 1 2 3 4 5; do
		port=$(free_port) || die "no free port for S3"
		say "starting versitygw on 127.0.0.1:$port"
		: >"$S3_DIR/versitygw.log"
		# The credentials go through the environment, not the command line.
		ROOT_ACCESS_KEY=$access ROOT_SECRET_KEY=$secret \
			"$bin" --port "127.0.0.1:$port" posix "$S3_DIR/data" \
			</dev/null >"$S3_DIR/versitygw.log" 2>&1 &
		S3_PID=$!

		# Ready once it listens and is still ours (it exits when the port
		# was taken between the check and the bind: retry on another).
		local deadline=$(($(now_ms) + 30000))
		while kill -0 "$S3_PID" 2>/dev/null && (($(now_ms) < deadline)); do
			if port_in_use "$port" && grep -q "127.0.0.1:$port" "$S3_DIR/versitygw.log"; then
				export TEST_S3_ENDPOINT="http://127.0.0.1:$port"
				export TEST_S3_ACCESS_KEY_ID=$access
				export TEST_S3_SECRET_ACCESS_KEY=$secret
				export TEST_VERSITYGW=$bin
				return 0
			fi
			sleep 0.1
		done
		stop_s3
		grep -qi 'address already in use' "$S3_DIR/versitygw.log" || break
	done
	cat "$S3_DIR/versitygw.log" >&2
	die "versitygw did not start"
}

# stop_s3 stops the server start_s3 started, if any, and waits for it.
stop_s3() {
	[[ -n $S3_PID ]] || return 0
	stop_pid "$S3_PID"
	S3_PID=
}
