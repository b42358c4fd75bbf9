import { InvalidFieldError } from '@orderbook/server-kit';

/** Input rules of the auth API. Each check names the field it rejects; nothing echoes a password. */

const USERNAME_MIN_LENGTH = 3;
const USERNAME_MAX_LENGTH = 32;
const EMAIL_MAX_LENGTH = 254;
const PASSWORD_MIN_BYTES = 8;
/** bcrypt ignores everything after 72 bytes: longer passwords are refused, never silently truncated. */
const PASSWORD_MAX_BYTES = 72;
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

/** Rules for a new password. */
export function validNewPassword(value: string, field = 'password'): string {
  required(field, value);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < PASSWORD_MIN_BYTES) throw new InvalidFieldError(field, `must be at least ${PASSWORD_MIN_BYTES} bytes of UTF-8`);
  if (bytes > PASSWORD_MAX_BYTES) throw new InvalidFieldError(field, `must be at most ${PASSWORD_MAX_BYTES} bytes of UTF-8`);
  // bcrypt's C core stops at the first NUL: "abc\0xyz" would be hashed as "abc".
  if (value.includes('\0')) throw new InvalidFieldError(field, 'must not contain NUL characters');
  return value;
}

/** Sign-in input: only bounds, so that a wrong guess costs one bcrypt compare and reveals nothing about the rules. */
export function validSignIn(login: string, password: string): { login: string; password: string } {
  required('login', login);
  if (login.length > EMAIL_MAX_LENGTH) throw new InvalidFieldError('login', `must be at most ${EMAIL_MAX_LENGTH} characters`);
  required('password', password);
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    throw new InvalidFieldError('password', `must be at most ${PASSWORD_MAX_BYTES} bytes of UTF-8`);
  }
  if (password.includes('\0')) throw new InvalidFieldError('password', 'must not contain NUL characters');
  return { login, password };
}

export function validRefreshToken(value: string, field = 'refresh_token'): string {
  required(field, value);
  if (!REFRESH_TOKEN_PATTERN.test(value)) throw new InvalidFieldError(field, 'is not a refresh token issued by this service');
  return value;
}
