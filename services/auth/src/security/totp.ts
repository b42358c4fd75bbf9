import { generateSecret, generateURI, verify } from 'otplib';

/** What authenticator apps support everywhere: 6 digits, 30 s steps, HMAC-SHA1 (RFC 6238 defaults). */
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_ALGORITHM = 'SHA1';
/** 160-bit secrets, as RFC 4226 recommends. */
const SECRET_BYTES = 20;
/** One step either side of now: a code typed as it rolls over, or a clock a little off. */
const TOLERANCE_SECONDS = TOTP_PERIOD_SECONDS;

const CODE = /^\d{6}$/;

/** Whether a submitted code has the shape of a TOTP code (else it may be a recovery code). */
export function isTotpCode(code: string): boolean {
  return CODE.test(code);
}

/** A fresh base32 secret. */
export function newTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/** otpauth://totp/ URI for a QR code. */
export function totpUri(secret: string, issuer: string, accountName: string): string {
  return generateURI({ issuer, label: accountName, secret, digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, algorithm: 'sha1' });
}

/**
 * The time step of `code` if it is valid now (± one step) and from a later step than
 * `afterTimeStep` (the last one accepted): a code used once is refused for the rest of its window.
 */
export async function acceptedTimeStep(secret: string, code: string, afterTimeStep: number, nowMs = Date.now()): Promise<number | undefined> {
  if (!isTotpCode(code)) return undefined;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: TOLERANCE_SECONDS,
    ...(afterTimeStep >= 0 ? { afterTimeStep } : {}),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}
