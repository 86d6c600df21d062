// The render engine's public face: what the CLI and the worker call.
export { renderRecording } from './render.js';
export { launchBrowser, launchOwnBrowser, chromiumPath, CHROMIUM_ARGS } from './browser.js';
export type { RenderOptions, RenderResult, RenderContext, RenderProgress, BudgetReport } from './types.js';
export { DEFAULT_RENDER_OPTIONS } from './types.js';
