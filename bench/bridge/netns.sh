#!/usr/bin/env bash
# The bridge bench across two "hosts": two network namespaces joined by a veth pair whose two ends
# each delay and pace what they send with tc netem (NETEM_DELAY one way, default 200us, so a round
# trip pays twice that; NETEM_RATE, default 10gbit). Both namespaces still share this machine's
# cores, so CPU-bound figures are no better than on loopback; the goals of the bench are for
# loopback, this run shows what a real link's latency and bandwidth do to each contender.
#
# Needs root, iproute2 (`ip netns`, `tc`) and a kernel with the netem qdisc (sch_netem). Without
# netem the script says so and stops, unless NETEM_OPTIONAL=1: then the link is paced by tbf at
# NETEM_RATE with no added delay, and the first line printed says so. Makes the namespaces itself and deletes them on any
# exit (a trap), so nothing is left behind when the bench fails or is interrupted.
#
# Run from the repository root after `pnpm run build`:
#   bench/bridge/netns.sh                      # every bench variable (BRIDGE_BENCH_*) passes through
#   NETEM_DELAY=1ms NETEM_RATE=1gbit bench/bridge/netns.sh
set -euo pipefail

DELAY="${NETEM_DELAY:-200us}"
RATE="${NETEM_RATE:-10gbit}"
TAG="$$"
NS_A="lbbA$TAG"
NS_B="lbbB$TAG"
VETH_A="lbva$TAG"
VETH_B="lbvb$TAG"
ADDR_A=10.201.0.1
ADDR_B=10.201.0.2

cleanup() {
  # Deleting a namespace deletes the veth end inside it, and with it the pair.
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if ! ip netns add "$NS_A"; then
  echo "bridge netns bench: cannot create a network namespace here (needs root and iproute2)" >&2
  exit 1
fi
ip netns add "$NS_B"
ip link add "${VETH_A:0:15}" type veth peer name "${VETH_B:0:15}"
ip link set "${VETH_A:0:15}" netns "$NS_A"
ip link set "${VETH_B:0:15}" netns "$NS_B"
ip -n "$NS_A" addr add "$ADDR_A/24" dev "${VETH_A:0:15}"
ip -n "$NS_B" addr add "$ADDR_B/24" dev "${VETH_B:0:15}"
LINK="netem delay $DELAY each way, rate $RATE"
for pair in "$NS_A ${VETH_A:0:15}" "$NS_B ${VETH_B:0:15}"; do
  set -- $pair
  ip -n "$1" link set lo up
  ip -n "$1" link set "$2" up
  # limit: enough packets for the bandwidth-delay product of a 32-message window of 1 MiB.
  if ! err=$(ip netns exec "$1" tc qdisc add dev "$2" root netem delay "$DELAY" rate "$RATE" limit 100000 2>&1); then
    if [ "${NETEM_OPTIONAL:-0}" != 1 ]; then
      echo "bridge netns bench: tc netem is not available here ($err); NETEM_OPTIONAL=1 runs with the rate only (tbf), no delay" >&2
      exit 1
    fi
    ip netns exec "$1" tc qdisc add dev "$2" root tbf rate "$RATE" burst 4mb latency 50ms
    LINK="NO added delay (tc netem unavailable: $err), rate $RATE by tbf"
  fi
done
echo "bridge netns bench: $NS_A ($ADDR_A) <-> $NS_B ($ADDR_B) over a veth pair, $LINK"
ping_ms=$(ip netns exec "$NS_A" ping -c 3 -i 0.2 -q "$ADDR_B" 2>/dev/null | sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p' || true)
[ -n "$ping_ms" ] && echo "bridge netns bench: ping round trip ${ping_ms} ms"

BRIDGE_BENCH_NETNS="$NS_A:$ADDR_A,$NS_B:$ADDR_B" npx tsx "$(dirname "$0")/../bridge.bench.ts"
