#!/usr/bin/env node
import { stat } from 'node:fs/promises';
import { renderDataDirReport, verifyDataDir } from './storage/verify-data-dir';

/**
 * `make verify-data DIR=...`: checks a matching data directory offline (the service need not run,
 * and nothing is changed). Exit code 0 when recovery would start cleanly, 1 when the directory is
 * damaged, 2 when it cannot be read.
 */
async function main(args: readonly string[]): Promise<number> {
  const [dir] = args;
  if (args.length !== 1 || dir === undefined) {
    process.stderr.write('usage: verify-main.ts DATA_DIR   (e.g. make verify-data DIR=./data/matching)\n');
    return 2;
  }
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    process.stderr.write(`verify-data: ${dir} is not a directory\n`);
    return 2;
  }
  const report = await verifyDataDir(dir);
  process.stdout.write(renderDataDirReport(report));
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`verify-data: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
