# shellcheck shell=bash
# Installs the programs the tests drive (Debian packages via apt-get, as root).
# Sourced after common.sh, never run.

# pg_bin_dir prints the folder holding PostgreSQL's initdb and pg_ctl: $PG_BINDIR
# when set, else the newest /usr/lib/postgresql/*/bin (Debian keeps them off
# PATH), else wherever pg_ctl is on PATH (Homebrew, other distributions).
pg_bin_dir() {
	local d
	if [[ -n ${PG_BINDIR:-} ]]; then
		[[ -x $PG_BINDIR/initdb ]] && echo "$PG_BINDIR"
		return
	fi
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
		if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/pg_isready ]]; then
			echo "$d"
			return 0
		fi
	done
	d=$(command -v pg_ctl) || return 1
	d=$(dirname "$d")
	[[ -x $d/initdb && -x $d/pg_isready ]] && echo "$d"
}

# missing_packages prints the Debian packages whose programs are not installed,
# one per line.
missing_packages() {
	pg_bin_dir >/dev/null || echo postgresql
	have redis-server || echo redis-server
	have redis-cli || echo redis-tools
	have nginx || echo nginx
	have git || echo git
	have chromium || echo chromium
	have openssl || echo openssl
	have envsubst || echo gettext-base
	have curl || echo curl
	[[ -f /etc/ssl/certs/ca-certificates.crt ]] || echo ca-certificates
	have setpriv || have runuser || echo util-linux
	# The race detector links with cgo, which needs a C compiler.
	have gcc || echo gcc
}

# ensure_packages installs what missing_packages lists. As root with apt-get it
# installs them (apt-get update runs only then); otherwise it says what is
# missing and carries on: the tests that need it skip, or fail under CI.
ensure_packages() {
	local missing
	mapfile -t missing < <(missing_packages)
	((${#missing[@]} > 0)) || return 0
	if ((EUID != 0)) || ! have apt-get; then
		warn "not installed: ${missing[*]}"
		warn "tests that need them will be skipped (or fail when CI is set)"
		return 0
	fi

	say "installing ${missing[*]}"
	local t0
	t0=$(now_ms)
	hold_services
	export DEBIAN_FRONTEND=noninteractive
	# Wait for another apt or dpkg to finish instead of failing at once.
	local apt=(apt-get -q -o DPkg::Lock::Timeout=600)
	local out
	out=$("${apt[@]}" update 2>&1) ||
		die "apt-get update failed:"$'\n'"$out"
	out=$("${apt[@]}" install -y --no-install-recommends "${missing[@]}" 2>&1) ||
		die "apt-get install ${missing[*]} failed:"$'\n'"$out"
	release_services
	say "installed ${missing[*]} ($(since "$t0"))"
}

# The Debian packages of PostgreSQL, Redis and nginx start their own service
# when installed (on 5432, 6379 and 80). The tests run their own servers on
# free ports and want no stray daemons, so while installing, a policy-rc.d that
# answers 101 ("action forbidden") stops invoke-rc.d and deb-systemd-invoke
# from starting anything. A policy-rc.d that is already there is left alone.
POLICY_RC_D=/usr/sbin/policy-rc.d
policy_rc_d_ours=

hold_services() {
	[[ -e $POLICY_RC_D ]] && return 0
	printf '#!/bin/sh\n# Written by scripts/test.sh while it installs packages.\nexit 101\n' >"$POLICY_RC_D"
	chmod 755 "$POLICY_RC_D"
	policy_rc_d_ours=1
}

# release_services removes the policy-rc.d hold_services wrote; the EXIT trap
# calls it too, should the install be interrupted.
release_services() {
	if [[ -n $policy_rc_d_ours ]]; then
		rm -f "$POLICY_RC_D"
		policy_rc_d_ours=
	fi
}
