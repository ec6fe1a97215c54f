// A Vulkan layer that reports what the driver made of each compute pipeline: registers, shared
// memory, spills and the rest of VK_KHR_pipeline_executable_properties' statistics, and the
// driver's internal representations (per pipeline, into VK_STATS_DIR). No profiler reaches
// Vulkan compute on the GPU machine; this is how we see why a WGSL kernel runs as it does.
//
// Build (tools/vk-stats/build.sh does this) and use:
//   cc -shared -fPIC -O2 -I<vulkan headers> stats_layer.c -o libvk_stats.so -lpthread
//   VK_ADD_LAYER_PATH=<dir of stats_layer.json> VK_INSTANCE_LAYERS=VK_LAYER_MEDE2_stats \
//   VK_STATS_DIR=<out> node dist/node/bench.js ...
// Each pipeline gets one line in <out>/stats.tsv: its number, entry point, SPIR-V hash and size,
// the workgroup size from the SPIR-V, then every statistic as name=value; the SPIR-V itself goes
// to <out>/<hash>.spv and the representations to <out>/<n>-<exe>-<name>.txt (NVIDIA 580 offers none).
// VK_STATS_DEBUG=1 lists the device extensions on stderr (is the capture extension offered?).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_TRACKED 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static PFN_vkGetInstanceProcAddr next_gipa;
static VkInstance the_instance;

// One device (Dawn opens one per adapter request; the benchmarks open one).
static VkDevice the_device;
static PFN_vkGetDeviceProcAddr next_gdpa;
static PFN_vkCreateShaderModule next_create_module;
static PFN_vkCreateComputePipelines next_create_compute;
static PFN_vkGetPipelineExecutablePropertiesKHR get_exes;
static PFN_vkGetPipelineExecutableStatisticsKHR get_stats;
static PFN_vkGetPipelineExecutableInternalRepresentationsKHR get_reprs;
static int capture; // the device has pipelineExecutableInfo

static struct { VkShaderModule module; unsigned long long hash; size_t bytes; unsigned local[3]; } modules[MAX_TRACKED];
static int n_modules;
static int n_pipelines;

static const char *out_dir(void) { return getenv("VK_STATS_DIR"); }

static unsigned long long fnv1a(const void *data, size_t n) {
  const unsigned char *p = data;
  unsigned long long h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/** The LocalSize execution mode's x, y, z (OpExecutionMode %entry LocalSize x y z), else zeros. */
static void local_size(const unsigned *words, size_t n, unsigned out[3]) {
  out[0] = out[1] = out[2] = 0;
  for (size_t i = 5; i < n;) {
    unsigned count = words[i] >> 16, op = words[i] & 0xffff;
    if (count == 0) break;
    if (op == 16 /* OpExecutionMode */ && count >= 6 && words[i + 2] == 17 /* LocalSize */) {
      out[0] = words[i + 3], out[1] = words[i + 4], out[2] = words[i + 5];
    }
    i += count;
  }
}

static VKAPI_ATTR VkResult VKAPI_CALL create_module(VkDevice device, const VkShaderModuleCreateInfo *info,
                                                    const VkAllocationCallbacks *alloc, VkShaderModule *module) {
  VkResult r = next_create_module(device, info, alloc, module);
  if (r != VK_SUCCESS) return r;
  unsigned long long h = fnv1a(info->pCode, info->codeSize);
  pthread_mutex_lock(&lock);
  if (n_modules < MAX_TRACKED) {
    modules[n_modules].module = *module;
    modules[n_modules].hash = h;
    modules[n_modules].bytes = info->codeSize;
    local_size(info->pCode, info->codeSize / 4, modules[n_modules].local);
    n_modules++;
  }
  pthread_mutex_unlock(&lock);
  if (out_dir()) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%016llx.spv", out_dir(), h);
    FILE *f = fopen(path, "wb");
    if (f) fwrite(info->pCode, 1, info->codeSize, f), fclose(f);
  }
  return r;
}

static void print_stat(FILE *f, const VkPipelineExecutableStatisticKHR *s) {
  fprintf(f, "\t%s=", s->name);
  switch (s->format) {
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: fprintf(f, "%s", s->value.b32 ? "true" : "false"); break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: fprintf(f, "%lld", (long long)s->value.i64); break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: fprintf(f, "%llu", (unsigned long long)s->value.u64); break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR: fprintf(f, "%g", s->value.f64); break;
    default: fprintf(f, "?");
  }
}

/** Writes one line of stats.tsv and the representation files for pipeline number `n`. */
static void report(VkDevice device, VkPipeline pipeline, const VkComputePipelineCreateInfo *info, int n) {
  if (!out_dir()) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/stats.tsv", out_dir());
  FILE *f = fopen(path, "a");
  if (!f) return;
  unsigned long long hash = 0;
  size_t bytes = 0;
  unsigned local[3] = {0, 0, 0};
  for (int i = 0; i < n_modules; i++) {
    if (modules[i].module == info->stage.module) {
      hash = modules[i].hash, bytes = modules[i].bytes;
      memcpy(local, modules[i].local, sizeof local);
    }
  }
  fprintf(f, "%d\t%s\t%016llx\t%zu\t%ux%ux%u", n, info->stage.pName, hash, bytes, local[0], local[1], local[2]);
  VkPipelineInfoKHR pinfo = {VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR, NULL, pipeline};
  uint32_t n_exe = 0;
  get_exes(device, &pinfo, &n_exe, NULL);
  VkPipelineExecutablePropertiesKHR props[8];
  if (n_exe > 8) n_exe = 8;
  for (uint32_t e = 0; e < n_exe; e++) props[e] = (VkPipelineExecutablePropertiesKHR){VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR};
  get_exes(device, &pinfo, &n_exe, props);
  for (uint32_t e = 0; e < n_exe; e++) {
    fprintf(f, "\t[%s subgroup=%u]", props[e].name, props[e].subgroupSize);
    VkPipelineExecutableInfoKHR einfo = {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR, NULL, pipeline, e};
    uint32_t n_stat = 0;
    get_stats(device, &einfo, &n_stat, NULL);
    VkPipelineExecutableStatisticKHR *stats = calloc(n_stat ? n_stat : 1, sizeof *stats);
    for (uint32_t s = 0; s < n_stat; s++) stats[s].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
    get_stats(device, &einfo, &n_stat, stats);
    for (uint32_t s = 0; s < n_stat; s++) print_stat(f, &stats[s]);
    free(stats);

    uint32_t n_repr = 0;
    get_reprs(device, &einfo, &n_repr, NULL);
    VkPipelineExecutableInternalRepresentationKHR *reprs = calloc(n_repr ? n_repr : 1, sizeof *reprs);
    for (uint32_t r = 0; r < n_repr; r++) reprs[r].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INTERNAL_REPRESENTATION_KHR;
    get_reprs(device, &einfo, &n_repr, reprs);
    for (uint32_t r = 0; r < n_repr; r++) reprs[r].pData = calloc(1, reprs[r].dataSize + 1);
    get_reprs(device, &einfo, &n_repr, reprs);
    for (uint32_t r = 0; r < n_repr; r++) {
      char name[4096];
      snprintf(name, sizeof name, "%s/%d-%u-%u.txt", out_dir(), n, e, r);
      FILE *g = fopen(name, "wb");
      if (g) {
        fprintf(g, "# %s: %s\n", reprs[r].name, reprs[r].description);
        fwrite(reprs[r].pData, 1, reprs[r].dataSize, g);
        fclose(g);
      }
      free(reprs[r].pData);
    }
    free(reprs);
  }
  fprintf(f, "\n");
  fclose(f);
}

static VKAPI_ATTR VkResult VKAPI_CALL create_compute(VkDevice device, VkPipelineCache cache, uint32_t count,
                                                     const VkComputePipelineCreateInfo *infos,
                                                     const VkAllocationCallbacks *alloc, VkPipeline *pipelines) {
  if (!capture) return next_create_compute(device, cache, count, infos, alloc, pipelines);
  VkComputePipelineCreateInfo *mine = malloc(count * sizeof *mine);
  memcpy(mine, infos, count * sizeof *mine);
  for (uint32_t i = 0; i < count; i++) {
    mine[i].flags |= VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR | VK_PIPELINE_CREATE_CAPTURE_INTERNAL_REPRESENTATIONS_BIT_KHR;
  }
  VkResult r = next_create_compute(device, cache, count, mine, alloc, pipelines);
  if (r == VK_SUCCESS) {
    pthread_mutex_lock(&lock);
    for (uint32_t i = 0; i < count; i++) report(device, pipelines[i], &infos[i], n_pipelines++);
    pthread_mutex_unlock(&lock);
  }
  free(mine);
  return r;
}

static VKAPI_ATTR VkResult VKAPI_CALL create_instance(const VkInstanceCreateInfo *info, const VkAllocationCallbacks *alloc,
                                                      VkInstance *instance) {
  VkLayerInstanceCreateInfo *chain = (VkLayerInstanceCreateInfo *)info->pNext;
  while (chain && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO)) {
    chain = (VkLayerInstanceCreateInfo *)chain->pNext;
  }
  if (!chain) return VK_ERROR_INITIALIZATION_FAILED;
  next_gipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  chain->u.pLayerInfo = chain->u.pLayerInfo->pNext;
  PFN_vkCreateInstance next = (PFN_vkCreateInstance)next_gipa(VK_NULL_HANDLE, "vkCreateInstance");
  VkResult r = next(info, alloc, instance);
  if (r == VK_SUCCESS) the_instance = *instance;
  return r;
}

/** Whether the physical device offers VK_KHR_pipeline_executable_properties. */
static int offers_capture(VkPhysicalDevice physical) {
  PFN_vkEnumerateDeviceExtensionProperties list =
      (PFN_vkEnumerateDeviceExtensionProperties)next_gipa(the_instance, "vkEnumerateDeviceExtensionProperties");
  uint32_t n = 0;
  list(physical, NULL, &n, NULL);
  VkExtensionProperties *exts = calloc(n ? n : 1, sizeof *exts);
  list(physical, NULL, &n, exts);
  int found = 0;
  for (uint32_t i = 0; i < n; i++) found |= !strcmp(exts[i].extensionName, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
  if (getenv("VK_STATS_DEBUG")) for (uint32_t i = 0; i < n; i++) fprintf(stderr, "vk-stats: %s\n", exts[i].extensionName);
  free(exts);
  return found;
}

static VKAPI_ATTR VkResult VKAPI_CALL create_device(VkPhysicalDevice physical, const VkDeviceCreateInfo *info,
                                                    const VkAllocationCallbacks *alloc, VkDevice *device) {
  VkLayerDeviceCreateInfo *chain = (VkLayerDeviceCreateInfo *)info->pNext;
  while (chain && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO)) {
    chain = (VkLayerDeviceCreateInfo *)chain->pNext;
  }
  if (!chain) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr gdpa = chain->u.pLayerInfo->pfnNextGetDeviceProcAddr;
  chain->u.pLayerInfo = chain->u.pLayerInfo->pNext;
  PFN_vkCreateDevice next = (PFN_vkCreateDevice)gipa(the_instance, "vkCreateDevice");

  // Ask for the extension and its feature on top of what the application asked for.
  VkDeviceCreateInfo mine = *info;
  const char **names = malloc((info->enabledExtensionCount + 1) * sizeof *names);
  memcpy(names, info->ppEnabledExtensionNames, info->enabledExtensionCount * sizeof *names);
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR feature = {
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR, (void *)info->pNext, VK_TRUE};
  int wants = offers_capture(physical);
  if (wants) {
    names[mine.enabledExtensionCount++] = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
    mine.ppEnabledExtensionNames = names;
    mine.pNext = &feature;
  }
  VkResult r = next(physical, &mine, alloc, device);
  free(names);
  if (r != VK_SUCCESS) return r;
  the_device = *device;
  next_gdpa = gdpa;
  next_create_module = (PFN_vkCreateShaderModule)gdpa(*device, "vkCreateShaderModule");
  next_create_compute = (PFN_vkCreateComputePipelines)gdpa(*device, "vkCreateComputePipelines");
  get_exes = (PFN_vkGetPipelineExecutablePropertiesKHR)gdpa(*device, "vkGetPipelineExecutablePropertiesKHR");
  get_stats = (PFN_vkGetPipelineExecutableStatisticsKHR)gdpa(*device, "vkGetPipelineExecutableStatisticsKHR");
  get_reprs = (PFN_vkGetPipelineExecutableInternalRepresentationsKHR)gdpa(*device, "vkGetPipelineExecutableInternalRepresentationsKHR");
  capture = wants && get_exes && get_stats && get_reprs;
  fprintf(stderr, "vk-stats: pipeline statistics %s\n", capture ? "on" : "not offered by this device");
  return r;
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char *name) {
  if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)vkGetDeviceProcAddr;
  if (!strcmp(name, "vkCreateShaderModule")) return (PFN_vkVoidFunction)create_module;
  if (!strcmp(name, "vkCreateComputePipelines")) return (PFN_vkVoidFunction)create_compute;
  return next_gdpa(device, name);
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char *name) {
  if (!strcmp(name, "vkGetInstanceProcAddr")) return (PFN_vkVoidFunction)vkGetInstanceProcAddr;
  if (!strcmp(name, "vkCreateInstance")) return (PFN_vkVoidFunction)create_instance;
  if (!strcmp(name, "vkCreateDevice")) return (PFN_vkVoidFunction)create_device;
  if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)vkGetDeviceProcAddr;
  if (!strcmp(name, "vkCreateShaderModule")) return (PFN_vkVoidFunction)create_module;
  if (!strcmp(name, "vkCreateComputePipelines")) return (PFN_vkVoidFunction)create_compute;
  return next_gipa(instance, name);
}
