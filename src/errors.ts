/**
 * The project's one error type. Every failure a user, a caller or an operator can see has a stable
 * `code` from this catalogue and says whether trying again can help (`retryable`). The edges map a
 * code once each: HTTP status (src/http/errors.ts), BullMQ outcome (src/queue/retry.ts), CLI exit
 * code (src/cli/exit-codes.ts); the code itself is the metric label (`rasterizer_errors_total{code}`).
 */
export const ERROR_CATALOGUE = {
  // What the caller sent.
  invalid_request: { retryable: false, summary: 'a field of the request is missing or wrong' },
  invalid_json: { retryable: false, summary: 'the body is not valid JSON' },
  invalid_body: { retryable: false, summary: 'the body could not be read (a compressed body that does not inflate)' },
  too_large: { retryable: false, summary: 'the body is over the size limit' },
  unsupported_media_type: { retryable: false, summary: 'the body is not UTF-8 JSON' },
  unauthorized: { retryable: false, summary: 'no valid bearer token' },
  invalid_token: { retryable: false, summary: 'the preview link is not valid' },
  token_expired: { retryable: false, summary: 'the preview link has expired: ask for a fresh URL' },
  forbidden: { retryable: false, summary: 'the token does not grant access to this asset' },
  not_found: { retryable: false, summary: 'no such asset or route (or it belongs to another team)' },
  not_ready: { retryable: false, summary: 'the preview is not rendered (yet), failed or expired' },
  invalid_config: { retryable: false, summary: 'the environment cannot run the service' },
  // What the recording or the render made of it.
  recording_not_found: { retryable: false, summary: 'the recording source has no such session' },
  invalid_recording: { retryable: false, summary: 'the recording cannot be read, replayed or rendered in this window' },
  network_policy: { retryable: false, summary: 'the network policy refused an origin or an address' },
  over_budget: { retryable: false, summary: 'the GIF cannot fit its byte budget' },
  // Ours or a dependency's: trying again can help.
  queue_unavailable: { retryable: true, summary: 'the queue (Redis) does not answer' },
  page_unresponsive: { retryable: true, summary: 'the browser stopped answering a call to the replay page' },
  browser_crashed: { retryable: true, summary: 'the browser died during the render' },
  timeout: { retryable: true, summary: 'something did not finish in time' },
  internal: { retryable: true, summary: 'something went wrong on our side' },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** Names a field for one audience: wire names for HTTP and jobs, flags for the CLI, camelCase inside. */
export type FieldNamer = (insideName: string) => string;
const insideNames: FieldNamer = (name) => name;

export interface ErrorOptions {
  /** Field path (inside, camelCase names joined by '.') → what is wrong with it, without its name. */
  fields?: Record<string, string>;
  cause?: unknown;
}

export class RasterizerError extends Error {
  override readonly name: string = 'RasterizerError';
  readonly retryable: boolean;
  readonly fields: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    options: ErrorOptions = {},
  ) {
    super(message ?? describeFields(options.fields ?? {}, insideNames) ?? ERROR_CATALOGUE[code].summary, { cause: options.cause });
    this.retryable = ERROR_CATALOGUE[code].retryable;
    this.fields = options.fields;
  }

  /** The message with each field named for an audience (`--fps must be at least 1`, `fps must be ...`). */
  describe(namer: FieldNamer): string {
    return (this.fields && describeFields(this.fields, namer)) ?? nameFields(this.message, namer);
  }
}

/**
 * An error in what the user gave us (a file, offsets, options): not retryable, one line a user can
 * act on. The engine throws it for recordings it cannot use; `code` says which kind.
 */
export class InputError extends RasterizerError {
  override readonly name: string = 'InputError';
  constructor(message: string, code: ErrorCode = 'invalid_recording', options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

export function isRasterizerError(err: unknown, code?: ErrorCode): err is RasterizerError {
  return err instanceof RasterizerError && (code === undefined || err.code === code);
}

/** Anything the caller cannot fix by trying again. */
export function isInputError(err: unknown): err is RasterizerError {
  return err instanceof RasterizerError && !err.retryable;
}

/** The project's error for anything thrown: ours as is, anything else `internal` (retryable). */
export function toRasterizerError(err: unknown): RasterizerError {
  if (err instanceof RasterizerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RasterizerError('internal', message || 'unknown error', { cause: err });
}

/**
 * `{startS}`-style placeholders in a message stand for other fields; each edge names them its way
 * ("must be after {startS}" → "must be after start_offset_s" / "must be after --start").
 */
function nameFields(message: string, namer: FieldNamer): string {
  return message.replace(/\{([A-Za-z][A-Za-z0-9.]*)\}/g, (_m, name: string) => namer(name));
}

/** `name must ...`, or `name: ...` when the message does not read on from the name; fields joined by '; '. */
export function describeFields(fields: Record<string, string>, namer: FieldNamer): string | undefined {
  const parts = Object.entries(fields).map(([path, what]) => {
    const name = path.split('.').map(namer).join('.');
    const text = nameFields(what, namer);
    return /^(must|is|are|may|has|\()/.test(text) ? `${name} ${text}` : `${name}: ${text}`;
  });
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** The field-level messages of an error as one audience reads them (HTTP `fields`). */
export function namedFields(err: RasterizerError, namer: FieldNamer): Record<string, string> | undefined {
  if (!err.fields) return undefined;
  // fromEntries, not assignment: a field may be called `__proto__`.
  return Object.fromEntries(
    Object.entries(err.fields).map(([path, what]) => [path.split('.').map(namer).join('.'), describeFields(Object.fromEntries([[path, what]]), namer)!]),
  );
}
