import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

/**
 * What the gateway's own log (pino) may say about a request or an error. The access log is where
 * accesses are recorded, with care; the process log goes to log collectors, terminals and
 * support tickets, so it carries no request bodies, query strings, field values, names, BSN
 * material, tokens or SQL parameters, on any path, errors included.
 *
 * - Requests are logged by route template (`/v1/cases/:id`), never by the URL as sent: a client
 *   may put anything in a path.
 * - Errors are logged by type, code (SQLSTATE or a system code), the schema objects a database
 *   error names (table, column, constraint) and stack frames, never their message when it comes
 *   from the database (PostgreSQL echoes values: `invalid input syntax for type uuid: "…"`,
 *   `Key (…)=(…) already exists`), and never the properties drivers hang on them (`parameters`,
 *   `detail`, `where`, `query`).
 * - Redaction below removes what an object logged by hand might still carry.
 */

/** Paths pino censors wherever an object logged by hand carries them. */
export const LOG_REDACT_PATHS = [
  'req.headers',
  'req.query',
  'req.body',
  'res.headers',
  'body',
  'query',
  'parameters',
  'headers.authorization',
  'authorization',
  'token',
  'access_token',
  'client_assertion',
  '*.parameters',
  '*.body',
  '*.query',
  '*.headers',
  '*.authorization',
  '*.token',
  '*.access_token',
  '*.client_assertion',
];

/** The route template of the request, recorded on the raw request for the request serializer. */
const ROUTE = Symbol('route');
type WithRoute = IncomingMessage & { [ROUTE]?: string; id?: string };

/** Records each request's route template where the log serializer finds it. */
export function recordRouteTemplates(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    (request.raw as WithRoute)[ROUTE] = request.routeOptions.url ?? '(no route)';
    done();
  });
}

/** pino-http hands serializers a copy of the request or response with the original as `raw`. */
type Wrapped<T> = T & { raw?: T };

/** The route template for pino-http's customProps, which see the raw request itself. */
export function routeOf(req: IncomingMessage): string | undefined {
  return (req as WithRoute)[ROUTE];
}

export function serializeRequest(req: Wrapped<WithRoute>): { id: string | undefined; method: string } {
  const raw = req.raw ?? req;
  return { id: raw.id, method: raw.method ?? '?' };
}

export function serializeResponse(res: Wrapped<ServerResponse>): { statusCode: number } {
  return { statusCode: (res.raw ?? res).statusCode };
}

const SAFE_CODE = /^[A-Z0-9_]{1,40}$/;
const SAFE_NAME = /^[A-Za-z0-9_.$]{1,80}$/;

interface SafeError {
  type: string;
  code?: string;
  message?: string;
  table?: string;
  column?: string;
  constraint?: string;
  stack?: string;
  cause?: SafeError;
  errors?: SafeError[];
}

/** An error from PostgreSQL, through node-postgres or TypeORM: its message may echo values. */
function fromDatabase(error: object): boolean {
  const e = error as { name?: unknown; severity?: unknown; driverError?: unknown; routine?: unknown };
  return (
    e.name === 'QueryFailedError' ||
    e.name === 'DatabaseError' ||
    typeof e.severity === 'string' ||
    typeof e.routine === 'string' ||
    e.driverError !== undefined
  );
}

/**
 * The error serializer of the gateway's log: see the module comment for what it keeps. Messages
 * of errors that did not come from the database are kept: the gateway's own sentences carry no
 * personal data, and a TypeError's message names code, not data.
 */
export function serializeError(wrapped: unknown, depth = 0): SafeError {
  // pino first turns an error into a plain copy (all its properties) and keeps the original as `raw`.
  const error = (wrapped as { raw?: unknown } | null)?.raw ?? wrapped;
  if (typeof error !== 'object' || error === null) return { type: typeof error };
  const e = error as Partial<Error> & {
    code?: unknown;
    table?: unknown;
    column?: unknown;
    constraint?: unknown;
    driverError?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  const database = fromDatabase(error);
  const name = (typeof e.name === 'string' && e.name) || error.constructor?.name || 'Error';
  const driver = (
    typeof e.driverError === 'object' && e.driverError !== null ? e.driverError : {}
  ) as typeof e;
  const pick = (value: unknown, pattern: RegExp) =>
    typeof value === 'string' && pattern.test(value) ? value : undefined;
  const code = pick(e.code, SAFE_CODE) ?? pick(driver.code, SAFE_CODE);
  const table = pick(e.table, SAFE_NAME) ?? pick(driver.table, SAFE_NAME);
  const column = pick(e.column, SAFE_NAME) ?? pick(driver.column, SAFE_NAME);
  const constraint = pick(e.constraint, SAFE_NAME) ?? pick(driver.constraint, SAFE_NAME);
  // The first stack line repeats the message; the frames are code locations.
  const frames =
    typeof e.stack === 'string'
      ? e.stack
          .split('\n')
          .filter((line) => /^\s+at /.test(line))
          .join('\n')
      : undefined;
  const out: SafeError = {
    type: name,
    ...(code ? { code } : {}),
    ...(!database && typeof e.message === 'string' ? { message: e.message.slice(0, 500) } : {}),
    ...(table ? { table } : {}),
    ...(column ? { column } : {}),
    ...(constraint ? { constraint } : {}),
    ...(frames ? { stack: frames } : {}),
  };
  if (depth < 3 && e.cause !== undefined) out.cause = serializeError(e.cause, depth + 1);
  if (depth < 3 && Array.isArray(e.errors)) {
    out.errors = e.errors.slice(0, 5).map((inner: unknown) => serializeError(inner, depth + 1));
  }
  return out;
}
