import type { Metadata, ServerWritableStream } from '@grpc/grpc-js';
import { auth } from '@orderbook/proto';
import { peerAddress, StatusAdapter, type ClientAddresses, type Logger } from '@orderbook/server-kit';
import { bearerToken } from '@orderbook/token-verifier';
import type { FeedMessage, FeedWatcher, RevocationFeed } from '../revocation-feed';
import { ThrottleUnavailableError } from '../throttle/throttle-store';
import type { AuthService } from './auth-service';
import type { CallContext } from './deps';
import { authErrors } from './errors';

/** Messages a revocation watcher may leave unread before it is dropped (it resumes from its cursor). */
const MAX_UNREAD_FEED_MESSAGES = 100;
const MAX_USER_AGENT_LENGTH = 256;

function userAgentOf(metadata: Metadata): string {
  const [value] = metadata.get('user-agent');
  return typeof value === 'string' ? value.slice(0, MAX_USER_AGENT_LENGTH) : '';
}

function contextOf(call: { getPeer(): string; readonly metadata: Metadata; getDeadline(): Date | number }, clients: ClientAddresses): CallContext {
  const token = bearerToken(call.metadata);
  const deadline = call.getDeadline();
  return {
    peer: clients.of(call),
    userAgent: userAgentOf(call.metadata),
    ...(token === undefined ? {} : { accessToken: token }),
    deadlineMs: deadline instanceof Date ? deadline.getTime() : deadline,
  };
}

function feedMessageView(message: FeedMessage): auth.WatchRevocationsResponse {
  return {
    revoked: message.revoked.map((event) => ({
      sessionId: event.sessionId,
      revokedAtUnixMs: BigInt(event.revokedAtMs),
      relevantUntilUnixMs: BigInt(event.relevantUntilMs),
    })),
    cursor: BigInt(message.cursor),
  };
}

/** WatchRevocations: one watcher of the feed per call. */
function watchRevocations(feed: RevocationFeed): (call: ServerWritableStream<auth.WatchRevocationsRequest, auth.WatchRevocationsResponse>) => void {
  return (call) => {
    let unread = 0;
    let finished = false;
    call.on('drain', () => (unread = 0));
    const watcher: FeedWatcher = {
      peer: peerAddress(call.getPeer()),
      send: (message) => {
        if (finished) return true;
        if (unread > MAX_UNREAD_FEED_MESSAGES) return false;
        if (!call.write(feedMessageView(message))) unread += 1;
        return true;
      },
      end: (reason) => {
        if (finished) return;
        finished = true;
        call.emit('error', reason === 'shutting-down' ? authErrors.shuttingDown() : authErrors.watcherTooSlow());
      },
    };
    call.on('cancelled', () => {
      finished = true;
      feed.unwatch(watcher);
    });
    const cursor = call.request.afterCursor > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(call.request.afterCursor);
    const refusal = feed.watch(watcher, cursor);
    if (refusal !== undefined) {
      finished = true;
      call.emit('error', authErrors.tooManyWatchers(refusal === 'too-many-watchers' ? 'on this instance' : 'from your address'));
    }
  };
}

/**
 * The grpc-js implementation of AuthService: decodes calls into requests and a CallContext and
 * runs the operation. Failures are gRPC errors with a reason, InvalidFieldError for bad input,
 * or an unreachable Redis (UNAVAILABLE); the shared adapter answers them.
 */
export function authHandlers(service: AuthService, feed: RevocationFeed, logger: Logger, clients: ClientAddresses): auth.AuthServiceServer {
  const statuses = new StatusAdapter([(err) => (err instanceof ThrottleUnavailableError ? authErrors.throttleUnavailable() : undefined)], logger);
  return {
    signUp: statuses.unary((call) => service.signIns.signUp(call.request, contextOf(call, clients))),
    signIn: statuses.unary((call) => service.signIns.signIn(call.request, contextOf(call, clients))),
    completeSignIn: statuses.unary((call) => service.signIns.completeSignIn(call.request, contextOf(call, clients))),
    refreshToken: statuses.unary((call) => service.account.refreshToken(call.request, contextOf(call, clients))),
    signOut: statuses.unary((call) => service.account.signOut(call.request, contextOf(call, clients))),
    getMe: statuses.unary((call) => service.account.getMe(contextOf(call, clients))),
    getPublicKeys: statuses.unary(() => service.publicKeys()),
    changePassword: statuses.unary((call) => service.account.changePassword(call.request, contextOf(call, clients))),
    listSessions: statuses.unary((call) => service.account.listSessions(contextOf(call, clients))),
    revokeSession: statuses.unary((call) => service.account.revokeSession(call.request, contextOf(call, clients))),
    signOutEverywhere: statuses.unary((call) => service.account.signOutEverywhere(contextOf(call, clients))),
    beginTotpEnrollment: statuses.unary(async (call) => {
      const ctx = contextOf(call, clients);
      return service.secondFactors.begin(await service.callers.authenticate(ctx), call.request, ctx);
    }),
    confirmTotpEnrollment: statuses.unary(async (call) => {
      const ctx = contextOf(call, clients);
      return service.secondFactors.confirm(await service.callers.authenticate(ctx), call.request, ctx);
    }),
    disableTotp: statuses.unary(async (call) => {
      const ctx = contextOf(call, clients);
      return service.secondFactors.disable(await service.callers.authenticate(ctx), call.request, ctx);
    }),
    lookupUser: statuses.unary((call) => service.admin.lookupUser(call.request, contextOf(call, clients))),
    setUserRoles: statuses.unary((call) => service.admin.setUserRoles(call.request, contextOf(call, clients))),
    listAuditEvents: statuses.unary((call) => service.admin.listAuditEvents(call.request, contextOf(call, clients))),
    watchRevocations: watchRevocations(feed),
  };
}
