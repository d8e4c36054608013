import type { FastifyInstance } from 'fastify';

/** One year, with subdomains: the usual production value (RFC 6797 §6.1.1). */
export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

/**
 * Strict-Transport-Security only on answers to requests that arrived over TLS, at the gateway or,
 * with TRUST_PROXY, at a proxy that says so in X-Forwarded-Proto (Fastify's request.protocol
 * believes that header only from trusted proxies). RFC 6797 §7.2: a host must not send it over
 * plain HTTP, where an active attacker could forge or strip it anyway.
 */
export function hstsOverTlsOnly(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply) => {
    if (request.protocol === 'https') void reply.header('strict-transport-security', HSTS_VALUE);
  });
}
