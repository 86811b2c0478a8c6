#!/usr/bin/env bash
# Soak run of the registry on this machine, over loopback:
#
#   ./scripts/soak.sh             10 minutes of mixed traffic at 50 requests/s
#
# It builds dryad-registry, starts it on a free 127.0.0.1 port with SQLite
# and archives in a temporary DATA_DIR (rate limits off), seeds PACKAGES
# packages, then sends RATE requests a second for DURATION: installs
# (metadata, then the archive), searches, the home and package pages and
# publishes of new versions (scripts/bench soak). Every SAMPLE it prints the
# server's RSS and open files. It fails on any 5xx or failed request, or
# when RSS or open files grew (the last quarter's average over the second
# quarter's, past FLAT). Not part of the test suite: it takes its time.
#
# Heap profiles of the server are taken after seeding and at the end
# (PROFILING on a private METRICS_PORT); the end's largest in-use
# allocations are printed, and with PROFILE_DIR set both profiles are kept
# there (compare them with go tool pprof -diff_base).
#
# Settings (environment): DURATION (10m), RATE (50), SAMPLE (15s),
# PACKAGES (200), FLAT (1.25), LOG_LEVEL (info), PROFILE_DIR.
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/lib/common.sh
source scripts/lib/registry.sh

DURATION=${DURATION:-10m}
RATE=${RATE:-50}
SAMPLE=${SAMPLE:-15s}
PACKAGES=${PACKAGES:-200}
FLAT=${FLAT:-1.25}
LOG_LEVEL=${LOG_LEVEL:-info}

work=$(mktemp -d "${TMPDIR:-/tmp}/dryad-soak.XXXXXX")
server_pid=
trap 'stop_registry; rm -rf "$work"' EXIT

say "building"
build_registry "$work"
metrics_port=$(free_port) || die "no free loopback port"
start_registry "$work/dryad-registry" "$work" LOG_LEVEL="$LOG_LEVEL" METRICS_PORT="$metrics_port" PROFILING=true
say "registry at $url (pid $server_pid); seeding $PACKAGES packages"
"$work/bench" seed -url "$url" -packages "$PACKAGES" -versions 2 -token-file "$work/token"
say "soak: $RATE requests/s for $DURATION"
echo "Machine: $(nproc) cores, $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
heap() { curl -sf "http://127.0.0.1:$metrics_port/debug/pprof/heap?gc=1" -o "$work/$1"; }
heap heap-start.pb.gz
status=0
"$work/bench" soak -url "$url" -token-file "$work/token" -pid "$server_pid" -rate "$RATE" -duration "$DURATION" \
	-every "$SAMPLE" -packages "$PACKAGES" -flat "$FLAT" || status=$?
heap heap-end.pb.gz
say "largest in-use allocations at the end (after a collection)"
go tool pprof -top -nodecount=12 -sample_index=inuse_space "$work/dryad-registry" "$work/heap-end.pb.gz" 2>/dev/null | sed -n '/^Showing\|flat%/,$p'
if [[ -n ${PROFILE_DIR:-} ]]; then
	mkdir -p "$PROFILE_DIR"
	cp "$work/dryad-registry" "$work"/heap-*.pb.gz "$PROFILE_DIR/"
	say "heap profiles kept in $PROFILE_DIR"
fi
exit "$status"
