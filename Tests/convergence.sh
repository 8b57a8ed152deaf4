#!/usr/bin/env bash
# Trains every recipe that has an accuracy target to completion (release build) and checks the
# target against summary.json. Run with `make convergence`; minutes, so not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tessera=.build/release/tessera
status=0

check() {  # recipe metric minimum
  local recipe=$1 metric=$2 minimum=$3
  local name; name=$(basename "$recipe" .yaml)
  local run=runs/convergence/$name
  rm -rf "$run"
  "$tessera" train "$recipe" --run-dir "$run" --quiet > "$run.log" 2>&1 || { echo "FAIL $name: training failed (see $run.log)"; status=1; return; }
  local value; value=$(sed -n "s/.*\"$metric\": \([0-9.e-]*\).*/\1/p" "$run/summary.json")
  if awk -v v="$value" -v m="$minimum" 'BEGIN { exit !(v >= m) }'; then
    echo "ok   $name: $metric $value >= $minimum"
  else
    echo "FAIL $name: $metric $value < $minimum"; status=1
  fi
}

mkdir -p runs/convergence
check configs/mlp-digits.yaml test_accuracy 0.97
check configs/cnn-digits.yaml test_accuracy 0.98
exit $status
