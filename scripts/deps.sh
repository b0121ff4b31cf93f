#!/usr/bin/env bash
# Installs, idempotently, what edgebill's tests and demo need from Debian:
# FreeRADIUS 3.2 with its PostgreSQL driver and radclient, rp-pppoe,
# tshark, chromium (screenshot tests), and checks the PostgreSQL 15 server
# binaries. Does nothing when all is there already. Needs root to install.
set -euo pipefail

pkgs=(freeradius freeradius-postgresql freeradius-utils pppoe tshark chromium iproute2 util-linux)
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	if [[ $(id -u) != 0 ]]; then
		echo "deps: missing ${missing[*]}; run as root (or: sudo make deps)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# The package starts nothing here, but where systemd runs it would:
	# the lab starts its own private FreeRADIUS instead.
	systemctl disable --now freeradius >/dev/null 2>&1 || true
fi

pgbin=""
for v in 17 16 15; do
	if [[ -x /usr/lib/postgresql/$v/bin/postgres && -x /usr/lib/postgresql/$v/bin/initdb ]]; then
		pgbin=/usr/lib/postgresql/$v/bin
		break
	fi
done
if [[ -z $pgbin ]]; then
	if [[ $(id -u) == 0 ]]; then
		echo "deps: installing postgresql-15"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
		systemctl disable --now postgresql >/dev/null 2>&1 || true
	else
		echo "deps: PostgreSQL server binaries (initdb, postgres) not found" >&2
		exit 1
	fi
fi
if ! id postgres >/dev/null 2>&1; then
	echo "deps: the postgres system user is missing (postgresql-common makes it)" >&2
	exit 1
fi
echo "deps: ok (freeradius $(freeradius -v 2>/dev/null | sed -n 's/.*Version \([0-9.]*\).*/\1/p' | head -1), $(${pgbin:-/usr/lib/postgresql/15/bin}/postgres --version))"
