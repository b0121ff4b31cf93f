#!/usr/bin/env bash
# Side-by-side relay benchmark (issue 7, "Side-by-side benchmarks"): PPPoE
# session frames per second through the middle of three namespaces,
#
#   gen (pppoe-blast dial) <-> mid (what is measured) <-> sink (pppoe-blast ac)
#
# with in mid, in turn: (a) the kernel bridge, (b) rp-pppoe's
# `pppoe-relay -C lan0 -S wan0 -F`, (c) gatewayd (a slot: mid_gatewayd_up
# below). Each run does a real PPPoE discovery through mid (pppoe-relay
# renumbers session ids, so it must), then sends session frames of one size
# for DURATION seconds as fast as sendmmsg(2) goes; frames through are
# counted at the sink's interface (its rx_packets, less the discovery
# frames the access concentrator saw), so the sink spends no CPU reading.
#
# Prints a table of frames/s and ratios and writes it to a file.
#
#   sudo scripts/bench-compare.sh [-d SECONDS] [-s "64 1400"] [-r RUNS] [-o FILE]
#
#   -d  seconds per run (default 5)
#   -s  frame sizes in octets, Ethernet header included, FCS excluded
#       (default "64 1400")
#   -r  runs per cell; the table shows the median (default 1)
#   -o  output file (default bench-compare.txt)
#
# Traffic stays inside the namespaces this script makes; everything it
# makes is removed on exit, Ctrl-C included. Needs root, ip, pppoe-relay
# (Debian package pppoe) and go.
set -euo pipefail

duration=5
sizes="64 1400"
runs=1
out=bench-compare.txt
while getopts "d:s:r:o:h" opt; do
	case $opt in
	d) duration=$OPTARG ;;
	s) sizes=$OPTARG ;;
	r) runs=$OPTARG ;;
	o) out=$OPTARG ;;
	*)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2
		;;
	esac
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 1 && $duration -le 600 ]] || { echo "bench-compare: -d 1 to 600" >&2; exit 2; }
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $runs -le 20 ]] || { echo "bench-compare: -r 1 to 20" >&2; exit 2; }
for s in $sizes; do
	[[ $s =~ ^[0-9]+$ && $s -ge 58 && $s -le 1514 ]] || { echo "bench-compare: sizes 58 to 1514" >&2; exit 2; }
done
if [[ $(id -u) != 0 ]]; then
	echo "bench-compare: needs root (namespaces, AF_PACKET): sudo $0" >&2
	exit 1
fi
for p in ip go; do
	command -v "$p" >/dev/null || { echo "bench-compare: $p not found" >&2; exit 1; }
done
relay_bin=$(command -v pppoe-relay || echo /usr/sbin/pppoe-relay)
[[ -x $relay_bin ]] || { echo "bench-compare: pppoe-relay not found (apt-get install pppoe, or make deps)" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/edgebill-bench-XXXXXX)
suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
GEN=ebb-gen-$suffix
MID=ebb-mid-$suffix
SINK=ebb-sink-$suffix
bg_pids=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${bg_pids[@]}"; do
		for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	for ns in "$GEN" "$MID" "$SINK"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench-compare: $*" >&2; }

log "building pppoe-blast"
(cd "$root" && CGO_ENABLED=0 go build -o "$work/" ./lab/cmd/pppoe-blast)
blast=$work/pppoe-blast

# --- topology ---------------------------------------------------------------
for ns in "$GEN" "$MID" "$SINK"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
# veth pair: NS_A IF_A <-> NS_B IF_B, up, no addresses (PPPoE is L2).
veth() {
	local a=eba$suffix$1 b=ebb$suffix$1
	ip link add "$a" type veth peer name "$b"
	ip link set "$a" netns "$2"
	ip link set "$b" netns "$4"
	ip -n "$2" link set "$a" name "$3"
	ip -n "$4" link set "$b" name "$5"
	ip -n "$2" link set "$3" up
	ip -n "$4" link set "$5" up
}
veth 1 "$GEN" eth0 "$MID" lan0
veth 2 "$MID" wan0 "$SINK" eth0

# --- what sits in mid ---------------------------------------------------------
# Each *_up returns non-zero when that path cannot run here (the row then
# says why); *_down undoes it.
mid_pid=""
mid_note=""

mid_bridge_up() {
	ip -n "$MID" link add br0 type bridge
	ip -n "$MID" link set lan0 master br0
	ip -n "$MID" link set wan0 master br0
	ip -n "$MID" link set br0 up
}
mid_bridge_down() {
	ip -n "$MID" link del br0 2>/dev/null || true
}

# packet_sockets PID: the AF_PACKET sockets in PID's network namespace.
packet_sockets() { [[ -r /proc/$1/net/packet ]] && echo $(($(wc -l <"/proc/$1/net/packet") - 1)) || echo 0; }

mid_relay_up() {
	ip netns exec "$MID" "$relay_bin" -C lan0 -S wan0 -F >"$work/relay.log" 2>&1 &
	mid_pid=$!
	bg_pids+=("$mid_pid")
	# Ready once it holds discovery and session sockets on both sides.
	for _ in $(seq 50); do
		(($(packet_sockets "$mid_pid") >= 4)) && return 0
		kill -0 "$mid_pid" 2>/dev/null || break
		sleep 0.1
	done
	mid_note="pppoe-relay did not start: $(head -c 200 "$work/relay.log")"
	return 1
}
mid_relay_down() {
	[[ -n $mid_pid ]] && { kill -TERM "$mid_pid" 2>/dev/null || true; wait "$mid_pid" 2>/dev/null || true; }
	mid_pid=""
}

# gatewayd in mid, relaying lan0 (LAN) to wan0 (WAN), as configured for a
# home gateway: relay mode auto (the tc/BPF fast path when it loads; set
# GATEWAYD_RELAY_MODE=user or kernel to choose), exact metering, a
# bill at hang-up. There is no RADIUS in this topology: [auth] names a
# port nothing listens on and fail-open lets the dial through after one
# lost request (~0.2 s); the tariff is then the configured default, and
# bills wait in the journal for an accounting server that never answers.
# gatewayd relays a session's IP only once the BRAS accepted the login,
# so for this path the dialer authenticates with PAP after discovery and
# the access concentrator acks it (pppoe-blast -pap). After each run the
# bill's octets are checked against the frames the sink counted.
gatewayd_bin=""
gatewayd_log=""
mid_gatewayd_up() {
	if [[ -z $gatewayd_bin ]]; then
		log "building gatewayd"
		(cd "$root" && CGO_ENABLED=0 go build -o "$work/" ./gateway/cmd/gatewayd) || {
			mid_note="gatewayd did not build"
			return 1
		}
		gatewayd_bin=$work/gatewayd
	fi
	local conf=$work/gatewayd.conf mode=${GATEWAYD_RELAY_MODE:-auto}
	gatewayd_log=$work/gatewayd.log
	rm -f "$work/gatewayd-journal.db" "$work/gatewayd-journal.db.pub"
	cat >"$conf" <<-CONF
		gateway-id = bench-compare
		journal = $work/gatewayd-journal.db
		log-level = info
		shutdown-grace = 0s
		[lan]
		interface = lan0
		[wan]
		interface = wan0
		[relay]
		mode = $mode
		[auth]
		server = 127.0.0.1:9 bench-secret
		timeout = 100ms
		retries = 1
		fail-open = true
		[accounting]
		server = 127.0.0.1:9 bench-secret
		timeout = 100ms
		retries = 0
		retry-interval = 1h
		default-tariff = T1;id=bench;v=1;cur=CNY;sc=4;fee=0;both=100/MB/up
	CONF
	ip netns exec "$MID" "$gatewayd_bin" -config "$conf" -log-format json >"$gatewayd_log" 2>&1 &
	mid_pid=$!
	bg_pids+=("$mid_pid")
	for _ in $(seq 100); do
		grep -q '"relay ready"' "$gatewayd_log" 2>/dev/null && break
		kill -0 "$mid_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '"relay ready"' "$gatewayd_log" 2>/dev/null; then
		mid_note="gatewayd did not start: $(tail -c 300 "$gatewayd_log" | tr '\n' ' ')"
		return 1
	fi
	if grep '"relay ready"' "$gatewayd_log" | grep -q '"offload":true'; then
		label[gatewayd]="gatewayd tc"
	else
		label[gatewayd]="gatewayd user"
	fi
	blast_dial_flags=(-pap bench:bench-pw)
	blast_ac_flags=(-pap)
	after_measure=gatewayd_check
}

# gatewayd_check SIZE FRAMES: the bill of the session just hung up must
# count exactly the FRAMES session frames the sink received, each an IP
# packet of SIZE-22 octets (Ethernet, PPPoE and PPP headers off), and
# nothing the other way.
gatewayd_check() {
	local size=$1 frames=$2 line="" in out billed
	for _ in $(seq 50); do
		line=$(grep '"session billed"' "$gatewayd_log" | tail -n +"$((gatewayd_bills + 1))" | head -1)
		[[ -n $line ]] && break
		sleep 0.1
	done
	if [[ -z $line ]]; then
		echo "gatewayd ${size} octets: no bill within 5 s of the hang-up" >>"$work/gw-check.txt"
		return
	fi
	gatewayd_bills=$((gatewayd_bills + 1))
	in=$(sed -n 's/.*"in_octets":\([0-9]*\).*/\1/p' <<<"$line")
	out=$(sed -n 's/.*"out_octets":\([0-9]*\).*/\1/p' <<<"$line")
	billed=$((in / (size - 22)))
	if ((in % (size - 22) == 0 && billed == frames && out == 0)); then
		echo "gatewayd ${size} octets: bill ${billed} frames (${in} octets in, ${out} out), sink ${frames}: exact" >>"$work/gw-check.txt"
	else
		echo "gatewayd ${size} octets: bill ${in} octets in (${billed} frames), ${out} out; sink ${frames} frames: MISMATCH" >>"$work/gw-check.txt"
	fi
}
gatewayd_bills=0
mid_gatewayd_down() {
	[[ -n $mid_pid ]] && { kill -TERM "$mid_pid" 2>/dev/null || true; wait "$mid_pid" 2>/dev/null || true; }
	mid_pid=""
	blast_dial_flags=()
	blast_ac_flags=()
	after_measure=""
}

# --- one measurement ------------------------------------------------------------
# A path's *_up may add flags to the generator's two ends and name a
# function called after each run with the frame size and the frames the
# sink counted.
blast_dial_flags=()
blast_ac_flags=()
after_measure=""

# kv FILE KEY: the value of KEY=VALUE in FILE.
kv() { sed -n "s/^$2=//p" "$1" | head -1; }
rx_packets() { ip netns exec "$SINK" cat /sys/class/net/eth0/statistics/rx_packets; }

# measure SIZE: prints "SENT_PER_S THROUGH_PER_S" or fails. Called in
# this shell (not in $(...)) and waiting with `wait`, so that a signal's
# trap runs at once and cleanup reaches every process.
measure() {
	local size=$1 ac_pid dial_pid rx0 rx1 disc sent secs through pap
	ip netns exec "$SINK" "$blast" ac -i eth0 "${blast_ac_flags[@]}" -for "$((duration + 60))s" >"$work/ac.out" 2>"$work/ac.err" &
	ac_pid=$!
	bg_pids+=("$ac_pid")
	for _ in $(seq 50); do
		grep -q '^ready' "$work/ac.err" 2>/dev/null && break
		sleep 0.1
	done
	rx0=$(rx_packets)
	ip netns exec "$GEN" timeout "$((duration + 30))" "$blast" dial -i eth0 "${blast_dial_flags[@]}" -size "$size" -duration "${duration}s" >"$work/dial.out" 2>"$work/dial.err" &
	dial_pid=$!
	bg_pids+=("$dial_pid")
	if ! wait "$dial_pid"; then
		log "dial failed: $(cat "$work/dial.err")"
		kill -TERM "$ac_pid" 2>/dev/null || true
		wait "$ac_pid" 2>/dev/null || true
		return 1
	fi
	sleep 0.5 # frames still in flight through mid
	rx1=$(rx_packets)
	kill -TERM "$ac_pid" 2>/dev/null || true
	wait "$ac_pid" 2>/dev/null || true
	pap=$(kv "$work/ac.out" pap)
	disc=$(($(kv "$work/ac.out" padi) + $(kv "$work/ac.out" padr) + $(kv "$work/ac.out" padt) + ${pap:-0}))
	sent=$(kv "$work/dial.out" sent)
	secs=$(kv "$work/dial.out" seconds)
	through=$((rx1 - rx0 - disc))
	((through < 0)) && through=0
	[[ -n $after_measure ]] && "$after_measure" "$size" "$through"
	awk -v s="$sent" -v t="$through" -v d="$secs" 'BEGIN { printf "%.0f %.0f\n", s / d, t / d }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'; }

# --- the runs -------------------------------------------------------------------
declare -A sent_ps through_ps note
paths=(bridge relay gatewayd)
declare -A label=([bridge]="kernel bridge" [relay]="pppoe-relay" [gatewayd]="gatewayd")

for path in "${paths[@]}"; do
	mid_note=""
	if ! "mid_${path}_up"; then
		for size in $sizes; do note[$path,$size]=$mid_note; done
		"mid_${path}_down"
		log "${label[$path]}: $mid_note"
		continue
	fi
	for size in $sizes; do
		: >"$work/s.txt"
		: >"$work/t.txt"
		for r in $(seq "$runs"); do
			log "${label[$path]}, $size octets, run $r of $runs (${duration}s)"
			if measure "$size" >"$work/res.txt"; then
				res=$(cat "$work/res.txt")
				echo "${res% *}" >>"$work/s.txt"
				echo "${res#* }" >>"$work/t.txt"
			fi
		done
		if [[ -s $work/t.txt ]]; then
			sent_ps[$path,$size]=$(median <"$work/s.txt")
			through_ps[$path,$size]=$(median <"$work/t.txt")
		else
			note[$path,$size]="failed (see messages above)"
		fi
	done
	"mid_${path}_down"
done

# --- the table -------------------------------------------------------------------
ratio() { # A B: A/B to two places, or "-"
	[[ -n ${1:-} && -n ${2:-} && ${2:-0} != 0 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "-"
}
{
	echo "edgebill side-by-side relay benchmark: PPPoE session frames/s through mid"
	echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, Linux $(uname -r)"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end"
	echo "method:  gen <-veth-> mid <-veth-> sink; PPPoE discovery through mid, then ${duration}s of"
	echo "         session frames (sendmmsg, 64 a call) counted at sink's interface; median of $runs run(s)"
	echo "sizes:   Ethernet frame octets, header included, FCS excluded"
	echo
	printf "%-14s %5s %12s %12s %9s %10s %12s\n" path size "sent/s" "through/s" delivered "vs bridge" "vs relay"
	for path in "${paths[@]}"; do
		for size in $sizes; do
			if [[ -n ${through_ps[$path,$size]:-} ]]; then
				t=${through_ps[$path,$size]}
				s=${sent_ps[$path,$size]}
				printf "%-14s %5s %12s %12s %8s%% %10s %12s\n" "${label[$path]}" "$size" "$s" "$t" \
					"$(awk -v a="$t" -v b="$s" 'BEGIN { printf "%.1f", b ? 100 * a / b : 0 }')" \
					"$(ratio "$t" "${through_ps[bridge,$size]:-}")" "$(ratio "$t" "${through_ps[relay,$size]:-}")"
			else
				printf "%-14s %5s   %s\n" "${label[$path]}" "$size" "${note[$path,$size]:-not run}"
			fi
		done
	done
	if [[ -s $work/gw-check.txt ]]; then
		echo
		echo "metering (gatewayd's bill against the sink's count, per run):"
		sed 's/^/  /' "$work/gw-check.txt"
	fi
	echo
	echo "rerun: sudo scripts/bench-compare.sh -d $duration -s \"$sizes\" -r $runs"
} | tee "$out"
log "written to $out"
