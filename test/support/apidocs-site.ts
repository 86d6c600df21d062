import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { type ErrorRequestHandler } from 'express';
import { toRasterizerError } from '../../src/errors.js';
import { requireBearer } from '../../src/http/auth.js';
import { sendError } from '../../src/http/errors.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { serveApp, type SiteServer } from './site-server.js';

/**
 * A second web application we did not write: Swagger UI (swagger-ui-dist, a React and Redux app:
 * operations that expand, "Try it out" forms, a request sent and its answer, highlighted code,
 * schemas that unfold, a filter) over this service's own OpenAPI document. The /v1 routes answer as
 * the service does to a caller without its token (the service's own auth and error answer), so a
 * request sent from the page gets the service's 401.
 */

const require = createRequire(import.meta.url);
const DIST = dirname(require.resolve('swagger-ui-dist/package.json'));

/** The UI's version, for reports. */
export const SWAGGER_UI_VERSION = (require('swagger-ui-dist/package.json') as { version: string }).version;

export const APIDOCS_PATH = '/docs/';

/** The page Swagger UI's own index.html is, with the document's address and a filter box. */
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
    // Its default asks validator.swagger.io for a badge: a request off the machine.
    validatorUrl: null,
  });
};
`;

export async function startApiDocsSite(port = 0): Promise<SiteServer> {
  const app = express();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.get(`${APIDOCS_PATH}swagger-initializer.js`, (_req, res) => {
    res.type('application/javascript').send(INITIALIZER);
  });
  app.use(APIDOCS_PATH, express.static(DIST));
  // A token nobody has: every request the page sends is answered as the service answers a caller without one.
  app.use('/v1', requireBearer(randomBytes(16).toString('hex')));
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    sendError(res, toRasterizerError(err));
  };
  app.use(onError);
  return serveApp(app, port);
}
