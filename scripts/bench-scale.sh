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
# Last come the query plans of the hot path's queries on the large
# catalogue (sqlite3 and psql), to check that none reads a whole table.
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
chmod 755 "$work" # PostgreSQL runs as its own user under it
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

# explain: prints the query plans of the hot path's queries on the large
# catalogue (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL after an
# ANALYZE), to check that none reads a whole table whose size grows with
# the catalogue. The statements are the store's, with sample values.
explain() {
	local mid name_q word_q
	mid=$(printf 'pkg-%05d' $((LARGE / 2)))
	local live="p.deleted_at IS NULL AND p.latest <> ''"
	local -a queries
	if [[ $engine == postgres ]]; then
		name_q="(p.normalized_name LIKE '%$mid%' OR p.search @@ to_tsquery('simple', 'pkg:* & ${mid#pkg-}:*'))"
		word_q="p.keywords LIKE '%\"k7\"%' AND p.search @@ to_tsquery('simple', 'k7:B')"
	else
		name_q="(p.id IN (SELECT rowid FROM package_names WHERE package_names MATCH '\"$mid\"') OR p.id IN (SELECT rowid FROM packages_fts WHERE packages_fts MATCH '\"pkg\"* \"${mid#pkg-}\"*'))"
		word_q="p.keywords LIKE '%\"k7\"%' AND p.id IN (SELECT rowid FROM packages_fts WHERE packages_fts MATCH 'keywords : \"k7\"')"
	fi
	queries=(
		"package by name|SELECT * FROM packages p WHERE p.normalized_name = '$mid'"
		"versions of a package|SELECT * FROM versions v WHERE v.package_id = 1 ORDER BY v.id"
		"a version|SELECT * FROM versions v WHERE v.package_id = 1 AND v.version_key = 'x'"
		"search by name, count|SELECT count(*) FROM packages p WHERE $live AND $name_q"
		"search by keyword, page|SELECT * FROM packages p WHERE $live AND $word_q ORDER BY p.downloads DESC, p.normalized_name LIMIT 20"
		"home: recently updated|SELECT * FROM packages p WHERE $live ORDER BY p.updated_at DESC, p.normalized_name LIMIT 10"
		"dependents|SELECT p.name FROM dependencies d JOIN versions v ON v.id = d.version_id JOIN packages p ON p.id = v.package_id WHERE d.name = 'scale-huge' AND d.dev = FALSE AND v.deleted_at IS NULL"
		"trending|SELECT v.package_id, sum(d.count) FROM version_downloads d JOIN versions v ON v.id = d.version_id WHERE d.day >= '2026-01-01' GROUP BY v.package_id"
	)
	echo "== $engine: query plans with $LARGE packages"
	[[ $engine == postgres ]] && "$PG_BIN/psql" -qX "$TEST_DATABASE_URL" -c "ANALYZE" >/dev/null
	local q
	for q in "${queries[@]}"; do
		echo "-- ${q%%|*}"
		if [[ $engine == postgres ]]; then
			"$PG_BIN/psql" -qXAt "$TEST_DATABASE_URL" -c "EXPLAIN ${q#*|}"
		elif have sqlite3; then
			sqlite3 -readonly "$dir/data/registry.db" "EXPLAIN QUERY PLAN ${q#*|}"
		else
			echo "(sqlite3 is missing: apt-get install sqlite3)"
		fi
	done
}

reports=()
plans=()
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
	plans+=("$(explain 2>&1)")

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
for p in "${plans[@]}"; do
	echo
	echo "$p"
done
