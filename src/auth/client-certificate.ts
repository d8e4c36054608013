import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/** The client certificate of a mutual-TLS connection, as far as binding needs it. */
export interface ClientCertificate {
  /** RFC 8705 §3.1 `x5t#S256`: base64url SHA-256 of the DER certificate. */
  thumbprint: string;
  /** Subject CN: the partner id the certificate was issued to (our CA's convention). */
  commonName: string | undefined;
}

/**
 * The verified client certificate of the connection a request came on, or undefined on plain
 * HTTP or TLS without one. Only certificates the TLS layer authorised (TLS_CLIENT_CA_FILE) count.
 */
export function clientCertificateOf(request: FastifyRequest): ClientCertificate | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) return undefined;
  const certificate = socket.getPeerCertificate();
  if (!certificate?.raw) return undefined;
  const cn = certificate.subject?.CN;
  return {
    thumbprint: createHash('sha256').update(certificate.raw).digest('base64url'),
    commonName: Array.isArray(cn) ? undefined : cn,
  };
}
