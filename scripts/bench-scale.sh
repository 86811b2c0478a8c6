#!/usr/bin/env bash
# Scale benchmark: does the registry's cost stay flat as the catalogue grows?
#
#   ./scripts/bench-scale.sh
#
# For each engine of ENGINES (SQLite, and PostgreSQL on a throwaway server
# started as scripts/test.sh starts it), it builds dryad-registry, starts it
# on a free 127.0.0.1 port with rate limits off, and publishes through the
# HTTP API a catalogue of SMALL packages (one version each, a dependency on
# scale-huge, which has HUGE versions). It then measures (scripts/bench,
# scale-measure): search (a name, a rare word, a word every package has),
# the metadata of scale-huge (cached, one version uncached, a range
# resolved), the home page, package pages and the search page, each with
# CLIENTS clients for DURATION; publishes of SEQ new packages by one
# client and CONC by 8 clients; and `dryad-registry verify` and `backup`.
# Then it grows the catalogue to LARGE packages and measures again, and
# prints both side by side with the ratio of their costs: a read or a
# publish whose cost more than doubles grows with the catalogue.
# verify and backup read every version, so they are compared per version.
# Not part of the test suite: figures depend on the machine.
#
# Settings (environment): ENGINES ("sqlite postgres"), SMALL (100), LARGE
# (10000), HUGE (1000), DURATION (5s), CLIENTS (4), SEQ (100), CONC (200),
# WORKERS (8: concurrent uploads while seeding).
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/lib/common.sh
source scripts/lib/deps.sh
source scripts/lib/postgres.sh
source scripts/lib/registry.sh

ENGINES=${ENGINES:-sqlite postgres}
SMALL=${SMALL:-100}
LARGE=${LARGE:-10000}
HUGE=${HUGE:-1000}
DURATION=${DURATION:-5s}
CLIENTS=${CLIENTS:-4}
SEQ=${SEQ:-100}
CONC=${CONC:-200}
WORKERS=${WORKERS:-8}

work=$(mktemp -d "${TMPDIR:-/tmp}/dryad-scale.XXXXXX")
server_pid=
cleanup() {
	stop_registry
	stop_postgres
	rm -rf "$work"
}
trap cleanup EXIT

say "building"
build_registry "$work"

# git_idle: the git queue is empty (every publish's commit is made).
git_idle() { curl -sf "$url/metrics" | grep -qx 'dryad_git_queue_jobs 0'; }

# drain: waits for the git work of the last publishes, so that no
# measurement measures git too.
drain() {
	local start
	start=$(now_ms)
	wait_for 3600 git_idle || die "the git queue did not drain in an hour"
	say "git queue drained in $(since "$start")"
}

# timed NAME CMD...: runs a registry command with the server's settings and
# sets seconds to how long it took.
timed() {
	local name=$1 t0
	shift
	t0=$(now_ms)
	env DATA_DIR="$dir/data" "${db_env[@]}" "$work/dryad-registry" "$@" >"$dir/$name.log" 2>&1 ||
		die "$name failed: $(tail -n 20 "$dir/$name.log")"
	seconds=$(awk -v ms=$(($(now_ms) - t0)) 'BEGIN {printf "%.2f", ms / 1000}')
	say "$name: ${seconds}s"
}

# stage N: measures the catalogue of N packages; sets verify_s, backup_s
# and versions.
stage() {
	local n=$1
	drain
	say "measuring the catalogue of $n packages"
	"$work/bench" scale-measure -url "$url" -token-file "$dir/token" -packages "$n" -huge "$HUGE" -clients "$CLIENTS" \
		-duration "$DURATION" -seq "$SEQ" -conc "$CONC" -out "$dir/stage-$n.json"
	drain
	versions=$(curl -sf "$url/api/stats" | sed -n 's/.*"versions": *\([0-9]*\).*/\1/p')
	timed "verify-$n" verify
	verify_s=$seconds
	timed "backup-$n" backup --out "$dir/backups-$n"
	backup_s=$seconds
}

reports=()
for engine in $ENGINES; do
	dir=$work/$engine
	mkdir -p "$dir"
	db_env=()
	if [[ $engine == postgres ]]; then
		pg_bin_dir >/dev/null || die "PostgreSQL is missing: apt-get install postgresql (or ENGINES=sqlite)"
		start_postgres "$work"
		db_env=(DATABASE_URL="$TEST_DATABASE_URL")
	fi
	say "$engine: starting the registry"
	start_registry "$work/dryad-registry" "$dir" LOG_LEVEL=warn "${db_env[@]}"

	say "$engine: seeding $SMALL packages and $HUGE versions of scale-huge"
	"$work/bench" scale-seed -url "$url" -token-file "$dir/token" -from 0 -to "$SMALL" -huge "$HUGE" -workers "$WORKERS"
	stage "$SMALL"
	small_versions=$versions small_verify=$verify_s small_backup=$backup_s

	say "$engine: growing the catalogue to $LARGE packages"
	"$work/bench" scale-seed -url "$url" -token-file "$dir/token" -from "$SMALL" -to "$LARGE" -workers "$WORKERS"
	stage "$LARGE"

	reports+=("$(
		echo "== $engine: $SMALL packages ($small_versions versions) against $LARGE ($versions versions)"
		"$work/bench" scale-report \
			-extra "verify=$small_verify=$verify_s=$small_versions=$versions" \
			-extra "backup=$small_backup=$backup_s=$small_versions=$versions" \
			"$dir/stage-$SMALL.json" "$dir/stage-$LARGE.json"
	)")
	stop_registry
	stop_postgres
done

echo
echo "Machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Reads: $CLIENTS clients for $DURATION each; publishes: $SEQ by one client, $CONC by 8; cost ratio: large catalogue's time per request (or publish, or version for verify and backup) over the small one's"
for r in "${reports[@]}"; do
	echo
	echo "$r"
done
