import pino, { type Logger } from 'pino';

export type { Logger };

/** Secrets never reach the logs, whatever object a caller logs. */
const SECRET_KEYS = ['password', 'token', 'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'authorization'];
const REDACTED_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export function createLogger(service: string, level: string): Logger {
  return pino({ name: service, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}
