import * as grpc from '@grpc/grpc-js';
import { grpcError, INTERNAL_ERROR, type Logger } from '@orderbook/server-kit';
import {
  bearerToken,
  KeysUnavailableError,
  RevocationFeedDownError,
  SessionRevokedError,
  TokenRejectedError,
  type TokenVerifier,
  type VerifiedIdentity,
} from '@orderbook/token-verifier';
import type { CallCheck } from '../ops/call-timing';
import { accessOf, type Access } from './access-policy';
import { attachIdentity } from './caller-identity';

type Outcome = { readonly ok: true; readonly identity: VerifiedIdentity } | { readonly ok: false; readonly error: grpc.ServiceError };

const CANONICAL_BEARER_PREFIX = 'Bearer ';

/** Why a call was refused, for metrics. */
export type Refusal = 'no_token' | 'invalid' | 'revoked' | 'revocation_feed_down' | 'keys_unavailable' | 'not_admin';

/**
 * The access check of a call, as the call interceptor's listener (ops/call-timing.ts): undefined
 * for a public method, otherwise the listener that checks the token of every call that needs one
 * before any handler runs, streams and OrderSession included, once, when the call starts. grpc-js
 * holds the request messages until the metadata is passed on, so a refused call never reaches its
 * handler; refusals are sent through the call interceptor (`answer`), so they are timed like any other.
 */
export function createAuthListener(verifier: TokenVerifier, logger: Logger, onRefused: (refusal: Refusal) => void = () => undefined): CallCheck {
  return (method, answer) => {
    const access = accessOf(method.path);
    if (access === 'public') return undefined;
    const failed = (err: unknown): void => {
      logger.error({ err, method: method.path }, 'call failed after authentication');
      const internal = grpcError(grpc.status.INTERNAL, 'internal error', { reason: INTERNAL_ERROR });
      answer({ code: internal.code, details: internal.details, metadata: internal.metadata });
    };
    return new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        // A token verified before and still good goes on at once, without the promise hops of authorize().
        const known = knownIdentity(verifier, metadata, access);
        if (known !== undefined) {
          attachIdentity(metadata, known);
          try {
            next(metadata);
          } catch (err) {
            failed(err);
          }
          return;
        }
        authorize(verifier, metadata, access, logger, onRefused)
          .then((outcome) => {
            if (!outcome.ok) {
              answer({ code: outcome.error.code, details: outcome.error.details, metadata: outcome.error.metadata });
              return;
            }
            attachIdentity(metadata, outcome.identity);
            // Runs the handler synchronously when the request already arrived: its failures land below.
            next(metadata);
          })
          .catch(failed);
      })
      .build();
  };
}

/**
 * The caller's identity when the verifier already knows the token is accepted now and the method
 * allows the caller: the call goes on at once. Otherwise undefined, and authorize() decides
 * (and refuses with the reason).
 */
function knownIdentity(verifier: TokenVerifier, metadata: grpc.Metadata, access: Exclude<Access, 'public'>): VerifiedIdentity | undefined {
  if (verifier.known === undefined) return undefined;
  const values = metadata.get('authorization');
  const value = values.length === 1 ? values[0] : undefined;
  // "Bearer <token>" exactly, without bearerToken()'s regex over the whole token: only a token that
  // the regex once extracted was verified and can be known, and for it both readings agree.
  if (typeof value !== 'string' || !value.startsWith(CANONICAL_BEARER_PREFIX)) return undefined;
  const identity = verifier.known(value.slice(CANONICAL_BEARER_PREFIX.length));
  return identity !== undefined && (access !== 'admin' || identity.roles.includes('admin')) ? identity : undefined;
}

function refused(onRefused: (refusal: Refusal) => void, refusal: Refusal, error: grpc.ServiceError): Outcome {
  onRefused(refusal);
  return { ok: false, error };
}

async function authorize(
  verifier: TokenVerifier,
  metadata: grpc.Metadata,
  access: Exclude<Access, 'public'>,
  logger: Logger,
  onRefused: (refusal: Refusal) => void,
): Promise<Outcome> {
  const token = bearerToken(metadata);
  if (token === undefined) {
    const message = 'authorization: expected metadata "authorization: Bearer <access token>"';
    return refused(onRefused, 'no_token', grpcError(grpc.status.UNAUTHENTICATED, message, { reason: 'ACCESS_TOKEN_MISSING' }));
  }
  let identity: VerifiedIdentity;
  try {
    identity = await verifier.verify(token);
  } catch (err) {
    const message = `authorization: ${(err as Error).message}`;
    if (err instanceof SessionRevokedError) return refused(onRefused, 'revoked', grpcError(grpc.status.UNAUTHENTICATED, message, { reason: 'SESSION_REVOKED' }));
    if (err instanceof RevocationFeedDownError) {
      return refused(onRefused, 'revocation_feed_down', grpcError(grpc.status.UNAUTHENTICATED, message, { reason: 'REVOCATION_FEED_DOWN' }));
    }
    if (err instanceof TokenRejectedError) return refused(onRefused, 'invalid', grpcError(grpc.status.UNAUTHENTICATED, message, { reason: 'ACCESS_TOKEN_INVALID' }));
    if (err instanceof KeysUnavailableError) {
      return refused(onRefused, 'keys_unavailable', grpcError(grpc.status.UNAVAILABLE, message, { reason: 'SIGNING_KEYS_UNAVAILABLE', retryDelayMs: 1000 }));
    }
    logger.error({ err }, 'token verification failed unexpectedly');
    return { ok: false, error: grpcError(grpc.status.INTERNAL, 'authorization: token verification failed', { reason: INTERNAL_ERROR }) };
  }
  if (access === 'admin' && !identity.roles.includes('admin')) {
    return refused(onRefused, 'not_admin', grpcError(grpc.status.PERMISSION_DENIED, 'this method needs the admin role', { reason: 'ADMIN_ROLE_REQUIRED' }));
  }
  return { ok: true, identity };
}
