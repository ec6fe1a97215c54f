#!/usr/bin/env bash
# On the GPU machine: builds the CUDA twin of our tiled matmul, times it beside cuBLAS, and
# profiles two of its variants with Nsight Compute (issue rate, stall reasons).
#   bash tools/sgemm-twin/run.sh [n]
set -euo pipefail
here=$(dirname "$0")
bin=$(mktemp -d)/twin
nvcc -O3 -arch=sm_90 -lineinfo "$here/twin.cu" -lcublas -o "$bin"
"$bin" "${1:-4096}"
cuobjdump -sass "$bin" | awk '/Function :/ { f = $3 } /FFMA|LDS|STS|LDG|BAR/ { split($2, op, "."); n[f " " $2]++ } END { for (k in n) print n[k], k }' | sort -k2 | grep -v '^[0-9] ' || true
# Issue rate and where warps stall (cycles per issued instruction, by reason): the mirror, then
# the mirror with an acquire-release fence before each barrier (tiled<8, 0, 2>).
for v in ILi8ELi0ELi0E ILi8ELi0ELi2E; do
  ncu --clock-control none --kernel-name-base mangled -k "regex:$v" -c 1 \
    --metrics smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum,regex:smsp__average_warps_issue_stalled_.*_per_issue_active.ratio \
    "$bin" "${1:-4096}" 1 2>&1 | grep -v '^==PROF==' | awk '/tiled/ { print; next } $NF + 0 >= 0.05 || /issue_active|inst_executed/ { print "   ", $1, $NF }'
done
