#!/bin/bash
# The grown first layer and the agent ranking, each on and off, on the same 30 exact-answer items: smoa-fused
# on the local stack (embedded model pool), with four fixed roles so that the same agents recur from item to
# item (roles written per question would be new agents every time, and the ranking could learn nothing).
# Each configuration restarts the stack, so the ranking starts empty. About 15 minutes on 2 cores.
#   benchmarks/first_layer_study.sh OUT_DIR; then benchmarks/paired_runs.py OUT_DIR/ranked:smoa-fused OUT_DIR/grown:smoa-fused
out=$(realpath -m "${1:?usage: benchmarks/first_layer_study.sh OUT_DIR}")
mkdir -p "$out"
cd "$(dirname "$0")/.." || exit 1
export SMOA_ROLES='["You are a careful mathematician who checks each step.", "You are a pragmatic engineer who estimates quickly.", "You are a patient teacher who explains simply.", "You are a skeptical reviewer who looks for mistakes."]'
for config in whole grown ranked; do
  case $config in
    whole)  export SMOA_FIRST_LAYER_START=0 SMOA_RANK_AGENTS=false ;;
    grown)  export SMOA_FIRST_LAYER_START=1 SMOA_FIRST_LAYER_STEP=1 SMOA_RANK_AGENTS=false ;;
    ranked) export SMOA_FIRST_LAYER_START=1 SMOA_FIRST_LAYER_STEP=1 SMOA_RANK_AGENTS=true ;;
  esac
  echo "== $config $(date +%T)"
  .venv/bin/python -m smoa_services.stack stop >/dev/null 2>&1
  .venv/bin/python -m smoa_services.stack start || exit 1
  start=$(date +%s)
  .venv/bin/smoa eval --target 127.0.0.1:50051 --dataset benchmarks/data/exact-answers.jsonl --systems smoa-fused \
    -n 4 -k 2 --layers 2 --max-tokens 96 --seed 1 --no-progress --out "$out/$config" > "$out/$config.log" 2>&1
  echo "$config: $(( $(date +%s) - start )) s"
done
.venv/bin/python -m smoa_services.stack stop
echo "== done $(date +%T)"
