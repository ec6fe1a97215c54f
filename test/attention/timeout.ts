// The first use of each attention tile configuration compiles its pipelines; lavapipe's LLVM takes
// tens of seconds for one, and minutes on a loaded two-core machine. Suites on the backends get this.
export const COMPILE_TIMEOUT = { timeout: 600_000 };
