#!/usr/bin/env bash
# On the GPU machine: builds the CUDA twin of our attention forward, times its variants and
# profiles two of them with Nsight Compute (issue rate, pipe use, shared-memory wavefronts and
# bank conflicts, where warps stall).
#   bash tools/attention-twin/run.sh [tokens]
set -euo pipefail
here=$(dirname "$0")
bin=$(mktemp -d)/twin
nvcc -O3 -arch=sm_90 -lineinfo "$here/twin.cu" -o "$bin"
"$bin" "${1:-4096}"
cuobjdump -sass "$bin" | awk '/Function :/ { f = $3 } /FFMA|FMUL|FADD|MUFU|LDS|STS|LDG|BAR|MEMBAR/ { split($2, op, "."); n[f " " op[1]]++ } END { for (k in n) print n[k], k }' | sort -k2 | grep attn | grep -v ' @' || true
# The shipped form (dk 32) without and with WGSL's acquire-release fence before each barrier, and
# with the fence at two workgroups per SM.
for v in ILi32ELi0ELi1EE ILi32ELi2ELi1EE ILi32ELi2ELi2EE; do
  ncu --clock-control none --kernel-name-base mangled -k "regex:$v" -c 1 \
    --metrics smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts_mem_shared.avg.pct_of_peak_sustained_elapsed,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,smsp__inst_executed.sum,regex:smsp__average_warps_issue_stalled_.*_per_issue_active.ratio \
    "$bin" "${1:-4096}" 1 2>&1 | grep -v '^==PROF==' | awk '/attn_fwd/ { print; next } $NF + 0 >= 0.05 || /pct|sum/ { print "   ", $1, $NF }'
done
