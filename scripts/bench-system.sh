#!/usr/bin/env bash
# Side-by-side benchmarks of the whole system (issue 7): each line is one
# of edgebill's paths against its peer on this machine, in the same run,
# as a ratio; first the relay lines, run by scripts/bench-compare.sh.
#
#   session setup   sessions/s through pppoe-dial -> gatewayd (4 gateways)
#                   -> nasd -> FreeRADIUS (lab/e2e BenchmarkSessionSetup),
#                   against radclient's own Access-Request rate on the same
#                   FreeRADIUS (its best of -p 32..256)
#   bill ingest     bills/s billd acknowledges after a durable commit,
#                   against FreeRADIUS rlm_sql's accounting rate, same
#                   radclient load (-p 256; server BenchmarkRadclientPeers)
#   reconciliation  1,000,000 sessions: billd's reconciliation against a
#                   bare SQL join of bills and radacct on the same data
#                   (server/recon BenchmarkReconcile)
#
# Prints a table and writes it to a file.
#
#   sudo scripts/bench-system.sh [-n DIALS] [-b BILLS] [-s SESSIONS] [-o FILE]
#
#   -n  sessions dialed for the setup line (default 2000)
#   -b  bills for the ingest line (default 20000, its most)
#   -s  sessions for the reconciliation line (default 1000000)
#   -o  output file (default bench-system.txt)
#   -R  leave out the relay lines (scripts/bench-compare.sh -d 3 -r 1,
#       run first: gatewayd vs pppoe-relay vs the kernel bridge)
#
# Needs root (namespaces, AF_PACKET, a private Postgres), go, radclient,
# freeradius (make deps). Everything runs in namespaces and private
# clusters the benchmarks make and remove.
set -euo pipefail

dials=2000
bills=20000
sessions=1000000
out=bench-system.txt
relay=1
while getopts "n:b:s:o:Rh" opt; do
	case $opt in
	n) dials=$OPTARG ;;
	b) bills=$OPTARG ;;
	s) sessions=$OPTARG ;;
	o) out=$OPTARG ;;
	R) relay=0 ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2
		;;
	esac
done
for v in "$dials" "$bills" "$sessions"; do
	[[ $v =~ ^[0-9]+$ && $v -ge 4 ]] || { echo "bench-system: -n, -b, -s take counts" >&2; exit 2; }
done
if [[ $(id -u) != 0 ]]; then
	echo "bench-system: needs root (namespaces, AF_PACKET, Postgres): sudo $0" >&2
	exit 1
fi
for p in go radclient freeradius; do
	command -v "$p" >/dev/null || { echo "bench-system: $p not found (make deps)" >&2; exit 1; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
logs=$(mktemp -d /tmp/edgebill-bench-system-XXXXXX)
trap 'rm -rf "$logs"' EXIT

# metric FILE UNIT: the value reported before UNIT on the benchmark line.
metric() {
	awk -v u="$2" '/^Benchmark/ { for (i = 2; i <= NF; i++) if ($i == u) { print $(i-1); exit } }' "$1"
}

# bench NAME PKG BENCH RUNS ENV...: a benchmark run RUNS times (its
# -benchtime), its output kept.
bench() {
	local name=$1 pkg=$2 re=$3 runs=$4
	shift 4
	echo "== $name: go test -bench '$re' $pkg" >&2
	if ! env "$@" go test -count=1 -run '^$' -bench "$re" -benchtime "$runs" -timeout 90m "$pkg" >"$logs/$name.txt" 2>&1; then
		grep -v '^        ' "$logs/$name.txt" | tail -40 >&2
		echo "bench-system: $name failed (the daemons' logs are cut above; rerun the go test line to see them)" >&2
		return 1
	fi
	grep -E '^(Benchmark|    [a-z_]+\.go:[0-9]+:)' "$logs/$name.txt" | sed 's/^/   /' >&2 || true
}

bench setup ./lab/e2e '^BenchmarkSessionSetup$' 1x EDGEBILL_BENCH_DIALS="$dials"
bench ingest ./server/ '^BenchmarkRadclientPeers$' 1x EDGEBILL_BENCH_BILLS="$bills"
bench recon ./server/recon/ '^BenchmarkReconcile$' 3x EDGEBILL_BENCH_SESSIONS="$sessions"

s_ours=$(metric "$logs/setup.txt" dial-sessions/s)
s_peer=$(metric "$logs/setup.txt" radclient-access/s)
s_p50=$(metric "$logs/setup.txt" setup-p50-ms)
i_ours=$(metric "$logs/ingest.txt" billd-bills/s)
i_peer=$(metric "$logs/ingest.txt" freeradius-records/s)
r_ours=$(metric "$logs/recon.txt" reconcile-s)
r_peer=$(metric "$logs/recon.txt" bare-join-kept-s)
r_what="a bare SQL join of bills and radacct into a table"
r_count=$(metric "$logs/recon.txt" bare-join-s)
r_temp=$(metric "$logs/recon.txt" bare-join-table-s)
r_rerun=$(metric "$logs/recon.txt" rerun-s)
for v in s_ours s_peer i_ours i_peer r_ours r_peer r_count r_temp r_rerun; do
	[[ -n ${!v} ]] || { echo "bench-system: no figure for $v (benchmark output changed?)" >&2; exit 1; }
done

short() { awk -v a="$1" 'BEGIN { if (a >= 1000000 && a % 1000000 == 0) printf "%dM", a / 1000000; else if (a >= 1000 && a % 1000 == 0) printf "%dk", a / 1000; else printf "%d", a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
num() { awk -v a="$1" 'BEGIN { printf "%.0f", a }'; }
sec() { awk -v a="$1" 'BEGIN { printf "%.2f s", a }'; }

# The relay lines: the same veth topology and generator for gatewayd,
# pppoe-relay and the kernel bridge (scripts/bench-compare.sh).
if ((relay)); then
	echo "bench-system: relay, scripts/bench-compare.sh -d 3 -r 1" >&2
	scripts/bench-compare.sh -d 3 -r 1 -o "$logs/relay.txt" >&2
fi

cpu=$(awk -F: '/model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)
mem=$(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
{
	echo "edgebill side-by-side, $(date -u +%Y-%m-%dT%H:%MZ), scripts/bench-system.sh -n $dials -b $bills -s $sessions"
	echo "machine: $cpu, $(nproc) cores, $mem RAM, Linux $(uname -r), $(go env GOVERSION), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	printf '%-16s %-44s %-50s %s\n' "line" "edgebill" "peer, same machine, same run" "ratio"
	printf '%-16s %-44s %-50s %s\n' "session setup" "$(num "$s_ours") sessions/s (gatewayd+nasd+FreeRADIUS)" \
		"$(num "$s_peer") Access-Requests/s (radclient -> FreeRADIUS)" "$(ratio "$s_ours" "$s_peer") (higher: faster)"
	printf '%-16s %-44s %-50s %s\n' "bill ingest" "$(num "$i_ours") bills/s (billd, ack after commit)" \
		"$(num "$i_peer") records/s (FreeRADIUS rlm_sql)" "$(ratio "$i_ours" "$i_peer") (higher: faster)"
	printf '%-16s %-44s %-50s %s\n' "reconcile $(short "$sessions")" "$(sec "$r_ours") (billd reconcile, every verdict)" \
		"$(sec "$r_peer") ($r_what)" "$(ratio "$r_ours" "$r_peer") the join's time (lower: faster)"
	echo
	echo "session setup: $(num "$dials") subscribers behind 4 gateways, 32 dials in flight on each; each session is two"
	echo "  Access-Requests (gatewayd's Authorize-Only, nasd's CHAP) and an Accounting-Start at FreeRADIUS; setup p50 $(num "$s_p50") ms."
	echo "bill ingest: radclient -p 256 sends $(num "$bills") Accounting-Request Stops to each; billd verifies each bill's Ed25519"
	echo "  signature and answers after a synchronous commit; FreeRADIUS inserts into radacct with rlm_sql."
	echo "reconciliation: each side holds $(num "$sessions") sessions; billd reads both, matches each bill, judges it (from"
	echo "  ingest's price where the two sides agree, else with rfc/tariff) and writes its verdict; medians of three runs, the"
	echo "  join's too; re-run of the same range $(sec "$r_rerun")."
	echo "  The same join counted: $(sec "$r_count") ($(ratio "$r_ours" "$r_count")); into a temporary table: $(sec "$r_temp") ($(ratio "$r_ours" "$r_temp"))."
	if ((relay)); then
		echo
		echo "relay: session frames/s through gatewayd vs pppoe-relay vs the kernel bridge (scripts/bench-compare.sh -d 3 -r 1):"
		sed -n '/^path/,$p' "$logs/relay.txt"
	fi
} | tee "$out"
echo "written to $out" >&2
