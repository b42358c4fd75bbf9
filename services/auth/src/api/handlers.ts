import type { auth } from '@orderbook/proto';
import { StatusAdapter, type Logger } from '@orderbook/server-kit';
import { bearerToken } from '@orderbook/token-verifier';
import type { AuthService } from './service';

/**
 * The grpc-js implementation of AuthService: decodes calls and runs the operation. The service
 * throws its failures as gRPC errors and InvalidFieldError, which the shared adapter answers.
 */
export function authHandlers(service: AuthService, logger: Logger): auth.AuthServiceServer {
  const statuses = new StatusAdapter([], logger);
  return {
    signUp: statuses.unary((call) => service.signUp(call.request)),
    signIn: statuses.unary((call) => service.signIn(call.request, peerAddress(call.getPeer()))),
    refreshToken: statuses.unary((call) => service.refreshToken(call.request)),
    signOut: statuses.unary((call) => service.signOut(call.request)),
    getMe: statuses.unary((call) => service.getMe(bearerToken(call.metadata))),
    getPublicKeys: statuses.unary(() => service.getPublicKeys()),
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
