#!/usr/bin/env bash
# Runs Tessera's benchmarks side by side with the peer scripts in ../shared/bench, alternating
# Tessera and PyTorch in each round so a noisy machine slows both alike, and prints one JSON
# object per line. BENCHMARKS.md reports the medians over the rounds.
#
#   Tests/benchmarks.sh [ROUNDS] > results.jsonl
#
# Needs a release build (`swift build -c release`) and the peers' Python environment
# (`python3 -m venv /opt/peers && /opt/peers/bin/pip install torch numpy scikit-learn gymnasium jax networkx`).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bench=.build/release/tessera-bench
python=${PEER_PYTHON:-/opt/peers/bin/python}
peers=${PEER_BENCH:-../shared/bench}
one_core="taskset -c 0"
mpirun_flags=(--bind-to none -x OPENBLAS_NUM_THREADS=1)
[ "$(id -u)" = 0 ] && mpirun_flags+=(--allow-run-as-root)
available=$($bench --list | cut -f1)
has() { grep -qx "$1" <<< "$available"; }

for round in $(seq "$rounds"); do
  for phase in fwdbwd step; do
    $one_core $bench mlp-$phase --json
    $one_core "$python" "$peers/mlp.py" --framework torch --threads 1 --phase $phase
    $one_core $bench cnn-$phase --json
    $one_core "$python" "$peers/cnn.py" --framework torch --threads 1 --phase $phase
  done
  if has transformer-step; then
    $one_core $bench transformer-step --json
    $one_core "$python" "$peers/transformer.py" --framework torch --threads 1 --phase step
  fi
  if has cartpole; then
    $one_core $bench cartpole --json
    $one_core "$python" "$peers/cartpole.py"
  fi
  if has gcn; then
    $one_core $bench gcn --json
    for framework in torch jax; do $one_core "$python" "$peers/gcn.py" --framework $framework --threads 1 --phase step; done
    $one_core $bench gcn-large --json
    $one_core "$python" Tests/Benchmarks/gcn_large.py
  fi
  $one_core $bench gemm --json
  $one_core $bench elementwise --json
  $one_core $bench normalization --json
  $one_core $bench checkpoint --json
  for ranks in 1 2; do mpirun "${mpirun_flags[@]}" -np $ranks $bench allreduce --json; done
  has gpt-generate && $one_core $bench gpt-generate --json
done
