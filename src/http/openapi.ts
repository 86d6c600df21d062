import { z } from 'zod';
import { ERROR_CATALOGUE, ERROR_CODES } from '../errors.js';
import { JOB_NAME, QUEUE_NAME, jobDataSchema } from '../queue/job.js';
import { LIMITS } from '../request/fields.js';
import { wireMomentRequest, wirePreviewUrlsBody, wireProblemsBody } from '../request/moment.js';
import { segmentSchema } from '../request/problems.js';
import { HTTP_STATUS } from './errors.js';
import { assetResponse, enqueuedResponse, errorResponse, previewUrlsResponse, problemPreviewsResponse } from './schemas.js';

/** JSON Schema of what a client sends (a zod schema's input side: before defaults and renames). */
function input(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function output(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ content: { 'application/json': { schema: ref(name) } } });
const ok = (description: string, name: string) => ({ description, ...json(name) });

/** Error answers a route can give, by status, each naming its codes. */
function errors(...codes: (keyof typeof ERROR_CATALOGUE)[]): Record<string, unknown> {
  const byStatus = new Map<number, (keyof typeof ERROR_CATALOGUE)[]>();
  for (const code of codes) byStatus.set(HTTP_STATUS[code], [...(byStatus.get(HTTP_STATUS[code]) ?? []), code]);
  return Object.fromEntries([...byStatus].map(([status, cs]) => [String(status), { description: cs.map((c) => `\`${c}\`: ${ERROR_CATALOGUE[c].summary}`).join('; '), ...json('Error') }]));
}

const BODY_ERRORS = ['invalid_request', 'invalid_json', 'invalid_body', 'too_large', 'unsupported_media_type', 'unauthorized', 'internal'] as const;
const teamQuery = { name: 'team_id', in: 'query', required: true, schema: { type: 'integer', minimum: 1 }, description: 'the team the asset belongs to: another team\'s asset is not found' };

/** The OpenAPI 3.1 document of the HTTP API, generated from the request module's and the answers' zod schemas. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'replay-rasterizer',
      version: '1',
      description: `Turns moments of rrweb session recordings into GIF previews. Every /v1 route but this document wants \`Authorization: Bearer <RASTERIZER_API_TOKEN>\`. Jobs can also be added to the BullMQ queue \`${QUEUE_NAME}\` (job name \`${JOB_NAME}\`, data: the JobData schema): see the README.`,
    },
    security: [{ bearer: [] }],
    paths: paths(),
    components: components(),
  };
}

function paths(): Record<string, unknown> {
  return {
    '/v1/rasterize': {
      post: {
        summary: 'Enqueue the preview of one moment (always a new asset)',
        requestBody: { required: true, ...json('RasterizeRequest') },
        responses: { '202': ok('queued', 'Enqueued'), ...errors(...BODY_ERRORS, 'queue_unavailable') },
      },
    },
    '/v1/sessions/{session_id}/problem-previews': {
      post: {
        summary: `Enqueue one preview per problem segment of a session (at most ${LIMITS.segmentsPerCall} segments; identical clips share an asset unless it failed; footer on by default)`,
        parameters: [{ name: 'session_id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, ...json('ProblemPreviewsRequest') },
        responses: { '202': ok('one entry per segment, in order', 'ProblemPreviews'), ...errors(...BODY_ERRORS, 'queue_unavailable') },
      },
    },
    '/v1/assets/{id}': {
      get: {
        summary: 'An asset\'s status, clip, budget steps and (once done) signed public URL',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }, teamQuery],
        responses: { '200': ok('the asset', 'Asset'), ...errors('invalid_request', 'unauthorized', 'not_found', 'internal') },
      },
    },
    '/v1/assets/preview-urls': {
      post: {
        summary: `Signed public URLs of up to ${LIMITS.assetIdsPerCall} assets of one team (null: missing, another team's, not done, failed or expired)`,
        requestBody: { required: true, ...json('PreviewUrlsRequest') },
        responses: { '200': ok('id → URL or null', 'PreviewUrls'), ...errors(...BODY_ERRORS) },
      },
    },
    '/v1/openapi.json': { get: { summary: 'This document (no bearer needed)', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } } },
    '/public/previews/{token}': {
      get: {
        summary: 'The GIF of a signed preview URL (no bearer: the token is the permission)',
        security: [],
        parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'the GIF', content: { 'image/gif': {} } }, ...errors('invalid_token', 'token_expired', 'forbidden', 'not_found', 'not_ready', 'internal') },
      },
    },
    '/healthz': { get: { summary: 'The process answers', security: [], responses: { '200': { description: 'ok' } } } },
    '/readyz': { get: { summary: 'Redis, PostgreSQL and S3 answer within 3 s', security: [], responses: { '200': { description: 'ready' }, '503': { description: 'not ready, with the failing check' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'text exposition format' } } } },
  };
}

function components(): Record<string, unknown> {
  return {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      RasterizeRequest: input(wireMomentRequest),
      ProblemPreviewsRequest: input(wireProblemsBody),
      Segment: input(segmentSchema),
      PreviewUrlsRequest: input(wirePreviewUrlsBody),
      Enqueued: output(enqueuedResponse),
      ProblemPreviews: output(problemPreviewsResponse),
      Asset: output(assetResponse),
      PreviewUrls: output(previewUrlsResponse),
      Error: { ...output(errorResponse), description: ERROR_CODES.map((c) => `${c} (${HTTP_STATUS[c]}${ERROR_CATALOGUE[c].retryable ? ', retryable' : ''})`).join(', ') },
      JobData: { ...input(jobDataSchema), description: `BullMQ job data of queue \`${QUEUE_NAME}\`, job name \`${JOB_NAME}\`; its asset row must exist first (see the README)` },
    },
  };
}
