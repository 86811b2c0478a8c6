#!/usr/bin/env bash
# Load benchmark of the registry on this machine, over loopback:
#
#   ./scripts/bench.sh            seed, run every benchmark, print a summary
#
# It builds dryad-registry, starts it on a free 127.0.0.1 port with SQLite
# and archives in a temporary DATA_DIR (rate limits off), seeds PACKAGES
# packages of VERSIONS versions plus a 10 KB and a 1 MB package through the
# HTTP API (scripts/bench/), then drives the server with wrk (installed with
# apt-get when missing, as root): cached package metadata, a 10 KB and a
# 1 MB download and a 404, each for DURATION with CONNECTIONS connections on
# THREADS threads. Last it publishes a generated package of PUBLISH_MB MiB of
# incompressible data with `dryad-registry publish` while sampling the
# server's resident memory every 50 ms. It prints requests/s, latency p50
# and p99, throughput and the peak RSS increase, and removes everything it
# started. Not part of the test suite: figures depend on the machine.
#
# Settings (environment): DURATION (10s), CONNECTIONS (32), THREADS (2),
# PACKAGES (1000), VERSIONS (5), PUBLISH_MB (100), LOG_LEVEL (info: every
# request is logged, as in production; warn leaves the access log out),
# BLOB_STORE (fs; s3 keeps the archives in a bucket of a versitygw started
# for the run, as scripts/test.sh does).
# shellcheck source-path=SCRIPTDIR/..
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/lib/common.sh
source scripts/lib/registry.sh
source scripts/lib/s3.sh

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PACKAGES=${PACKAGES:-1000}
VERSIONS=${VERSIONS:-5}
PUBLISH_MB=${PUBLISH_MB:-100}
LOG_LEVEL=${LOG_LEVEL:-info}
BLOB_STORE=${BLOB_STORE:-fs}

if ! have wrk; then
	if ((EUID == 0)) && have apt-get; then
		say "installing wrk"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	else
		die "wrk is missing: apt-get install wrk (as root)"
	fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/dryad-bench.XXXXXX")
server_pid=
sampler_pid=
baseline_pid=
cleanup() {
	if [[ -n $sampler_pid ]]; then kill "$sampler_pid" 2>/dev/null || true; fi
	if [[ -n $baseline_pid ]]; then kill "$baseline_pid" 2>/dev/null || true; fi
	stop_registry
	stop_s3
	rm -rf "$work"
}
trap cleanup EXIT

say "building"
build_registry "$work"

store_env=(BLOB_STORE=fs)
if [[ $BLOB_STORE == s3 ]]; then
	start_s3 "$work"
	[[ -n ${TEST_S3_ENDPOINT:-} ]] || die "BLOB_STORE=s3 needs versitygw"
	curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$TEST_S3_ACCESS_KEY_ID:$TEST_S3_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$TEST_S3_ENDPOINT/bench" >/dev/null ||
		die "creating the bucket failed"
	store_env=(BLOB_STORE=s3 S3_ENDPOINT="$TEST_S3_ENDPOINT" S3_BUCKET=bench S3_FORCE_PATH_STYLE=true
		S3_ACCESS_KEY_ID="$TEST_S3_ACCESS_KEY_ID" S3_SECRET_ACCESS_KEY="$TEST_S3_SECRET_ACCESS_KEY")
fi

say "starting the registry (SQLite in $work/data, archives: $BLOB_STORE)"
start_registry "$work/dryad-registry" "$work" MAX_PACKAGE_SIZE=$((PUBLISH_MB + 28))MB LOG_LEVEL="$LOG_LEVEL" "${store_env[@]}"
say "registry at $url (pid $server_pid)"

say "seeding $PACKAGES packages x $VERSIONS versions"
start=$(now_ms)
"$work/bench" seed -url "$url" -packages "$PACKAGES" -versions "$VERSIONS" -token-file "$work/token"
say "seeded in $(since "$start")"

# The baseline: a bare net/http server sending the same bytes (the
# metadata document and the two archives, as the registry served them) with
# the same headers. Its figures are the ceiling of this machine, so the
# ratio registry/baseline says what the registry's own work costs.
hot=$(printf 'pkg-%04d' $((PACKAGES / 2)))
mkdir -p "$work/baseline"
curl -sf -o "$work/baseline/metadata.json" "$url/api/packages/$hot"
curl -sf -o "$work/baseline/bench-10k.tar.gz" "$url/packages/bench-10k/1.0.0.tar.gz"
curl -sf -o "$work/baseline/bench-1m.tar.gz" "$url/packages/bench-1m/1.0.0.tar.gz"
"$work/bench" baseline -dir "$work/baseline" >"$work/baseline.url" 2>"$work/baseline.log" &
baseline_pid=$!
for _ in $(seq 100); do
	[[ -s $work/baseline.url ]] && break
	sleep 0.05
done
baseline_url=$(head -n1 "$work/baseline.url")
[[ -n $baseline_url ]] || die "the baseline server did not start: $(cat "$work/baseline.log")"

# cpu_ticks PID prints the CPU time (user + system) PID has used, in clock
# ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wrk_run URL WANT PID: one wrk run after a check of the status; sets rps,
# p50, p99, tps, problems and cpu, the server's (PID's) CPU time per request
# in microseconds: unlike requests/s it hardly depends on what else runs.
wrk_run() {
	local target=$1 want=$2 pid=$3 out status ticks
	status=$(curl -s -o /dev/null -w '%{http_code}' "$target")
	[[ $status == "$want" ]] || die "GET $target answered $status, want $want"
	ticks=$(cpu_ticks "$pid")
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$target")
	ticks=$(($(cpu_ticks "$pid") - ticks))
	printf '%s\n\n' "$out" >>"$work/wrk.txt"
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	tps=$(awk '/^Transfer\/sec:/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	local pattern='Socket errors|Non-2xx'
	[[ $want == 200 ]] || pattern='Socket errors'
	problems=$(grep -E "$pattern" <<<"$out" | sed 's/^ *//' | tr '\n' ' ' || true)
	local requests
	requests=$(awk '/requests in/ {print $1}' <<<"$out")
	cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}')
}

# bench NAME PATH BASELINE_PATH [STATUS]: the registry, then the baseline.
results=()
bench() {
	local name=$1 path=$2 bpath=$3 want=${4:-200}
	say "wrk: $name (GET $path, $DURATION, $CONNECTIONS connections, $THREADS threads), then the baseline"
	wrk_run "$url$path" "$want" "$server_pid"
	local r_rps=$rps r_p50=$p50 r_p99=$p99 r_tps=$tps r_problems=$problems r_cpu=$cpu
	wrk_run "$baseline_url$bpath" "$want" "$baseline_pid"
	results+=("$(printf '%-18s %9s %8s %8s %10s %6s   %9s %8s %8s %6s   %5s  %s' "$name" "$r_rps" "$r_p50" "$r_p99" "$r_tps" "$r_cpu" \
		"$rps" "$p50" "$p99" "$cpu" "$(awk -v a="$r_rps" -v b="$rps" 'BEGIN {printf "%.2f", a / b}')" "$r_problems")")
}

bench "metadata (cached)" "/api/packages/$hot" "/api/packages/$hot"
bench "download 10 KB" /packages/bench-10k/1.0.0.tar.gz /packages/bench-10k.tar.gz
bench "download 1 MB" /packages/bench-1m/1.0.0.tar.gz /packages/bench-1m.tar.gz
bench "404" /api/packages/no-such-package /nothing 404
kill "$baseline_pid" 2>/dev/null || true
wait "$baseline_pid" 2>/dev/null || true
baseline_pid=

# The large publish: the server's RSS is sampled every 50 ms from before the
# upload starts until its answer.
say "publishing a $PUBLISH_MB MiB package while sampling the server's RSS"
mkdir -p "$work/big/lib"
printf '{"name": "bench-big", "version": "1.0.0", "description": "large benchmark package", "dependencies": {}}\n' >"$work/big/oaklibs.json"
printf 'export fn big() {}\n' >"$work/big/lib/big.dryad"
head -c $((PUBLISH_MB << 20)) /dev/urandom >"$work/big/data.bin"
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
rss_before=$(rss)
(
	while kill -0 "$server_pid" 2>/dev/null; do
		rss
		sleep 0.05
	done
) >"$work/rss.txt" &
sampler_pid=$!
start=$(now_ms)
"$work/dryad-registry" publish "$work/big" --registry "$url" --token-file "$work/token" --quiet >"$work/publish.txt" 2>&1 ||
	die "publish failed: $(cat "$work/publish.txt")"
publish_time=$(since "$start")
sleep 0.2
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=
rss_peak=$(sort -n "$work/rss.txt" | tail -n1)
rss_samples=$(wc -l <"$work/rss.txt")

echo
echo "Machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Server: SQLite, in-process cache, archives: $BLOB_STORE, LOG_LEVEL=$LOG_LEVEL; wrk on the same machine: $THREADS threads, $CONNECTIONS connections, $DURATION per run"
echo
printf '%-18s %9s %8s %8s %10s %6s   %9s %8s %8s %6s   %5s\n' "" "registry" "" "" "" "" "baseline" "" "" "" ""
printf '%-18s %9s %8s %8s %10s %6s   %9s %8s %8s %6s   %5s\n' "benchmark" "req/s" "p50" "p99" "transfer/s" "CPU/req" "req/s" "p50" "p99" "CPU/req" "ratio"
printf '%s\n' "${results[@]}"
echo
echo "publish of $PUBLISH_MB MiB (incompressible): $publish_time with packing; $(grep -m1 '^published' "$work/publish.txt")"
echo "CPU/req: the server's CPU time (user + system) per request, in microseconds; ratio: registry req/s / baseline req/s"
echo "server RSS: $((rss_before / 1024)) MiB before, peak $((rss_peak / 1024)) MiB, increase $(((rss_peak - rss_before) / 1024)) MiB ($rss_samples samples every 50 ms)"
