// One request model: every input's schema, limits, defaults and names (see fields.ts).
export { LIMITS, DEFAULTS, SESSION_ID_PATTERN, WIRE_NAMES, CLI_FLAGS, field, wireName, flagName, insideName, fromWire, toWire, fromText } from './fields.js';
export { parseRequest, issueFields } from './parse.js';
export {
  renderOptions,
  renderRequest,
  parseRenderRequest,
  optionalRenderOptionsShape,
  wireServiceRenderOptions,
  type RenderRequest,
  type RenderRequestInput,
  type ClipRenderOptions,
  type ServiceRenderOptions,
} from './render.js';
export { momentRequest, wireMomentRequest, problemsRequest, wireProblemsBody, assetIdParam, wireTeamQuery, wirePreviewUrlsBody, type MomentRequest, type ProblemsRequest } from './moment.js';
export { widenWindow, type WindowRequest } from './window.js';
export { PROBLEM_TYPES, classifySegment, parseSegmentTime, segmentSchema, type ProblemType, type Segment } from './problems.js';
