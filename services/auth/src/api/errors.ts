import { status, type ServiceError } from '@grpc/grpc-js';
import { grpcError } from '@orderbook/server-kit';

/**
 * Every failure the auth API answers, with its google.rpc.ErrorInfo reason (stable, part of the
 * contract: proto/orderbook/auth/v1/auth.proto lists them per method).
 */

/** One answer for unknown user and wrong password, so that sign-in does not reveal who has an account. */
export const SIGN_IN_FAILED = 'login or password: incorrect';

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** RetryInfo for clients that decode error details, and the `retry-after-seconds` trailer that earlier versions sent. */
function retryLater(error: ServiceError, retryAfterMs: number): ServiceError {
  error.metadata.set('retry-after-seconds', String(seconds(retryAfterMs)));
  return error;
}

export const authErrors = {
  signInFailed: (): ServiceError => grpcError(status.UNAUTHENTICATED, SIGN_IN_FAILED, { reason: 'SIGN_IN_FAILED' }),
  signInThrottled: (retryAfterMs: number): ServiceError =>
    retryLater(
      grpcError(status.RESOURCE_EXHAUSTED, `login: too many failed sign-ins for this account; retry in ${seconds(retryAfterMs)} s`, {
        reason: 'SIGN_IN_THROTTLED',
        retryDelayMs: retryAfterMs,
      }),
      retryAfterMs,
    ),
  throttleUnavailable: (): ServiceError =>
    grpcError(status.UNAVAILABLE, 'sign-in throttling store (Redis) is unreachable: retry shortly', { reason: 'THROTTLE_UNAVAILABLE', retryDelayMs: 1000 }),
  signUpRateLimited: (retryAfterMs: number): ServiceError =>
    retryLater(
      grpcError(status.RESOURCE_EXHAUSTED, `too many sign-ups from this address or in total; retry in ${seconds(retryAfterMs)} s`, {
        reason: 'SIGN_UP_RATE_LIMITED',
        retryDelayMs: retryAfterMs,
      }),
      retryAfterMs,
    ),
  /** Does not say which field: the answer to "is this email registered?" is what an enumeration wants. */
  userExists: (): ServiceError => grpcError(status.ALREADY_EXISTS, 'username or email: already taken', { reason: 'USER_EXISTS' }),
  weakPassword: (field: string, message: string): ServiceError =>
    grpcError(status.INVALID_ARGUMENT, message, { reason: 'PASSWORD_TOO_COMMON', fieldViolations: [{ field, description: message }] }),
  passwordIncorrect: (field: string): ServiceError =>
    grpcError(status.UNAUTHENTICATED, `${field}: incorrect`, { reason: 'PASSWORD_INCORRECT' }),
  passwordUnchanged: (): ServiceError =>
    grpcError(status.INVALID_ARGUMENT, 'new_password: must differ from the current password', {
      reason: 'PASSWORD_UNCHANGED',
      fieldViolations: [{ field: 'new_password', description: 'must differ from the current password' }],
    }),
  refreshRejected: (): ServiceError =>
    grpcError(status.UNAUTHENTICATED, 'refresh_token: invalid, expired or revoked', { reason: 'REFRESH_TOKEN_INVALID' }),
  refreshReused: (): ServiceError =>
    grpcError(status.UNAUTHENTICATED, 'refresh_token: already used; its session has been revoked', { reason: 'REFRESH_TOKEN_REUSED' }),
  noAccessToken: (): ServiceError =>
    grpcError(status.UNAUTHENTICATED, 'authorization: expected "Bearer <access token>" metadata', { reason: 'ACCESS_TOKEN_MISSING' }),
  accessTokenRejected: (why: string): ServiceError => grpcError(status.UNAUTHENTICATED, `authorization: ${why}`, { reason: 'ACCESS_TOKEN_INVALID' }),
  sessionRevoked: (): ServiceError =>
    grpcError(status.UNAUTHENTICATED, 'authorization: the session of this token has been revoked; sign in again', { reason: 'SESSION_REVOKED' }),
  adminRequired: (): ServiceError => grpcError(status.PERMISSION_DENIED, 'this method needs the admin role', { reason: 'ADMIN_ROLE_REQUIRED' }),
  sessionNotFound: (): ServiceError =>
    grpcError(status.NOT_FOUND, 'session_id: no live session of yours has this id', { reason: 'SESSION_NOT_FOUND' }),
  userNotFound: (field: string): ServiceError => grpcError(status.NOT_FOUND, `${field}: no such user`, { reason: 'USER_NOT_FOUND' }),
  ownRolesUnchangeable: (): ServiceError =>
    grpcError(status.FAILED_PRECONDITION, 'user_id: admins cannot change their own roles (another admin can)', { reason: 'OWN_ROLES_UNCHANGEABLE' }),
  ticketInvalid: (): ServiceError =>
    grpcError(status.UNAUTHENTICATED, 'ticket: invalid or expired; sign in again', { reason: 'SIGN_IN_TICKET_INVALID' }),
  secondFactorFailed: (): ServiceError =>
    grpcError(status.UNAUTHENTICATED, 'code: incorrect, already used or expired', { reason: 'SECOND_FACTOR_FAILED' }),
  totpAlreadyEnabled: (): ServiceError =>
    grpcError(status.FAILED_PRECONDITION, 'a TOTP authenticator is already active: disable it first', { reason: 'TOTP_ALREADY_ENABLED' }),
  totpNotPending: (): ServiceError =>
    grpcError(status.FAILED_PRECONDITION, 'no TOTP enrolment is pending: call BeginTotpEnrollment first', { reason: 'TOTP_NOT_PENDING' }),
  totpNotEnabled: (): ServiceError => grpcError(status.FAILED_PRECONDITION, 'no TOTP authenticator is active', { reason: 'TOTP_NOT_ENABLED' }),
  totpRequired: (): ServiceError =>
    grpcError(status.FAILED_PRECONDITION, 'admins must keep a second factor here (AUTH_REQUIRE_TOTP_FOR_ADMINS)', { reason: 'TOTP_REQUIRED' }),
  tooManyWatchers: (scope: string): ServiceError =>
    grpcError(status.RESOURCE_EXHAUSTED, `too many revocation watchers ${scope}; retry later`, { reason: 'TOO_MANY_WATCHERS', retryDelayMs: 5000 }),
  watcherTooSlow: (): ServiceError =>
    grpcError(status.RESOURCE_EXHAUSTED, 'revocation watcher did not read: reconnect with your last cursor', { reason: 'WATCHER_TOO_SLOW', retryDelayMs: 1000 }),
  shuttingDown: (): ServiceError =>
    grpcError(status.UNAVAILABLE, 'this auth instance is shutting down: reconnect', { reason: 'SHUTTING_DOWN', retryDelayMs: 500 }),
  badPageToken: (): ServiceError =>
    grpcError(status.INVALID_ARGUMENT, 'page_token: not a token from a previous page', {
      reason: 'INVALID_PAGE_TOKEN',
      fieldViolations: [{ field: 'page_token', description: 'not a token from a previous page' }],
    }),
} as const;
