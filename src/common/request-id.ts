import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The id that ties a request's log lines, problem responses and (later) access log entries
 * together: the W3C trace id from an incoming `traceparent` when it is well-formed, otherwise a
 * new random one of the same shape, so it can be handed on to OpenTelemetry tooling.
 */
export function traceIdFrom(headers: IncomingHttpHeaders): string {
  const header = headers.traceparent;
  const match = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null;
  const traceId = match?.[1];
  if (traceId && !/^0+$/.test(traceId)) return traceId;
  return randomBytes(16).toString('hex');
}
