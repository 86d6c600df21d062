import type { z } from 'zod';
import { RasterizerError, type ErrorCode } from '../errors.js';
import { insideName } from './fields.js';

/**
 * Parses with one of the request schemas. On failure throws a RasterizerError (`invalid_request`
 * unless said otherwise) whose `fields` map each bad field (inside names) to what is wrong with it;
 * each edge names the fields its own way (RasterizerError.describe).
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, code: ErrorCode = 'invalid_request'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new RasterizerError(code, undefined, { fields: issueFields(parsed.error) });
}

/** Field path → message, first issue per field; every unknown field by name (a typo is found at once). */
export function issueFields(error: z.ZodError): Record<string, string> {
  // A Map, then fromEntries: a field may be called `__proto__`.
  const fields = new Map<string, string>();
  const note = (path: readonly PropertyKey[], message: string) => {
    const key = path.length > 0 ? path.map((p) => insideName(String(p))).join('.') : 'body';
    if (!fields.has(key)) fields.set(key, message);
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) note([...issue.path, key], 'is not a field of this request');
      continue;
    }
    note(issue.path, issue.path.length > 0 ? issue.message : bodyMessage(issue));
  }
  return Object.fromEntries(fields);
}

function bodyMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_type' ? `must be ${issue.expected === 'object' ? 'a JSON object' : issue.expected}` : issue.message;
}
