/**
 * A service's configuration as a table of environment variables: each has a default and a meaning
 * (the README's tables show the same rows), and a bad value stops start-up naming the variable.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

/** One documented environment variable. */
export interface ConfigVariable {
  readonly name: string;
  /** The value used when the variable is unset or blank ('' when unset means "off"). */
  readonly default: string;
  readonly meaning: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Reads the variables of one table from an environment; names outside the table do not compile. */
export class ConfigReader<Name extends string> {
  constructor(
    private readonly variables: readonly (ConfigVariable & { readonly name: Name })[],
    private readonly env: Env,
  ) {}

  /** The variable's value, trimmed; its default when unset or blank. */
  string(name: Name): string {
    return this.raw(name) ?? this.fallback(name);
  }

  /** The value, or undefined when unset or blank (for variables whose absence means "off"). */
  optionalString(name: Name): string | undefined {
    return this.raw(name);
  }

  int(name: Name, min: number, max: number): number {
    const value = this.string(name);
    if (!/^-?\d{1,15}$/.test(value)) throw new ConfigError(`${name}: expected an integer, got "${value}"`);
    const parsed = Number(value);
    if (parsed < min || parsed > max) throw new ConfigError(`${name}: must be between ${min} and ${max}, got ${parsed}`);
    return parsed;
  }

  oneOf<T extends string>(name: Name, allowed: readonly T[]): T {
    const value = this.string(name);
    const found = allowed.find((candidate) => candidate === value);
    if (found === undefined) throw new ConfigError(`${name}: must be one of ${allowed.join(', ')}, got "${value}"`);
    return found;
  }

  logLevel(name: Name): LogLevel {
    return this.oneOf(name, LOG_LEVELS);
  }

  private raw(name: Name): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  private fallback(name: Name): string {
    const variable = this.variables.find((v) => v.name === name);
    if (variable === undefined) throw new Error(`${name} is not in the configuration table`);
    return variable.default;
  }
}
