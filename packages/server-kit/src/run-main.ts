import { ConfigError } from './config-table';

/**
 * Runs a service's entry point with the process's arguments. A configuration error exits with
 * status 2 and one line naming the problem; any other failure to start exits 1 with its stack.
 */
export function runMain(service: string, main: (args: readonly string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${service}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
