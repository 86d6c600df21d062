import type { Response } from 'express';
import type { z } from 'zod';

/** A 400 naming each bad field: `{error, message, fields: {field: message}}`. */
export function sendInvalid(res: Response, fields: Record<string, string>): void {
  res.status(400).json({
    error: 'invalid_request',
    message: Object.entries(fields)
      .map(([f, m]) => (m.startsWith(f) ? m : `${f}: ${m}`))
      .join('; '),
    fields,
  });
}

/** Parses with zod; on failure answers 400 with field-level messages and returns undefined. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, res: Response): z.output<S> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path.length > 0 ? issue.path.join('.') : 'body';
    fields[key] ??= issue.message;
  }
  sendInvalid(res, fields);
  return undefined;
}
