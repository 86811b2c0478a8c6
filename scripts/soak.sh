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
# Settings (environment): DURATION (10m), RATE (50), SAMPLE (15s),
# PACKAGES (200), FLAT (1.25), LOG_LEVEL (info).
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
start_registry "$work/dryad-registry" "$work" LOG_LEVEL="$LOG_LEVEL"
say "registry at $url (pid $server_pid); seeding $PACKAGES packages"
"$work/bench" seed -url "$url" -packages "$PACKAGES" -versions 2 -token-file "$work/token"
say "soak: $RATE requests/s for $DURATION"
echo "Machine: $(nproc) cores, $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/bench" soak -url "$url" -token-file "$work/token" -pid "$server_pid" -rate "$RATE" -duration "$DURATION" \
	-every "$SAMPLE" -packages "$PACKAGES" -flat "$FLAT"
