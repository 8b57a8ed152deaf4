#!/usr/bin/env bash
# Launch a Tessera recipe across several hosts with Open MPI.
#
#   deploy/launch.sh --hostfile FILE [--np N] [--interface SUBNET] RECIPE [tessera train options...]
#
# Every host needs the same build of Tessera at the same path (a shared file system, or the same
# checkout built on each host) and password-less ssh from the first host. Rank 0 is the
# coordinator; the remaining N-1 processes are workers. Only the coordinator reads the recipe
# and writes the run directory (on its own host).
set -euo pipefail

hostfile="" np="" interface=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hostfile) hostfile=$2; shift 2 ;;
    --np) np=$2; shift 2 ;;
    --interface) interface=$2; shift 2 ;;
    *) break ;;
  esac
done
[ -n "$hostfile" ] && [ $# -ge 1 ] || { echo "usage: $0 --hostfile FILE [--np N] [--interface SUBNET] RECIPE [options]" >&2; exit 2; }
[ -r "$hostfile" ] || { echo "$0: cannot read hostfile $hostfile" >&2; exit 2; }
recipe=$1; shift
[ -r "$recipe" ] || { echo "$0: cannot read recipe $recipe" >&2; exit 2; }
if [ -z "$np" ]; then
  np=$(awk '!/^#/ && NF { n = 1; for (i = 2; i <= NF; i++) if ($i ~ /^slots=/) { split($i, a, "="); n = a[2] } total += n } END { print total }' "$hostfile")
fi
[ "$np" -ge 2 ] || { echo "$0: need at least 2 processes (a coordinator and a worker), got $np" >&2; exit 2; }

bin=$(cd "$(dirname "$0")/.." && pwd)/.build/release
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-run-as-root)
if [ -n "$interface" ]; then
  # Keep MPI's traffic on one network (e.g. 10.0.0.0/24): both the data path and the control path.
  extra+=(--mca btl tcp,self --mca btl_tcp_if_include "$interface" --mca oob_tcp_if_include "$interface")
fi

# Ranks write through mpirun's pseudo-terminals: tell them whether our output is a real terminal,
# so a log file gets plain progress lines.
if [ -t 1 ]; then progress=live; else progress=lines; fi

exec mpirun --hostfile "$hostfile" "${extra[@]}" -x OPENBLAS_NUM_THREADS=1 -x TESSERA_PROGRESS=$progress \
  -np 1 "$bin/tessera-coordinator" "$recipe" "$@" : -np $((np - 1)) "$bin/tessera-worker"
