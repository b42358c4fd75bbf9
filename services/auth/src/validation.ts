import { InvalidFieldError } from '@orderbook/server-kit';
import { isCommonPassword } from './security/common-passwords';

/** Input rules of the auth API. Each check names the field it rejects; nothing echoes a password. */

const USERNAME_MIN_LENGTH = 3;
const USERNAME_MAX_LENGTH = 32;
const EMAIL_MAX_LENGTH = 254;
/** ASVS 2.1.1 asks for at least 12 (NIST SP 800-63B for at least 8). No composition rules. */
export const PASSWORD_MIN_BYTES = 12;
/** bcrypt ignores everything after 72 bytes: longer passwords are refused, never silently truncated. */
export const PASSWORD_MAX_BYTES = 72;
const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// ASCII only: look-alike letters from other scripts cannot impersonate an existing name.
const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const EMAIL_LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TOP_LEVEL_LABEL = /^[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function required(field: string, value: string): void {
  if (value.length === 0) throw new InvalidFieldError(field, 'is required');
}

/** Returns the username unchanged: it is stored as given and compared case-insensitively. */
export function validUsername(value: string, field = 'username'): string {
  required(field, value);
  if (value.length < USERNAME_MIN_LENGTH) throw new InvalidFieldError(field, `must be at least ${USERNAME_MIN_LENGTH} characters`);
  if (value.length > USERNAME_MAX_LENGTH) throw new InvalidFieldError(field, `must be at most ${USERNAME_MAX_LENGTH} characters`);
  if (!USERNAME_PATTERN.test(value)) {
    throw new InvalidFieldError(field, 'may only contain ASCII letters, digits, "_", "." and "-", and must start with a letter or digit');
  }
  return value;
}

/** Returns the address lower-cased, the form in which it is stored and looked up. */
export function validEmail(value: string, field = 'email'): string {
  required(field, value);
  if (value.length > EMAIL_MAX_LENGTH) throw new InvalidFieldError(field, `must be at most ${EMAIL_MAX_LENGTH} characters`);
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const labels = value.slice(at + 1).split('.');
  const wellFormed =
    at > 0 &&
    local.length <= 64 &&
    EMAIL_LOCAL_PART.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    TOP_LEVEL_LABEL.test(labels[labels.length - 1] ?? '');
  if (!wellFormed) throw new InvalidFieldError(field, 'must be an ASCII address of the form name@example.com');
  return value.toLowerCase();
}

/** A new password that meets the length rules but is one that attackers try first. */
export class WeakPasswordError extends InvalidFieldError {
}

/** What a new password must not be: the account's own names. */
export interface PasswordContext {
  readonly username?: string;
  readonly email?: string;
}

/**
 * Rules for a new password (NIST SP 800-63B 5.1.1.2): 12 to 72 bytes of UTF-8, any characters but
 * NUL, no composition rules; not on the bundled common-password list, not a short pattern
 * repeated ("aaaaaaaaaaaa", "abcabcabcabc"), and not the username, the email or its local part.
 */
export function validNewPassword(value: string, field = 'password', context: PasswordContext = {}): string {
  required(field, value);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < PASSWORD_MIN_BYTES) throw new InvalidFieldError(field, `must be at least ${PASSWORD_MIN_BYTES} bytes of UTF-8`);
  if (bytes > PASSWORD_MAX_BYTES) throw new InvalidFieldError(field, `must be at most ${PASSWORD_MAX_BYTES} bytes of UTF-8`);
  // bcrypt's C core stops at the first NUL: "abc\0xyz" would be hashed as "abc".
  if (value.includes('\0')) throw new InvalidFieldError(field, 'must not contain NUL characters');
  const lower = value.toLowerCase();
  if (isCommonPassword(lower)) throw new WeakPasswordError(field, 'is on the list of common passwords that attackers try first: choose another');
  if (/^(.{1,3})\1+$/su.test(lower)) throw new WeakPasswordError(field, 'is a short pattern repeated: choose another');
  const email = context.email?.toLowerCase();
  const names = [context.username?.toLowerCase(), email, email?.slice(0, email.lastIndexOf('@'))];
  if (names.includes(lower)) throw new WeakPasswordError(field, 'must not be the username or the email address');
  return value;
}

/** A password presented (not chosen): only bounds, so that a wrong guess costs one bcrypt compare and reveals nothing about the rules. */
export function validPasswordInput(value: string, field = 'password'): string {
  required(field, value);
  if (Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES) throw new InvalidFieldError(field, `must be at most ${PASSWORD_MAX_BYTES} bytes of UTF-8`);
  if (value.includes('\0')) throw new InvalidFieldError(field, 'must not contain NUL characters');
  return value;
}

/** A username or an email address as typed to sign in or look up. */
export function validLogin(value: string, field = 'login'): string {
  required(field, value);
  if (value.length > EMAIL_MAX_LENGTH) throw new InvalidFieldError(field, `must be at most ${EMAIL_MAX_LENGTH} characters`);
  return value;
}

export function validRefreshToken(value: string, field = 'refresh_token'): string {
  required(field, value);
  if (!REFRESH_TOKEN_PATTERN.test(value)) throw new InvalidFieldError(field, 'is not a refresh token issued by this service');
  return value;
}

/** A UUID as this service issues them (user and session ids). */
export function validId(value: string, field: string): string {
  required(field, value);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) throw new InvalidFieldError(field, 'is not an id issued by this service');
  return value;
}

/**
 * Usernames nobody can sign up with: names people take for the operators'. The configured
 * AUTH_ADMIN_USERNAME is reserved as well (AuthPolicy.reservedUsernames).
 */
export const RESERVED_USERNAMES: readonly string[] = ['admin', 'administrator', 'root', 'superuser', 'system', 'support', 'security', 'operator', 'orderbook', 'auth', 'matching'];
