/** Configuration from environment variables: every variable has a default and a bad value stops start-up with its name. */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

/** One documented environment variable: services list theirs, and the README's tables show them. */
export interface ConfigVariable {
  readonly name: string;
  /** The value used when the variable is unset or blank ('' when unset means "off"). */
  readonly default: string;
  readonly meaning: string;
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function stringVar(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function optionalStringVar(env: Env, name: string): string | undefined {
  return raw(env, name);
}

export function intVar(env: Env, name: string, fallback: number, bounds: { min: number; max: number }): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d{1,15}$/.test(value)) throw new ConfigError(`${name}: expected an integer, got "${value}"`);
  const parsed = Number(value);
  if (parsed < bounds.min || parsed > bounds.max) {
    throw new ConfigError(`${name}: must be between ${bounds.min} and ${bounds.max}, got ${parsed}`);
  }
  return parsed;
}

export function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name}: expected true or false, got "${value}"`);
}

export function enumVar<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${name}: must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}
