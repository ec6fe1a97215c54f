#!/usr/bin/env bash
# Every GPU benchmark in one device call, ours (Dawn) and PyTorch's side by side in the same run,
# results under $OUT/results/ (copy the ones worth keeping to bench/results/):
#
#   source .gpu/env.sh; bash tools/gpu_bench.sh [sft] [attention] [matmul] [generate] [profile]   # default: all five
#
# profile (GPU time per kernel of one training step and of attention at 4k) has no PyTorch twin and
# runs with Dawn's timestamp quantization off.
#
# sft runs ours and PyTorch's step SFT_RUNS times (default 5), each in a fresh process, taking
# turns: the host-bound tiny step varies by up to 2× between processes on either side, so one pair
# proves little. tools/sft_runs.py pairs them up in $OUT/results/sft-runs.json (the runs' own files
# stay in a temporary folder: the device tool brings back only so many files).
#
# Run from the project root after `npm install` and `bash ../shared/tools/gpu-carry.sh`, carrying
# .gpu and dist. Set MEDE2_DAWN_FLAGS to pass Dawn toggles (e.g. disable_robustness) to our side.
set -euo pipefail
out=${OUT:?run on the device machine, where OUT is set}
results="$out/results"
mkdir -p "$results"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(sft attention matmul generate profile)

newest() { ls -t "$results"/"$1"-*.json 2>/dev/null | grep -v -- '-torch' | head -1; }

for suite in "${suites[@]}"; do
  if [ "$suite" = sft ]; then
    runs_dir=$(mktemp -d)
    for run in $(seq 1 "${SFT_RUNS:-5}"); do
      echo "== sft run $run (ours, then torch)"
      node dist/node/bench.js sft --device webgpu --out "$runs_dir/sft-run$run"
      python3 tools/bench_sft_torch.py | tee "$runs_dir/sft-run$run/torch.jsonl"
    done
    python3 tools/sft_runs.py "$runs_dir" > "$results/sft-runs.json"
    cat "$results/sft-runs.json"
    continue
  fi
  echo "== $suite (ours)"
  if [ "$suite" = profile ]; then
    MEDE2_DAWN_FLAGS="${MEDE2_DAWN_FLAGS:-} disable-dawn-features=timestamp_quantization" node dist/node/bench.js profile --device webgpu --out "$results"
    continue
  fi
  node dist/node/bench.js "$suite" --device webgpu --out "$results"
  ours=$(newest "$suite")
  echo "== $suite (torch)"
  case "$suite" in
    attention | matmul | generate) python3 "tools/bench_${suite}_torch.py" "$ours" "${ours%.json}-torch.json" ;;
    *) echo "gpu_bench: unknown suite '$suite' (sft, attention, matmul, generate, profile)" >&2; exit 2 ;;
  esac
done
ls -l "$results"
