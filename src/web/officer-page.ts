import type { FastifyInstance, FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Where `npm run build` puts the officers' page (web/ built by Vite); relative to the working folder like the policy dir. */
export const OFFICER_PAGE_DIR = path.resolve('dist/web');

/**
 * The page's own policy, whatever else the gateway sets: scripts, styles, images and API calls
 * from this origin only, nothing inline, no framing. The build emits no inline code to allow.
 */
export const OFFICER_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

interface PageFile {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

/** Every built file, read once: a URL can only name a file in this map, so no path ever reaches the disk. */
function readBuild(dir: string): Map<string, PageFile> {
  const files = new Map<string, PageFile>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const file = path.join(folder, name);
      if (statSync(file).isDirectory()) {
        walk(file);
        continue;
      }
      const type = TYPES[path.extname(name)];
      if (!type) continue;
      const body = readFileSync(file);
      const relative = path.relative(dir, file).split(path.sep).join('/');
      files.set(`/fg/${relative}`, {
        body,
        type,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        // Vite names assets by content hash: they never change under the same name.
        immutable: relative.startsWith('assets/'),
      });
    }
  };
  walk(dir);
  return files;
}

function send(reply: FastifyReply, file: PageFile, ifNoneMatch: string | undefined): FastifyReply {
  void reply
    .header('content-security-policy', OFFICER_PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('etag', file.etag);
  if (ifNoneMatch === file.etag) return reply.code(304).send();
  return reply.type(file.type).send(file.body);
}

/**
 * Serves the privacy officers' page at /fg/: hashed assets cached for good, and index.html for
 * every other /fg/ path so the page's own routes survive a reload. The page is static and holds
 * no data; everything it shows comes from the officer API with the officer's token.
 * (Not @fastify/static: its ESM-only dependencies cannot load under Jest on Node 20, and a
 * handful of files read at start need no file system access per request.)
 */
export function registerOfficerPage(fastify: FastifyInstance, dir = OFFICER_PAGE_DIR): void {
  fastify.get('/fg', (_request, reply) => reply.redirect('/fg/', 301));
  const index = existsSync(path.join(dir, 'index.html')) ? readBuild(dir) : undefined;
  fastify.get('/fg/*', (request, reply) => {
    if (!index) {
      // A checkout without a build must say what to do rather than serve an empty page.
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The officers\' page is not built. Run "npm run build" and start the gateway again.\n');
    }
    const pathname = request.url.split('?')[0]!;
    const file = index.get(pathname);
    const etag = request.headers['if-none-match'];
    if (file && pathname !== '/fg/index.html') return send(reply, file, etag);
    // A missing asset is a 404, not the page: a stale tab must not parse HTML as a script.
    if (pathname.startsWith('/fg/assets/')) {
      return reply.code(404).type('text/plain; charset=utf-8').send('Not found\n');
    }
    return send(reply, index.get('/fg/index.html')!, etag);
  });
}
