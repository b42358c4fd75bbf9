import { status, type Metadata } from '@grpc/grpc-js';
import { grpcError } from '@orderbook/server-kit';
import type { VerifiedIdentity } from '@orderbook/token-verifier';

/**
 * Verified identities, keyed by the Metadata object the auth interceptor hands on to the handler
 * (grpc-js gives the handler's call that very object). Nothing a client sends can create an entry,
 * so a client cannot claim an identity; entries die with their call.
 */
const identities = new WeakMap<Metadata, VerifiedIdentity>();

export function attachIdentity(metadata: Metadata, identity: VerifiedIdentity): void {
  identities.set(metadata, identity);
}

/**
 * The verified caller of a call. A handler that needs one on a call without one is a policy bug
 * (a method classified public by mistake): it fails closed with UNAUTHENTICATED.
 */
export function callerOf(call: { readonly metadata: Metadata }): VerifiedIdentity {
  const identity = identities.get(call.metadata);
  if (identity === undefined) throw grpcError(status.UNAUTHENTICATED, 'authorization: this method needs an access token', { reason: 'ACCESS_TOKEN_MISSING' });
  return identity;
}

/** The sign-in session of a call's verified caller; undefined on a public call. */
export function sessionOf(call: { readonly metadata: Metadata }): string | undefined {
  return identities.get(call.metadata)?.sessionId;
}
