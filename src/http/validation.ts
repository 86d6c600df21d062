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
  // A Map, not an object: a field may be called `__proto__`.
  const fields = new Map<string, string>();
  const note = (key: string, message: string) => {
    if (!fields.has(key)) fields.set(key, message);
  };
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // Each unknown field by name: a typo ("fsp") is found at once, and nothing is silently ignored.
      const at = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
      for (const key of issue.keys) note(`${at}${key}`, 'unknown field');
      continue;
    }
    note(issue.path.length > 0 ? issue.path.join('.') : 'body', issue.message);
  }
  sendInvalid(res, Object.fromEntries(fields));
  return undefined;
}
