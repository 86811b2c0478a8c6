#!/usr/bin/env bash
# Load benchmark of the registry on this machine, over loopback:
#
#   ./scripts/bench.sh            seed, run every benchmark, print a summary
#
# It builds dryad-registry, starts it on a free 127.0.0.1 port with SQLite
# and archives in a temporary DATA_DIR (rate limits off), seeds PACKAGES
# packages of VERSIONS versions, a package of 50 versions and a 10 KB and a
# 1 MB package through the HTTP API (scripts/bench/), then drives it with
# wrk: package metadata (small and 50 versions), a 10 KB and a 1 MB
# download and a 404, each for DURATION with CONNECTIONS connections on
# THREADS threads, and the same requests against nginx serving the same
# bytes from files (the goal) and a bare net/http server (Go's ceiling).
# Then KEEPALIVE connections at once on the metadata, the registry's peak
# RSS over all of it, and last a publish of PUBLISH_MB MiB of incompressible
# data with `dryad-registry publish` while sampling the server's RSS every
# 50 ms. It prints requests/s, latency p50 and p99, CPU time per request
# and ratios against nginx and Go, and removes everything it started. wrk
# and nginx are installed with apt-get when missing (as root). Not part of
# the test suite: figures depend on the machine.
#
# Settings (environment): DURATION (10s), CONNECTIONS (32), THREADS (2),
# PACKAGES (1000), VERSIONS (5), KEEPALIVE (2000), PUBLISH_MB (100),
# LOG_LEVEL (info: every request is logged, as in production, and nginx
# keeps its access log; warn leaves the registry's access log out),
# BLOB_STORE (fs; s3 keeps the archives in a bucket of a versitygw started
# for the run, as scripts/test.sh does), REGISTRY_BIN (measure this
# dryad-registry binary instead of building one: an older build, for a
# before/after comparison in one sitting), PROFILE (a folder: the server
# runs with PROFILING=true, and a CPU and an allocation profile of each
# registry run are saved there as NAME.cpu.pprof and NAME.allocs.pprof for
# `go tool pprof`; the run's own allocations: -base NAME.allocs0.pprof.
# Profiling costs a few per cent: compare figures of runs without it).
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
PROFILE=${PROFILE:-}
KEEPALIVE=${KEEPALIVE:-2000}
REGISTRY_BIN=${REGISTRY_BIN:-}

# nginx lives in /usr/sbin, which is not on a Debian user's PATH.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
for tool in wrk nginx; do
	have "$tool" && continue
	if ((EUID == 0)) && have apt-get; then
		say "installing $tool"
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
	else
		die "$tool is missing: apt-get install $tool (as root)"
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dryad-bench.XXXXXX")
server_pid=
sampler_pid=
baseline_pid=
nginx_pid=
cleanup() {
	if [[ -n $sampler_pid ]]; then kill "$sampler_pid" 2>/dev/null || true; fi
	if [[ -n $baseline_pid ]]; then kill "$baseline_pid" 2>/dev/null || true; fi
	if [[ -n $nginx_pid ]]; then kill "$nginx_pid" 2>/dev/null || true; fi
	stop_registry
	stop_s3
	rm -rf "$work"
}
trap cleanup EXIT

say "building"
build_registry "$work"
if [[ -n $REGISTRY_BIN ]]; then
	cp "$REGISTRY_BIN" "$work/dryad-registry"
fi

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

profile_env=()
if [[ -n $PROFILE ]]; then
	mkdir -p "$PROFILE"
	PROFILE=$(cd "$PROFILE" && pwd)
	pprof_port=$(free_port) || die "no free loopback port"
	profile_env=(PROFILING=true METRICS_PORT="$pprof_port")
fi

say "starting the registry (SQLite in $work/data, archives: $BLOB_STORE)"
start_registry "$work/dryad-registry" "$work" MAX_PACKAGE_SIZE=$((PUBLISH_MB + 28))MB LOG_LEVEL="$LOG_LEVEL" "${store_env[@]}" "${profile_env[@]}"
say "registry at $url (pid $server_pid)"

say "seeding $PACKAGES packages x $VERSIONS versions"
start=$(now_ms)
"$work/bench" seed -url "$url" -packages "$PACKAGES" -versions "$VERSIONS" -token-file "$work/token"
say "seeded in $(since "$start")"

# Every publish leaves a git commit to make in the background; measuring
# while the queue drains would measure git too.
metrics_url=$url/metrics
[[ -n $PROFILE ]] && metrics_url=http://127.0.0.1:$pprof_port/metrics
start=$(now_ms)
git_idle() { curl -sf "$metrics_url" | grep -qx 'dryad_git_queue_jobs 0'; }
wait_for 600 git_idle || die "the git queue did not drain in 10 minutes"
say "git queue drained in $(since "$start")"

# The baselines serve the same bytes (the metadata documents and the two
# archives, as the registry served them) at the same paths: nginx from
# files, with its access log on as the registry's is at LOG_LEVEL=info, and
# a bare net/http server with the same headers. nginx is the goal; the
# bare Go server says what the registry's own work costs over net/http.
hot=$(printf 'pkg-%04d' $((PACKAGES / 2)))
base=$work/baseline
mkdir -p "$base/api/packages" "$base/packages/bench-10k" "$base/packages/bench-1m"
curl -sf -o "$base/api/packages/$hot" "$url/api/packages/$hot"
curl -sf -o "$base/api/packages/bench-many" "$url/api/packages/bench-many"
curl -sf -o "$base/packages/bench-10k/1.0.0.tar.gz" "$url/packages/bench-10k/1.0.0.tar.gz"
curl -sf -o "$base/packages/bench-1m/1.0.0.tar.gz" "$url/packages/bench-1m/1.0.0.tar.gz"
chmod 755 "$work"
chmod -R a+rX "$base"

"$work/bench" baseline -dir "$base" >"$work/baseline.url" 2>"$work/baseline.log" &
baseline_pid=$!
for _ in $(seq 100); do
	[[ -s $work/baseline.url ]] && break
	sleep 0.05
done
baseline_url=$(head -n1 "$work/baseline.url")
[[ -n $baseline_url ]] || die "the baseline server did not start: $(cat "$work/baseline.log")"

nginx_port=$(free_port) || die "no free loopback port"
mkdir -p "$work/nginx/tmp"
nginx_user=
((EUID == 0)) && nginx_user="user root root;"
cat >"$work/nginx/nginx.conf" <<EOF
$nginx_user
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 8192; }
http {
	access_log $work/nginx/access.log;
	client_body_temp_path $work/nginx/tmp/body;
	proxy_temp_path $work/nginx/tmp/proxy;
	fastcgi_temp_path $work/nginx/tmp/fastcgi;
	uwsgi_temp_path $work/nginx/tmp/uwsgi;
	scgi_temp_path $work/nginx/tmp/scgi;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 10000000;
	keepalive_timeout 120s;
	server {
		listen 127.0.0.1:$nginx_port;
		root $base;
		location /api/packages/ {
			default_type "application/json; charset=utf-8";
			add_header Cache-Control no-cache;
		}
		location /packages/ {
			default_type application/gzip;
			add_header Cache-Control "public, max-age=31536000, immutable";
		}
	}
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$work/nginx/stdout.log" 2>&1 &
nginx_pid=$!
nginx_url=http://127.0.0.1:$nginx_port
wait_for 10 curl -sf -o /dev/null "$nginx_url/api/packages/$hot" ||
	die "nginx did not start: $(cat "$work/nginx/error.log" "$work/nginx/stdout.log")"

# cpu_ticks PID prints the CPU time (user + system) PID and its child
# processes (nginx's workers) have used, in clock ticks.
cpu_ticks() {
	local total=0 p t
	for p in $1 $(pgrep -P "$1" || true); do
		# A child may have ended since pgrep saw it.
		t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || t=0
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

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

# profile_run NAME: with PROFILE set, takes a CPU profile of the registry
# for the length of one run in the background, and the allocations so far
# (NAME.allocs0.pprof; profile_done saves them again after the run).
profile_pid=
profile_run() {
	[[ -n $PROFILE ]] || return 0
	curl -sf -o "$PROFILE/$1.allocs0.pprof" "http://127.0.0.1:$pprof_port/debug/pprof/allocs" || say "the allocation profile of $1 failed"
	curl -sf -o "$PROFILE/$1.cpu.pprof" "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=${DURATION%s}" &
	profile_pid=$!
}

# profile_done NAME: waits for profile_run's CPU profile and saves the
# allocations since the start.
profile_done() {
	[[ -n $PROFILE ]] || return 0
	wait "$profile_pid" || say "the CPU profile of $1 failed"
	curl -sf -o "$PROFILE/$1.allocs.pprof" "http://127.0.0.1:$pprof_port/debug/pprof/allocs" || say "the allocation profile of $1 failed"
}

# The registry's RSS is sampled every 100 ms during the load runs, and
# apart during the many connections' run and the large publish.
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
# sample_rss FILE INTERVAL: writes the server's RSS (KiB) to FILE every
# INTERVAL seconds, in the background, until stop_sampling.
sample_rss() {
	(
		while kill -0 "$server_pid" 2>/dev/null; do
			rss
			sleep "$2"
		done
	) >"$1" &
	sampler_pid=$!
}
# stop_sampling stops the sampler; peak FILE prints the highest sample.
stop_sampling() {
	kill "$sampler_pid" 2>/dev/null || true
	wait "$sampler_pid" 2>/dev/null || true
	sampler_pid=
}
peak() { sort -n "$1" | tail -n1; }
sample_rss "$work/rss-load.txt" 0.1

# bench NAME PATH [STATUS]: the registry, nginx and the bare Go server.
results=()
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
bench() {
	local name=$1 path=$2 want=${3:-200}
	say "wrk: $name (GET $path, $DURATION, $CONNECTIONS connections, $THREADS threads): registry, nginx, Go"
	local slug=${name// /-}
	slug=${slug//[()]/}
	profile_run "$slug"
	wrk_run "$url$path" "$want" "$server_pid"
	profile_done "$slug"
	local r_rps=$rps r_p50=$p50 r_p99=$p99 r_problems=$problems r_cpu=$cpu
	wrk_run "$nginx_url$path" "$want" "$nginx_pid"
	local n_rps=$rps n_p99=$p99 n_cpu=$cpu n_problems=$problems
	wrk_run "$baseline_url$path" "$want" "$baseline_pid"
	results+=("$(printf '%-22s %9s %8s %8s %6s   %9s %8s %6s   %9s %6s   %5s %5s  %s' "$name" "$r_rps" "$r_p50" "$r_p99" "$r_cpu" \
		"$n_rps" "$n_p99" "$n_cpu" "$rps" "$cpu" "$(ratio "$r_rps" "$n_rps")" "$(ratio "$r_rps" "$rps")" "$r_problems${n_problems:+ (nginx: $n_problems)}")")
}

bench "metadata" "/api/packages/$hot"
bench "metadata, 50 versions" /api/packages/bench-many
bench "download 10 KB" /packages/bench-10k/1.0.0.tar.gz
bench "download 1 MB" /packages/bench-1m/1.0.0.tar.gz
bench "404" /api/packages/no-such-package 404

# Many clients at once: KEEPALIVE connections kept open for the whole run,
# each sending requests one after another.
stop_sampling
rss_load=$(peak "$work/rss-load.txt")
say "wrk: $KEEPALIVE keep-alive connections on the metadata, registry then nginx"
ulimit -n "$((KEEPALIVE * 2 + 1024))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
sample_rss "$work/rss-conns.txt" 0.1
many_conns() {
	local out
	out=$(wrk -t"$THREADS" -c"$KEEPALIVE" -d"$DURATION" --latency "$1")
	printf '%s\n\n' "$out" >>"$work/wrk.txt"
	printf '%s req/s, p99 %s, %s' "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
		"$(grep -E 'Socket errors|Non-2xx' <<<"$out" | sed 's/^ *//' | tr '\n' ' ' || true)"
}
keepalive_registry=$(many_conns "$url/api/packages/$hot")
keepalive_nginx=$(many_conns "$nginx_url/api/packages/$hot")
stop_sampling
rss_conns=$(peak "$work/rss-conns.txt")
nginx_rss=0
for p in $nginx_pid $(pgrep -P "$nginx_pid" || true); do
	r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || r=0
	nginx_rss=$((nginx_rss + ${r:-0}))
done

kill "$baseline_pid" "$nginx_pid" 2>/dev/null || true
wait "$baseline_pid" "$nginx_pid" 2>/dev/null || true
baseline_pid=
nginx_pid=

# The large publish: the server's RSS is sampled every 50 ms from before the
# upload starts until its answer.
say "publishing a $PUBLISH_MB MiB package while sampling the server's RSS"
mkdir -p "$work/big/lib"
printf '{"name": "bench-big", "version": "1.0.0", "description": "large benchmark package", "dependencies": {}}\n' >"$work/big/oaklibs.json"
printf 'export fn big() {}\n' >"$work/big/lib/big.dryad"
head -c $((PUBLISH_MB << 20)) /dev/urandom >"$work/big/data.bin"
rss_before=$(rss)
sample_rss "$work/rss.txt" 0.05
start=$(now_ms)
"$work/dryad-registry" publish "$work/big" --registry "$url" --token-file "$work/token" --quiet >"$work/publish.txt" 2>&1 ||
	die "publish failed: $(cat "$work/publish.txt")"
publish_time=$(since "$start")
sleep 0.2
stop_sampling
rss_peak=$(peak "$work/rss.txt")
rss_samples=$(wc -l <"$work/rss.txt")

echo
echo "Machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Server: SQLite, in-process cache, archives: $BLOB_STORE, LOG_LEVEL=$LOG_LEVEL; wrk on the same machine: $THREADS threads, $CONNECTIONS connections, $DURATION per run"
echo
printf '%-22s %9s %8s %8s %6s   %9s %8s %6s   %9s %6s   %5s %5s\n' "" "registry" "" "" "" "nginx" "" "" "net/http" "" "ratio" "ratio"
printf '%-22s %9s %8s %8s %6s   %9s %8s %6s   %9s %6s   %5s %5s\n' "benchmark" "req/s" "p50" "p99" "CPU/req" "req/s" "p99" "CPU/req" "req/s" "CPU/req" "nginx" "Go"
printf '%s\n' "${results[@]}"
echo
echo "$KEEPALIVE keep-alive connections, metadata: registry $keepalive_registry; nginx $keepalive_nginx"
echo "RSS under load: registry peak $((rss_load / 1024)) MiB with $CONNECTIONS connections, $((rss_conns / 1024)) MiB with $KEEPALIVE; nginx (master and workers) $((nginx_rss / 1024)) MiB at the end"
echo "publish of $PUBLISH_MB MiB (incompressible): $publish_time with packing; $(grep -m1 '^published' "$work/publish.txt")"
echo "CPU/req: the server's CPU time (user + system) per request, in microseconds; ratio: registry req/s / nginx's and / the bare Go server's"
echo "server RSS: $((rss_before / 1024)) MiB before, peak $((rss_peak / 1024)) MiB, increase $(((rss_peak - rss_before) / 1024)) MiB ($rss_samples samples every 50 ms)"
