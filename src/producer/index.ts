/**
 * `replay-rasterizer/producer`: what a Node service imports to ask for GIF previews.
 *
 *   const producer = createProducer();            // config from the environment
 *   const { assetId } = await producer.enqueueMomentPreview({ teamId, sessionId, startS, endS });
 *   const urls = await producer.resolvePreviewUrls([assetId]);
 */
export {
  Producer,
  createProducer,
  type ProducerOptions,
  type MomentPreviewRequest,
  type EnqueuedPreview,
  type SessionProblemsRequest,
  type SegmentPreview,
  type FailureCleanup,
} from './producer.js';
export { widenWindow, WindowError, DEFAULT_MIN_DURATION_S, type WindowRequest } from './window.js';
export { classifySegment, parseSegmentTime, PROBLEM_TYPES, type ProblemType, type Segment } from './problems.js';
export { loadConfig, ConfigError, type Config } from '../config/config.js';
export { QUEUE_NAME, jobIdForAsset, jobDataSchema, type JobData, type JobResult, type JobProgress } from '../queue/job.js';
export { PreviewSigner, PreviewTokenError, type PreviewClaims } from '../signing/public-url.js';
export { InputError, isInputError } from '../recording/errors.js';
export type { Asset, AssetStatus, ExportContext } from '../db/assets.js';
