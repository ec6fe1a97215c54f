#!/usr/bin/env bash
# On the GPU machine: builds the CUDA twin of our tiled matmul, times it beside cuBLAS, and
# profiles its first variant with Nsight Compute (stall reasons, issue rate, occupancy).
#   bash tools/sgemm-twin/run.sh [n]
set -euo pipefail
here=$(dirname "$0")
bin=$(mktemp -d)/twin
nvcc -O3 -arch=sm_90 -lineinfo "$here/twin.cu" -lcublas -o "$bin"
"$bin" "${1:-4096}"
cuobjdump -sass "$bin" | awk '/Function :/ { f = $3 } /FFMA|LDS|STS|LDG|BAR/ { split($2, op, "."); n[f " " $2]++ } END { for (k in n) print n[k], k }' | sort -k2 | grep -v '^[0-9] ' || true
ncu --clock-control none -k regex:tiled -c 1 --section SpeedOfLight --section Occupancy --section SchedulerStats --section WarpStateStats --section LaunchStats "$bin" "${1:-4096}" 1 2>&1 | grep -v '^==PROF==' | sed -n '/tiled/,$p' | head -120
