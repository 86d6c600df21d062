/**
 * `replay-rasterizer`: the render engine as a library (the producer is `replay-rasterizer/producer`).
 */
export { renderRecording, launchBrowser, DEFAULT_RENDER_OPTIONS } from './render/index.js';
export type { RenderOptions, RenderResult, RenderContext, RenderProgress } from './render/index.js';
export { parseRecording, readRecordingFile, type ParsedRecording, type RecordingFormat } from './recording/parse.js';
export { InputError, isInputError } from './recording/errors.js';
export { PolicyRefusal } from './render/network-policy.js';
