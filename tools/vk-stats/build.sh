#!/usr/bin/env bash
# Builds the pipeline-statistics layer (stats_layer.c) into .gpu/vk-stats/, carried to the GPU
# machine with .gpu. Run here, from the project root, after gpu-carry.sh. On the device:
#
#   source .gpu/env.sh; VK_ADD_LAYER_PATH=$PWD/.gpu/vk-stats VK_INSTANCE_LAYERS=VK_LAYER_MEDE2_stats \
#     VK_STATS_DIR=$OUT/stats node dist/node/bench.js matmul --device webgpu
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
dest=.gpu/vk-stats
mkdir -p "$dest"
headers=$(mktemp -d)
trap 'rm -rf "$headers"' EXIT
(cd "$headers" && apt-get download libvulkan-dev 2>&1 | grep -v -e unsandboxed -e '^Get:' || true; dpkg -x libvulkan-dev_*.deb .)
cc -shared -fPIC -O2 -fvisibility=hidden -I"$headers/usr/include" tools/vk-stats/stats_layer.c -o "$dest/libvk_stats.so" -lpthread
cat > "$dest/stats_layer.json" <<'JSON'
{
  "file_format_version": "1.1.2",
  "layer": {
    "name": "VK_LAYER_MEDE2_stats",
    "type": "GLOBAL",
    "library_path": "./libvk_stats.so",
    "api_version": "1.3.239",
    "implementation_version": "1",
    "description": "mede2: compute pipeline statistics and internal representations (tools/vk-stats)"
  }
}
JSON
echo "built $dest"
