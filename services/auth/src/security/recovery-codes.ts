import { createHash, randomInt } from 'node:crypto';

/** How many codes an enrolment hands out. */
const RECOVERY_CODE_COUNT = 10;
/** Crockford-like base32 without look-alikes (no i, l, o, u): 10 characters ≈ 50 bits. */
const ALPHABET = 'abcdefghjkmnpqrstvwxyz0123456789';
const GROUP = 5;
const SHAPE = /^[a-z0-9]{5}-?[a-z0-9]{5}$/;

function newCode(): string {
  const chars = Array.from({ length: 2 * GROUP }, () => ALPHABET[randomInt(ALPHABET.length)]);
  return `${chars.slice(0, GROUP).join('')}-${chars.slice(GROUP).join('')}`;
}

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
}

/** "ABCDE-FGHJK", "abcde fghjk" and "abcdefghjk" are the same code. */
function normalised(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

export function isRecoveryCodeShape(code: string): boolean {
  return SHAPE.test(code.trim().toLowerCase().replace(/\s/g, '-'));
}

/**
 * What is stored: SHA-256 of the user id and the code. The codes are random (~50 bits), so a
 * slow hash would add nothing against guessing, and the user id makes equal codes of two users
 * distinct rows.
 */
export function recoveryCodeHash(userId: string, code: string): string {
  return createHash('sha256').update(`${userId}:${normalised(code)}`).digest('hex');
}
