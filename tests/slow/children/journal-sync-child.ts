/**
 * Child of journal-sync.test.ts, run under strace: opens the command loop exactly as the server
 * does (openCommandLoop: the production journal and its default sync) and keeps several clients
 * submitting deposits, so that batches overlap and segments roll. Each command's answer is printed
 * as "ack <seq>" with one write(2) to stdout the moment it arrives, so the trace shows when each
 * acknowledgement left relative to the journal's writes and syncs.
 */
import { writeSync } from 'node:fs';
import { openCommandLoop } from '@orderbook/matching-service/src/loop/open-command-loop';
import type { CommandLoop } from '@orderbook/matching-service/src/loop/command-loop-api';
import { silentLogger } from '@orderbook/matching-service/test/helpers';
import { LOAD_ENGINE_CONFIG } from '@orderbook/matching-service/test/random-load';

/** Small, so that snapshots roll the journal to new segment files during the run. */
const SNAPSHOT_EVERY = 50;

async function client(loop: CommandLoop, index: number, commands: number): Promise<void> {
  for (let i = 0; i < commands; i++) {
    const answer = loop.submit({ kind: 'deposit', userId: `user-${index}`, asset: 'USD', amount: 1n });
    // submit() applies the command at once: its seq is known before it is durable.
    const seq = loop.queries.lastSeq();
    const result = await answer;
    if (!result.ok) throw new Error(`deposit ${seq} was rejected: ${result.error.message}`);
    writeSync(1, `ack ${seq}\n`);
  }
}

async function main(): Promise<void> {
  const [dataDir, clients, commandsPerClient] = process.argv.slice(2);
  if (!dataDir || !clients || !commandsPerClient) throw new Error('usage: journal-sync-child.ts <dataDir> <clients> <commandsPerClient>');
  const loop = await openCommandLoop({ dataDir, engineConfig: LOAD_ENGINE_CONFIG, maxQueueDepth: 1_000, snapshotEvery: SNAPSHOT_EVERY, logger: silentLogger });
  await Promise.all(Array.from({ length: Number(clients) }, (_, i) => client(loop, i, Number(commandsPerClient))));
  await loop.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
