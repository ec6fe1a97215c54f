#!/usr/bin/env bash
# On the GPU machine: builds the CUDA twin of our tiled matmul, times it beside cuBLAS, profiles
# four of its variants with Nsight Compute (issue rate, stall reasons), and names the kernels
# cuBLAS runs for the model's products with their geometry.
#   bash tools/sgemm-twin/run.sh [n]
set -euo pipefail
here=$(dirname "$0")
bin=$(mktemp -d)/twin
nvcc -O3 -arch=sm_90 -lineinfo "$here/twin.cu" -lcublas -o "$bin"
"$bin" "${1:-4096}"
cuobjdump -sass "$bin" | awk '/Function :/ { f = $3 } /FFMA|LDS|STS|LDG|BAR/ { split($2, op, "."); n[f " " $2]++ } END { for (k in n) print n[k], k }' | sort -k2 | grep -v '^[0-9] ' || true
# Issue rate and where warps stall (cycles per issued instruction, by reason), every variant with the
# acquire-release fence WGSL's barrier carries: the mirror (tiled<8, 0, 2>), the ring with our 8×8
# outputs a thread, and the ring with cuBLAS's 256×128 tile (8×16 and 16×8 a thread).
for v in tiledILi8ELi0ELi2E ringILi8ELi8ELi16ELi16ELi2ELi1E ringILi8ELi16ELi8ELi32ELi2ELi1E ringILi16ELi8ELi16ELi16ELi2ELi1E; do
  ncu --clock-control none --kernel-name-base mangled -k "regex:$v" -c 1 \
    --metrics smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum,regex:smsp__average_warps_issue_stalled_.*_per_issue_active.ratio \
    "$bin" "${1:-4096}" 1 2>&1 | grep -v '^==PROF==' | awk '/tiled|ring/ { print; next } $NF + 0 >= 0.05 || /issue_active|inst_executed/ { print "   ", $1, $NF }'
done
# The kernels cuBLAS picks for the model's products (`twin shapes`: 4 launches a shape), with their
# launch geometry, registers, workgroup memory and issue rate.
ncu --clock-control none -k 'regex:gemm|Kernel|splitK|reduce' -c 28 \
  --metrics launch__block_size,launch__grid_size,launch__registers_per_thread,launch__shared_mem_per_block_static,launch__shared_mem_per_block_dynamic,sm__warps_active.avg.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active,gpu__time_duration.sum \
  "$bin" shapes 1 2>&1 | grep -v '^==PROF==' | awk '/^  [a-zA-Z_]/ && !/Section|----/ { name = $0; next } /launch__|sm__|smsp__|gpu__/ { printf "%s %s %s\n", substr(name, 3, 150), $1, $NF }' | uniq
