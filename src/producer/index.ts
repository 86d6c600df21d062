/**
 * `replay-rasterizer/producer`: what a Node service imports to ask for GIF previews.
 *
 *   const producer = createProducer();            // config from the environment
 *   const { assetId } = await producer.enqueueMomentPreview({ teamId, sessionId, startS, endS });
 *   const urls = await producer.resolvePreviewUrls([assetId], { teamId });
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
export { widenWindow, type WindowRequest } from '../request/window.js';
export { LIMITS, DEFAULTS } from '../request/fields.js';
export { classifySegment, parseSegmentTime, PROBLEM_TYPES, type ProblemType, type Segment } from '../request/problems.js';
export { loadConfig, isConfigError, type Config } from '../config/config.js';
export { QUEUE_NAME, JOB_NAME, jobIdForAsset, jobDataSchema, type JobData, type JobResult, type JobProgress } from '../queue/job.js';
export { PreviewSigner, type PreviewClaims } from '../signing/public-url.js';
export { RasterizerError, InputError, isInputError, isRasterizerError, ERROR_CATALOGUE, type ErrorCode } from '../errors.js';
export type { Asset, AssetStatus, ExportContext } from '../db/assets.js';
