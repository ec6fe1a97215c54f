// Training support around the model: data, packing, lr schedules, checkpoints, metrics, options.
export * from './data/index.js';
export { Packer, PackIterator, type PackableSample, type PackedRow, type PackOptions, type PackPosition } from './packing.js';
export { LrSchedule, constantWithWarmup, cosineWithWarmup, warmupStepsFor, type ScheduleConfig, type ScheduleKind } from './schedule.js';
export {
  CheckpointError,
  STATE_FILE,
  checkpointName,
  decodeTrainingState,
  encodeTrainingState,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  readTrainingState,
  rotateCheckpoints,
  saveCheckpoint,
  writeTrainingState,
  type CheckpointInfo,
  type TrainingState,
} from './checkpoint.js';
export { MetricsLog, lossCurveSvg, writeLossCurve, type MetricRecord } from './metrics.js';
export { OptionsError, SFT_DEFAULTS, parseSftArgs, sftOptionsFrom, sftOptionsUsage, type SftOptions } from './options.js';
