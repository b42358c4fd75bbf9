import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@orderbook/server-kit';
import { bearerToken, KeysUnavailableError, TokenRejectedError, type TokenVerifier, type VerifiedIdentity } from '@orderbook/token-verifier';
import { accessOf, type Access } from './access-policy';
import { attachIdentity } from './caller-identity';

type Outcome = { readonly ok: true; readonly identity: VerifiedIdentity } | { readonly ok: false; readonly code: grpc.status; readonly message: string };

/**
 * Checks the access token of every call that needs one before any handler runs: streams and
 * OrderSession included, once, when the call starts. grpc-js holds the request messages until the
 * metadata is passed on, so a refused call never reaches its handler.
 */
export function createAuthInterceptor(verifier: TokenVerifier, logger: Logger): grpc.ServerInterceptor {
  return (method, call) => {
    const access = accessOf(method.path);
    if (access === 'public') return new grpc.ServerInterceptingCall(call);
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        authorize(verifier, metadata, access, logger)
          .then((outcome) => {
            if (!outcome.ok) {
              call.sendStatus({ code: outcome.code, details: outcome.message });
              return;
            }
            attachIdentity(metadata, outcome.identity);
            // Runs the handler synchronously when the request already arrived: its failures land below.
            next(metadata);
          })
          .catch((err: unknown) => {
            logger.error({ err, method: method.path }, 'call failed after authentication');
            call.sendStatus({ code: grpc.status.INTERNAL, details: 'internal error' });
          });
      })
      .build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build());
  };
}

async function authorize(verifier: TokenVerifier, metadata: grpc.Metadata, access: Exclude<Access, 'public'>, logger: Logger): Promise<Outcome> {
  const token = bearerToken(metadata);
  if (token === undefined) {
    return { ok: false, code: grpc.status.UNAUTHENTICATED, message: 'authorization: expected metadata "authorization: Bearer <access token>"' };
  }
  let identity: VerifiedIdentity;
  try {
    identity = await verifier.verify(token);
  } catch (err) {
    if (err instanceof TokenRejectedError) return { ok: false, code: grpc.status.UNAUTHENTICATED, message: `authorization: ${err.message}` };
    if (err instanceof KeysUnavailableError) return { ok: false, code: grpc.status.UNAVAILABLE, message: `authorization: ${err.message}` };
    logger.error({ err }, 'token verification failed unexpectedly');
    return { ok: false, code: grpc.status.INTERNAL, message: 'authorization: token verification failed' };
  }
  if (access === 'admin' && !identity.roles.includes('admin')) {
    return { ok: false, code: grpc.status.PERMISSION_DENIED, message: 'this method needs the admin role' };
  }
  return { ok: true, identity };
}
