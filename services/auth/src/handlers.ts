import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { auth } from '@orderbook/proto';
import { grpcError, isServiceError, type Logger } from '@orderbook/server-kit';
import { bearerToken } from '@orderbook/token-verifier';
import type { AuthService } from './service';
import { InvalidFieldError } from './validation';

/** The grpc-js implementation of AuthService: decodes calls, runs the operation, maps failures to status codes. */
export function authHandlers(service: AuthService, logger: Logger): auth.AuthServiceServer {
  function unary<Req, Res>(method: string, run: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      Promise.resolve()
        .then(() => run(call.request, call))
        .then(
          (response) => callback(null, response),
          (err: unknown) => {
            if (err instanceof InvalidFieldError) return callback(grpcError(status.INVALID_ARGUMENT, err.message));
            if (isServiceError(err)) return callback(err);
            logger.error({ err, method }, 'unexpected failure');
            callback(grpcError(status.INTERNAL, 'internal error'));
          },
        );
    };
  }

  return {
    signUp: unary('SignUp', (request: auth.SignUpRequest) => service.signUp(request)),
    signIn: unary('SignIn', (request: auth.SignInRequest, call) => service.signIn(request, peerAddress(call.getPeer()))),
    refreshToken: unary('RefreshToken', (request: auth.RefreshTokenRequest) => service.refreshToken(request)),
    signOut: unary('SignOut', (request: auth.SignOutRequest) => service.signOut(request)),
    getMe: unary('GetMe', (_request: auth.GetMeRequest, call) => service.getMe(bearerToken(call.metadata))),
    getPublicKeys: unary('GetPublicKeys', () => service.getPublicKeys()),
  };
}

/**
 * The client's IP address from a grpc-js peer string ("1.2.3.4:5678", "[::1]:5678"), without the
 * port, so that one client's connections share one failure budget. IPv4-mapped IPv6 is unmapped.
 */
export function peerAddress(peer: string): string {
  const bracketed = /^\[(.+)\]:\d+$/.exec(peer);
  const host = bracketed?.[1] ?? /^([^:]+):\d+$/.exec(peer)?.[1] ?? peer;
  return host.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}
