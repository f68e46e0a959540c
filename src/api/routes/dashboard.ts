import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors/index.js';

/** Where `npm run build:dashboard` writes the dashboard (the same from src/ under tsx and from dist/). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

/**
 * The dashboard talks only to the public API, so the page may run nothing but its own files:
 * no inline script or style, no third-party origin, not framed.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Jobplane</title>
<p>The dashboard is not built. Run <code>npm run build:dashboard</code> (or <code>npm run build</code>), then reload.
The API is at <a href="/api/docs">/api/docs</a>.</p>`;

/** Paths that belong to the server, never to the single-page app. */
const SERVER_PATHS = /^\/(api|metrics|healthz|readyz)(\/|$)/;

/** Options of the dashboard routes. */
export interface DashboardRouteOptions {
  /** The build folder; null serves no dashboard (a page saying so). @defaultValue {@link DEFAULT_DASHBOARD_DIR} */
  dir?: string | null;
}

/**
 * Serve the dashboard's production build: hashed assets with a year of caching, and index.html
 * (never cached) for `/` and every other GET that is not an API path, so deep links work.
 */
export async function dashboardRoutes(app: FastifyInstance, { dir = DEFAULT_DASHBOARD_DIR }: DashboardRouteOptions = {}): Promise<void> {
  const indexFile = dir === null ? null : join(dir, 'index.html');
  const index = indexFile !== null && existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : null;
  if (index !== null && dir !== null && existsSync(join(dir, 'assets'))) {
    await app.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/assets/',
      wildcard: false,
      index: false,
      immutable: true,
      maxAge: '365d',
      setHeaders: (res) => void res.header('x-content-type-options', 'nosniff'),
    });
  }
  const page = (url: string): string => {
    if (SERVER_PATHS.test(url)) throw new AppError('NOT_FOUND', `no route GET ${url.split('?')[0] ?? ''}`);
    return index ?? NOT_BUILT;
  };
  for (const url of ['/', '/*']) {
    app.get(url, { schema: { hide: true } }, async (request, reply) => {
      const html = page(request.url);
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(html);
    });
  }
}
