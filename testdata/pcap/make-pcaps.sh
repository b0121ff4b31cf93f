#!/usr/bin/env bash
# make-pcaps.sh: capture golden PPPoE discovery frames from real peers
# (rp-pppoe) for rfc/pppoe's golden tests. Run as root from anywhere:
#
#     sudo testdata/pcap/make-pcaps.sh [OUTDIR]
#
# OUTDIR defaults to this script's folder (the committed goldens); the
# rfc/pppoe live test passes a temporary one.
# It needs ip (iproute2), rp-pppoe (pppoe, pppoe-server, pppoe-relay) and
# dumpcap (wireshark/tshark) or tcpdump. It builds private network
# namespaces joined by veth pairs with fixed MAC addresses, runs the real
# programs in them, captures only PPPoE discovery (ethertype 0x8863) with a
# packet-count limit, writes classic pcap files next to this script, and
# removes every namespace and process it started, even on failure.
#
# Files written (each a handful of frames):
#   rp-pppoe-discovery.pcap  on the host's link: `pppoe -I h0 -A` PADI,
#                            then `pppoe-server -I a0 -C edgebill-ac -F` PADO.
#   rp-pppoe-relay-wan.pcap  on the relay's server side: the PADI after
#                            `pppoe-relay -C lan0 -S wan0 -F` added its
#                            Relay-Session-Id, and the PADO echoing it.
#   rp-pppoe-relay-lan.pcap  on the relay's client side: the host's PADI, and
#                            the PADO in which the relay has replaced the
#                            server-side Relay-Session-Id by its own
#                            client-side one (rp-pppoe keeps a tag there).
#   rp-pppoe-full-discovery.pcap  the whole discovery stage on one link:
#                            `pppoe -I h0 -d -U` (PADI, PADR with Host-Uniq),
#                            pppoe-server's PADO and PADS, the server's PADT
#                            with a Generic-Error when its pppd child dies
#                            (this kernel has no /dev/ppp), and the PADT of
#                            `pppoe -I h0 -k -e SESSION:MAC`.
#
# Nothing is sent outside the namespaces this script creates. The MACs are
# fixed, but pppoe-server's AC-Cookie changes from run to run, so re-running
# changes some bytes; the tests only require that each captured frame parses
# and re-encodes byte for byte, plus a few facts that do not change (codes,
# tag types, the relay's tag). Frames on veth are not padded to 60 octets.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "make-pcaps.sh: must run as root (network namespaces)" >&2
	exit 1
fi
for prog in ip pppoe pppoe-server pppoe-relay; do
	command -v "$prog" >/dev/null || { echo "make-pcaps.sh: $prog not found" >&2; exit 1; }
done
if command -v dumpcap >/dev/null; then
	CAPTURER=dumpcap
elif command -v tcpdump >/dev/null; then
	CAPTURER=tcpdump
else
	echo "make-pcaps.sh: need dumpcap or tcpdump" >&2
	exit 1
fi

OUT=${1:-$(cd "$(dirname "$0")" && pwd)}
WORK=$(mktemp -d /tmp/edgebill-pcap.XXXXXX)
TAG=eb$$
NS_HOST=$TAG-host
NS_AC=$TAG-ac
NS_RELAY=$TAG-relay
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in "$NS_HOST" "$NS_AC" "$NS_RELAY"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# capture NS IFACE FILE COUNT: start a capture of COUNT discovery frames in
# the background and wait (at most 10 s) until it is really capturing.
capture() {
	local ns=$1 ifname=$2 file=$3 count=$4 log=$WORK/$(basename "$3").log
	case $CAPTURER in
	dumpcap)
		ip netns exec "$ns" dumpcap -i "$ifname" -P -f 'ether proto 0x8863' \
			-c "$count" -a duration:30 -w "$file" >"$log" 2>&1 &
		;;
	tcpdump)
		ip netns exec "$ns" tcpdump -i "$ifname" -U -c "$count" \
			-w "$file" 'ether proto 0x8863' >"$log" 2>&1 &
		;;
	esac
	PIDS+=($!)
	local i
	for i in $(seq 1 100); do
		if grep -q -e "Capturing on" -e "listening on" "$log" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "make-pcaps.sh: capture on $ns/$ifname did not start:" >&2
	cat "$log" >&2
	exit 1
}

# await PID SECONDS: wait for a background capture to finish by itself.
await() {
	local pid=$1 secs=$2 i
	for i in $(seq 1 $((secs * 10))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" || true
			return 0
		fi
		sleep 0.1
	done
	echo "make-pcaps.sh: capture $pid did not finish in ${secs}s" >&2
	exit 1
}

up() { ip -n "$1" link set "$2" up; }

# --- 1. pppoe -A against pppoe-server, one veth link -----------------------
ip netns add "$NS_HOST"
ip netns add "$NS_AC"
ip -n "$NS_HOST" link add h0 address 02:eb:00:00:00:01 type veth \
	peer name a0 address 02:eb:00:00:00:02 netns "$NS_AC"
up "$NS_HOST" h0
up "$NS_AC" a0

ip netns exec "$NS_AC" pppoe-server -I a0 -C edgebill-ac -F >"$WORK/server1.log" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
sleep 0.5

capture "$NS_HOST" h0 "$WORK/rp-pppoe-discovery.pcap" 2
CAP1=${PIDS[-1]}
ip netns exec "$NS_HOST" timeout 20 pppoe -I h0 -A >"$WORK/client1.log" 2>&1 || true
await "$CAP1" 20
kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
echo "--- pppoe -A saw:"
cat "$WORK/client1.log"
ip netns del "$NS_HOST"
ip netns del "$NS_AC"

# --- 2. the same through pppoe-relay ----------------------------------------
ip netns add "$NS_HOST"
ip netns add "$NS_RELAY"
ip netns add "$NS_AC"
ip -n "$NS_HOST" link add h0 address 02:eb:00:00:01:01 type veth \
	peer name lan0 address 02:eb:00:00:01:02 netns "$NS_RELAY"
ip -n "$NS_RELAY" link add wan0 address 02:eb:00:00:01:03 type veth \
	peer name a0 address 02:eb:00:00:01:04 netns "$NS_AC"
up "$NS_HOST" h0
up "$NS_RELAY" lan0
up "$NS_RELAY" wan0
up "$NS_AC" a0

ip netns exec "$NS_AC" pppoe-server -I a0 -C edgebill-ac -F >"$WORK/server2.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS_RELAY" pppoe-relay -C lan0 -S wan0 -F >"$WORK/relay.log" 2>&1 &
PIDS+=($!)
sleep 0.5

capture "$NS_RELAY" wan0 "$WORK/rp-pppoe-relay-wan.pcap" 2
CAPW=${PIDS[-1]}
capture "$NS_RELAY" lan0 "$WORK/rp-pppoe-relay-lan.pcap" 2
CAPL=${PIDS[-1]}
ip netns exec "$NS_HOST" timeout 20 pppoe -I h0 -A >"$WORK/client2.log" 2>&1 || true
await "$CAPW" 20
await "$CAPL" 20
echo "--- pppoe -A through pppoe-relay saw:"
cat "$WORK/client2.log"

ip netns del "$NS_HOST"
ip netns del "$NS_RELAY"
ip netns del "$NS_AC"

# --- 3. the whole discovery stage: PADI, PADO, PADR, PADS, PADT, PADT ------
ip netns add "$NS_HOST"
ip netns add "$NS_AC"
ip -n "$NS_HOST" link add h0 address 02:eb:00:00:02:01 type veth \
	peer name a0 address 02:eb:00:00:02:02 netns "$NS_AC"
up "$NS_HOST" h0
up "$NS_AC" a0

ip netns exec "$NS_AC" pppoe-server -I a0 -C edgebill-ac -F >"$WORK/server3.log" 2>&1 &
PIDS+=($!)
sleep 0.5

capture "$NS_HOST" h0 "$WORK/rp-pppoe-full-discovery.pcap" 6
CAP3=${PIDS[-1]}
# -d prints SESSION:AC-MAC once PADS arrives; the server then sends its own
# PADT when the pppd it spawns fails, and -k sends the host's PADT.
SESSION=$(ip netns exec "$NS_HOST" timeout 20 pppoe -I h0 -d -U)
echo "--- pppoe -d: $SESSION"
sleep 1
ip netns exec "$NS_HOST" timeout 10 pppoe -I h0 -k -e "$SESSION"
await "$CAP3" 20

for f in rp-pppoe-discovery.pcap rp-pppoe-relay-wan.pcap rp-pppoe-relay-lan.pcap \
	rp-pppoe-full-discovery.pcap; do
	install -m 0644 "$WORK/$f" "$OUT/$f"
	echo "wrote $OUT/$f ($(stat -c %s "$OUT/$f") octets)"
done
