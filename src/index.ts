/**
 * `replay-rasterizer`: the render engine as a library (the producer is `replay-rasterizer/producer`).
 */
export { renderRecording, launchBrowser, DEFAULT_RENDER_OPTIONS } from './render/index.js';
// A long-lived process that renders many moments: the encode's second thread (src/render/gif/part.ts).
export { partWorkerReady, closePartWorker } from './render/gif.js';
export { LIMITS, DEFAULTS } from './request/fields.js';
export type { RenderOptions, RenderResult, RenderContext, RenderProgress, BudgetReport } from './render/index.js';
export { parseRecording, readRecordingFile, type ParsedRecording, type RecordingFormat } from './recording/parse.js';
export { RasterizerError, InputError, isInputError, isRasterizerError, ERROR_CATALOGUE, type ErrorCode } from './errors.js';
