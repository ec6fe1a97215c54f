// Every differentiable op. Each takes and returns Tensors and records its backward rule.
export { add, sub, mul, div, scale, neg, sum, mean, sumTo } from './arith.js';
export { unaryOp, exp, log, sqrt, rsqrt, square, relu, sigmoid, tanh, silu, gelu, quickGelu } from './unary.js';
export { copy, reshape, permute, transpose, expand, slice, placeSlice, concat, gatherRows, stridedCopy, writeRows } from './layout.js';
export { matmul, linear, linearStack, type MatmulOptions } from './matmul.js';
export { softmax, logSoftmax, rmsNorm, layerNorm, swiglu, swigluStacked } from './nn.js';
export { tokenCrossEntropy, crossEntropy, IGNORE_INDEX } from './loss.js';
export { linearCrossEntropy, logitsChunkRows } from './linear_loss.js';
export { toF32 } from './convert.js';
export { attention, rope, type AttentionOptions } from './attention.js';
export { dropout } from './dropout.js';
