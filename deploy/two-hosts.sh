#!/usr/bin/env bash
# Runs a command under mpirun across two simulated hosts on this machine: two network namespaces
# joined by a veth pair (10.77.0.1 "host-a" and 10.77.0.2 "host-b", each with its own hostname),
# Open MPI's TCP transport only, so nothing can rely on shared memory or a single hostname.
# Needs root and iproute2; removes the namespaces when done.
#
#   deploy/two-hosts.sh [mpirun arguments...]
#   deploy/two-hosts.sh -np 1 .build/release/tessera-coordinator configs/mlp-digits.yaml : -np 1 .build/release/tessera-worker
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "$0: needs root (ip netns)" >&2; exit 2; }
command -v ip >/dev/null || { echo "$0: needs iproute2 (ip)" >&2; exit 2; }

suffix=$$
a=tsr-a-$suffix b=tsr-b-$suffix
subnet=10.77.0.0/24
work=$(mktemp -d)
cleanup() {
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$a"
ip netns add "$b"
ip link add "va$suffix" type veth peer name "vb$suffix"
ip link set "va$suffix" netns "$a"
ip link set "vb$suffix" netns "$b"
ip -n "$a" addr add 10.77.0.1/24 dev "va$suffix"
ip -n "$b" addr add 10.77.0.2/24 dev "vb$suffix"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "va$suffix" up
ip -n "$b" link set "vb$suffix" up

# Open MPI starts its daemon on the other host through this "remote shell": it enters that
# host's namespace with its own hostname.
cat > "$work/agent" <<AGENT
#!/bin/sh
host=\$1; shift
case "\$host" in
  10.77.0.1) ns=$a; name=host-a ;;
  10.77.0.2) ns=$b; name=host-b ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$name; \$*"
AGENT
chmod +x "$work/agent"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$work/hostfile"

ip netns exec "$a" unshare --uts sh -c 'hostname host-a; exec "$@"' sh \
  mpirun --allow-run-as-root --hostfile "$work/hostfile" --mca plm_rsh_agent "$work/agent" \
    --mca btl tcp,self --mca btl_tcp_if_include "$subnet" --mca oob_tcp_if_include "$subnet" \
    --mca btl_tcp_disable_family 6 -x OPENBLAS_NUM_THREADS=1 -x PATH "$@"
