import type { Metadata } from '@grpc/grpc-js';

/** RFC 6750 b64token: what a bearer credential may consist of. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The token of `authorization: Bearer <token>` metadata (scheme case-insensitive), or undefined
 * when it is missing, malformed, or sent more than once (an ambiguous credential is no credential).
 */
export function bearerToken(metadata: Metadata): string | undefined {
  const values = metadata.get('authorization');
  if (values.length !== 1) return undefined;
  const [value] = values;
  if (typeof value !== 'string') return undefined;
  return BEARER.exec(value.trim())?.[1];
}
