import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from './bench';
import { machineFacts } from './machine';
import { parseOptions, USAGE, UsageError } from './options';
import { renderHtmlReport } from './html-report';
import { renderReport, writeResultFile } from './report';

/** `make bench`: runs the benchmark, prints the report on stdout (progress on stderr) and writes the JSON result. */
async function main(argv: readonly string[]): Promise<void> {
  const cli = parseOptions(argv);
  if (cli.help) {
    process.stdout.write(USAGE);
    return;
  }
  // Ctrl-C must still stop the child servers: exiting normally runs the process-exit hook that kills them.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

  const machine = await machineFacts();
  const workDir = mkdtempSync(join(tmpdir(), 'orderbook-bench-'));
  const options = { ...cli.bench, workDir, ...(cli.quiet ? {} : { progress: process.stderr }) };
  const startedAt = new Date().toISOString();
  const result = await runBench(options).catch((err: unknown) => {
    process.stderr.write(`bench: server data and logs kept in ${workDir}\n`);
    throw err;
  });
  rmSync(workDir, { recursive: true, force: true });

  const command = ['make bench', ...(argv.length > 0 ? [`ARGS="${argv.join(' ')}"`] : [])].join(' ');
  process.stdout.write(renderReport(result, options, machine, command));
  const paths = writeResultFile(cli.outDir, { startedAt, command, machine, options: { ...cli.bench }, result }, renderHtmlReport(result, machine, command, startedAt));
  process.stdout.write(`JSON result: ${paths.json}\nHTML report: ${paths.html}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n(make bench ARGS="--help" lists the options)\n`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
