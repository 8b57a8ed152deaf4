#!/usr/bin/env bash
# Trains every recipe that has a target to completion (release build) and checks the target
# against summary.json. Run with `make convergence`; about 20 minutes on 2 cores, so not part of
# `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tessera=.build/release/tessera
status=0

check() {  # recipe metric minimum [train options, e.g. --np 3]; AT_MOST=1 makes the bound a maximum
  local recipe=$1 metric=$2 minimum=$3 relation=">="
  [ "${AT_MOST:-0}" = 1 ] && relation="<="
  shift 3
  local name; name=$(basename "$recipe" .yaml)
  local run=runs/convergence/$name
  rm -rf "$run"
  "$tessera" train "$recipe" --run-dir "$run" --quiet "$@" > "$run.log" 2>&1 || { echo "FAIL $name: training failed (see $run.log)"; status=1; return; }
  local value; value=$(sed -n "s/.*\"$metric\": \(-\{0,1\}[0-9.e+-]*\).*/\1/p" "$run/summary.json")
  if [ -n "$value" ] && awk -v v="$value" -v m="$minimum" -v r="$relation" 'BEGIN { exit !(r == ">=" ? v >= m : v <= m) }'; then
    echo "ok   $name: $metric $value $relation $minimum"
  else
    echo "FAIL $name: $metric '$value' is not $relation $minimum"; status=1
  fi
}

mkdir -p runs/convergence
check configs/mlp-digits.yaml test_accuracy 0.97
check configs/cnn-digits.yaml test_accuracy 0.98
check configs/transformer-reverse.yaml exact_match 0.99
check configs/transformer-sort.yaml exact_match 0.99
check configs/transformer-copy.yaml exact_match 0.99
check configs/gpt-addition.yaml exact_match 0.95
check configs/vit-digits.yaml test_accuracy 0.95
check configs/transformer-classify.yaml test_accuracy 0.95
check configs/transformer-masked-lm.yaml masked_accuracy 0.9   # 0.949 in 10–13 min
check configs/rl-ppo-cartpole.yaml eval_return_mean 475
check configs/rl-dqn-cartpole.yaml eval_return_mean 475
check configs/rl-a2c-cartpole.yaml eval_return_mean 475
check configs/rl-trpo-cartpole.yaml eval_return_mean 475
check configs/rl-qac-cartpole.yaml eval_return_mean 475
check configs/rl-offpac-cartpole.yaml eval_return_mean 475
# Multi-process RL under mpirun: IMPALA with a learner and 2 actor processes (asynchronous, so
# every run differs: 15 of 15 runs of this recipe ended at 495–500, 2–7 s each), DD-PPO on 2
# processes (499.4 in 5 s on a quiet machine, 35 s on a loaded one).
check configs/rl-impala-cartpole.yaml eval_return_mean 475 --np 3
check configs/rl-ddppo-cartpole.yaml eval_return_mean 475 --np 2
check configs/rl-ppo-acrobot.yaml eval_return_mean -100
check configs/rl-ppo-pendulum.yaml eval_return_mean -250
# Graph networks (issue 11).
check configs/graph-karate.yaml test_accuracy 0.9
check configs/graph-citation-gcn.yaml test_accuracy 0.8
check configs/graph-citation-gat.yaml test_accuracy 0.8
check configs/graph-cycles-gin.yaml test_accuracy 0.95
check configs/graph-citation-contraction.yaml test_accuracy 0.7
AT_MOST=1 check configs/graph-citation-mlp.yaml test_accuracy 0.6     # the graph must matter (0.311)
AT_MOST=1 check configs/graph-triangles-gin.yaml test_mae 1.5         # predicting the mean: 2.91
check configs/graph-karate.yaml test_accuracy 0.9 --np 2
check configs/graph-cycles-gin.yaml test_accuracy 0.95 --np 2
# Neural ODEs (issue 12); ode-spirals takes about 80 s, ode-ffjord-moons about 45 s.
check configs/ode-spirals.yaml test_accuracy 0.95
check configs/ode-digits.yaml test_accuracy 0.95
check configs/ode-digits.yaml test_accuracy 0.95 --np 2
AT_MOST=1 check configs/ode-anode-reflection.yaml test_mse 0.01          # plain NODE: 0.236
check configs/ode-anode-circles.yaml test_accuracy 0.95
check configs/ode-ffjord-moons.yaml test_log_likelihood -1.0               # -0.530 measured
# Self-supervised (issue 14): linear probes on 10% of the labels; raw-pixel logistic regression
# with the same labels reaches 0.919, the supervised baseline's encoder 0.944.
check configs/ssl-simclr-digits.yaml probe_accuracy 0.94
check configs/ssl-byol-digits.yaml probe_accuracy 0.945
check configs/ssl-dino-digits.yaml probe_accuracy 0.92
check configs/ssl-supervised-digits.yaml probe_accuracy 0.93
check configs/ssl-clip-shapes.yaml zero_shot_accuracy 0.9   # 0.993 in 35 s

# Generative models (issue 15), on the 16-level digits: bits per dimension on the held-out digits
# (the independent-pixel baseline is 2.274), the VAE's outlier AUROC for the held-out digit 0, the
# cVAE's class-conditional samples by the yardstick (README table: measured 2.239, 2.236, 1.739,
# 0.973, 0.83; Glow takes about 5 minutes).
check configs/generative-yardstick-digits.yaml test_accuracy 0.95
AT_MOST=1 check configs/generative-realnvp-digits.yaml test_bits_per_dim 2.27
AT_MOST=1 check configs/generative-glow-digits.yaml test_bits_per_dim 2.27
AT_MOST=1 check configs/generative-pixelcnn-digits.yaml test_bits_per_dim 1.8
check configs/generative-vae-digits.yaml outlier_auroc 0.9 --set data.outlierClass=0
check configs/generative-cvae-digits.yaml sample_accuracy 0.75
check configs/generative-gschnet-molecules.yaml valid_share 0.3   # 0.44 in 5 min; random bonds 0.075

# Explainability (issue 13): on the trained classifiers, the LRP composite's pixel-flipping AOPC
# must beat the plain gradient's and a random order's (README table).
faithful() {  # run-directory name, held-out examples
  local checkpoint; checkpoint=$(ls runs/convergence/$1/checkpoints/step-*.tsr | tail -1)
  local table; table=$("$tessera" explain "$checkpoint" --faithfulness --examples "$2" --output "runs/convergence/$1-faithfulness.png") \
    || { echo "FAIL $1: tessera explain --faithfulness failed"; status=1; return; }
  local lrp gradient random
  lrp=$(echo "$table" | awk -F'|' '/^\| lrp/ {print $3}')
  gradient=$(echo "$table" | awk -F'|' '/^\| gradient \|/ {print $3}')
  random=$(echo "$table" | awk -F'|' '/^\| random/ {print $3}')
  if awk -v l="$lrp" -v g="$gradient" -v r="$random" 'BEGIN { exit !(l > g && l > r) }'; then
    echo "ok   $1 faithfulness: AOPC lrp $lrp > gradient $gradient, random $random"
  else
    echo "FAIL $1 faithfulness: AOPC lrp '$lrp', gradient '$gradient', random '$random'"; status=1
  fi
}
faithful cnn-digits 360
faithful vit-digits 360
faithful transformer-classify 1000
exit $status
