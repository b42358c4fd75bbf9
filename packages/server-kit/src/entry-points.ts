import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where a package's files are, whether this process runs its TypeScript sources (tests, through
 * tsx) or the compiled JavaScript in dist/ (make run, make bench, the bin entries).
 */

/** The directory of the package that holds `dir` (the nearest one with a package.json). */
export function packageDir(dir: string): string {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, 'package.json'))) return current;
    if (dirname(current) === current) throw new Error(`no package.json above ${dir}`);
  }
}

/** How node runs a TypeScript entry point: workspace packages resolve to their sources (export condition "orderbook-ts"), tsx compiles them. */
export const TYPESCRIPT_NODE_ARGS: readonly string[] = ['--conditions=orderbook-ts', '--import', 'tsx'];

/** True when this process runs compiled JavaScript (this very module is dist/...js). */
export const RUNNING_COMPILED = __filename.endsWith('.js');

/**
 * The node arguments that run a package's entry point, e.g. ('services/auth', 'src/main'): the
 * compiled dist/src/main.js with plain node, or src/main.ts through tsx when this process runs
 * TypeScript.
 */
export function entryPointArgs(packageDirectory: string, entry: string): string[] {
  return RUNNING_COMPILED ? [join(packageDirectory, 'dist', `${entry}.js`)] : [...TYPESCRIPT_NODE_ARGS, join(packageDirectory, `${entry}.ts`)];
}
