#!/usr/bin/env bash
# The one test command: installs what the tests drive, starts a throwaway
# PostgreSQL, Redis and S3 server (versitygw) on free loopback ports, runs go
# vet and go test, and stops and removes everything it started, whatever
# happens.
#
#   ./scripts/test.sh                                 vet and test ./...
#   ./scripts/test.sh -run Foo ./internal/store/...   vet and test these packages,
#                                                     with these go test flags
#   ./scripts/test.sh -v -run TestPublish             flags only: ./... is added
#
# Arguments replace ./...: the ones that are package patterns go to go vet,
# all of them go to go test after -count=1 -race -timeout 30m (later flags
# win; -race only where cgo and a C compiler are available).
#
# As root (CI) missing programs are installed with apt-get; otherwise they are
# listed and the tests needing them skip, or fail when CI is set. versitygw is
# built with go install into $(go env GOPATH)/bin the first time. Servers
# already named by TEST_DATABASE_URL, TEST_REDIS_URL or TEST_S3_ENDPOINT are
# used instead of starting new ones. The exit status is go test's, or go
# vet's when only vet failed.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/lib/common.sh
source scripts/lib/deps.sh
source scripts/lib/postgres.sh
source scripts/lib/redis.sh
source scripts/lib/s3.sh

# nginx lives in /usr/sbin, which is not on a Debian user's PATH.
for dir in /usr/local/sbin /usr/sbin /sbin; do
	[[ :$PATH: == *:$dir:* ]] || PATH=$PATH:$dir
done
export PATH
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

# Go test flags that take their value as the next argument. Any other argument
# not starting with "-" is a package pattern, up to -args (the rest belongs
# to the test binary).
value_flag='^--?(test\.)?(run|skip|bench|benchtime|count|cpu|parallel|timeout|shuffle|list|fuzz|fuzztime|fuzzminimizetime|coverpkg|covermode|coverprofile|cpuprofile|memprofile|memprofilerate|blockprofile|blockprofilerate|mutexprofile|mutexprofilefraction|trace|outputdir|o|exec|vet|tags|p|C|ldflags|gcflags|asmflags|mod|modfile|overlay|pkgdir|toolexec|pgo)$'
packages=()
skip_next=
for arg in "$@"; do
	if [[ -n $skip_next ]]; then
		skip_next=
		continue
	fi
	case $arg in
	-args | --args) break ;;
	-*=*) ;;
	-*) [[ $arg =~ $value_flag ]] && skip_next=1 ;;
	*) packages+=("$arg") ;;
	esac
done
test_args=("$@")
if ((${#packages[@]} == 0)); then
	packages=(./...)
	test_args=(./... "$@")
fi

# Everything started below is undone here, on success, failure or Ctrl-C.
work=
cleanup() {
	local status=$? t0
	set +e
	trap - INT TERM
	t0=$(now_ms)
	stop_s3
	stop_redis
	stop_postgres
	[[ -n $work ]] && rm -rf "$work"
	release_services
	if [[ -n $work ]]; then
		say "stopped the servers and removed $work ($(since "$t0"))"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(now_ms)
ensure_packages

# One folder per run, so that runs side by side never share anything. As
# root the postgres user must reach its folder inside: /tmp and mode 711.
if ((EUID == 0)); then
	work=$(mktemp -d /tmp/dryad-test.XXXXXXXX)
	chmod 711 "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/dryad-test.XXXXXXXX")
fi

if [[ -n ${TEST_DATABASE_URL:-} ]]; then
	say "using the PostgreSQL of TEST_DATABASE_URL"
else
	start_postgres "$work"
fi
if [[ -n ${TEST_REDIS_URL:-} ]]; then
	say "using the Redis of TEST_REDIS_URL"
else
	start_redis "$work"
fi
if [[ -n ${TEST_S3_ENDPOINT:-} ]]; then
	say "using the S3 server of TEST_S3_ENDPOINT"
else
	start_s3 "$work"
fi
say "ready in $(since "$t0")"

vet_status=0
say "go vet ${packages[*]}"
go vet "${packages[@]}" || vet_status=$?

# The race detector runs whenever cgo can: concurrent code is everywhere
# here (download counters, caches, the git worker, the log writer).
race=()
if [[ $(go env CGO_ENABLED) == 1 ]] && have gcc; then
	race=(-race)
else
	warn "no C compiler for cgo: testing without the race detector"
fi

test_status=0
say "go test -count=1 ${race[*]} -timeout 30m ${test_args[*]}"
t0=$(now_ms)
go test -count=1 "${race[@]}" -timeout 30m "${test_args[@]}" 2>&1 | tee "$work/go-test.out" || test_status=${PIPESTATUS[0]}

if ((test_status != 0)); then
	# A failing test's output ends with the logs of the servers it ran,
	# often long enough to push its own messages out of the end of a CI
	# log: the failures are repeated here, last, one line each.
	say "FAIL: go test (status $test_status, $(since "$t0")); the failures:"
	grep -E -e '^\s*--- FAIL' -e '^\s+[A-Za-z0-9_]+_test\.go:[0-9]+: ' -e '^(panic:|FAIL\s)' "$work/go-test.out" |
		grep -v -e 'registry log:$' | cut -c1-300 | head -n 60 || true
	exit "$test_status"
fi
if ((vet_status != 0)); then
	say "FAIL: go vet (status $vet_status); the tests passed in $(since "$t0")"
	exit "$vet_status"
fi
say "ok: vet and tests passed ($(since "$t0"))"

# A whole run also fuzzes each fuzz target for a moment (FUZZTIME, 5s by
# default; 0 skips), beyond the seed corpus go test already ran: the input
# parsers (archives, manifests, ranges, names) and the redirect check face
# whatever a client sends. A failing input is saved under the package's
# testdata/fuzz, to commit as a regression test.
if ((${#@} == 0)) && [[ ${FUZZTIME:-5s} != 0 ]]; then
	t0=$(now_ms)
	while IFS=: read -r file target; do
		pkg=./$(dirname "$file")
		say "fuzz $target ($pkg, ${FUZZTIME:-5s})"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-5s}" "$pkg" || {
			status=$?
			say "FAIL: fuzzing $target (status $status)"
			exit "$status"
		}
	done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' internal | sed 's/func //')
	say "ok: fuzzing passed ($(since "$t0"))"
fi
