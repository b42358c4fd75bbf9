/**
 * Child process of crash-recovery.test.ts: runs a command loop on the data dir given as argv[2]
 * under a seeded random load (seed argv[3]) from several concurrent clients until it is killed.
 * Appends one JSON line per fact the parent checks after the crash to the file argv[4]:
 *   {"t":"deposit", seq, userId, asset, amount}    a deposit was applied at seq (printed before it is durable)
 *   {"t":"placed", userId, orderId, trades}         a placement was acknowledged (durable)
 *   {"t":"cancelled", userId, orderId}              a cancel was acknowledged (durable)
 */
import { openSync, writeSync } from 'node:fs';
import { openCommandLoop } from '@orderbook/matching-service/src/loop/open-command-loop';
import type { CommandLoop } from '@orderbook/matching-service/src/loop/command-loop-api';
import { silentLogger } from '@orderbook/matching-service/test/helpers';
import { LOAD_ENGINE_CONFIG, RandomLoad } from '@orderbook/matching-service/test/random-load';

const CLIENTS = 8;
/** Small enough that snapshots, segment rolls and pruning all happen before the kill. */
const SNAPSHOT_EVERY = 700;

let factsFile = -1;

/**
 * Facts go to a regular file with write(2): the line is in the page cache, where it survives the
 * SIGKILL, before the command it describes can reach the journal. (A pipe would not do: once the
 * parent reads slower than the child writes, Node queues stdout in the process and the kill drops
 * the queue.) Stdout only carries one newline per acknowledgement, for the parent to count.
 */
function print(fact: Record<string, unknown>): void {
  const line = JSON.stringify(fact, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  writeSync(factsFile, `${line}\n`);
  if (fact.t !== 'deposit') process.stdout.write('\n');
}

async function client(loop: CommandLoop, load: RandomLoad): Promise<never> {
  for (;;) {
    const input = load.next();
    const before = loop.queries.lastSeq();
    const answer = loop.submit(input);
    // submit() applies the command synchronously, so the seq it took is known before it is durable.
    if (input.kind === 'deposit' && loop.queries.lastSeq() === before + 1) {
      print({ t: 'deposit', seq: before + 1, userId: input.userId, asset: input.asset, amount: input.amount });
    }
    const result = await answer;
    load.observe(input, result);
    if (!result.ok) continue;
    const { value } = result;
    if (value.kind === 'placed') {
      const trades = value.trades.map(({ makerOrderId, takerOrderId, quantity }) => ({
        makerOrderId,
        takerOrderId,
        quantity,
      }));
      print({ t: 'placed', userId: value.order.userId, orderId: value.order.orderId, trades });
    } else if (value.kind === 'cancelled') {
      print({ t: 'cancelled', userId: value.order.userId, orderId: value.order.orderId });
    }
  }
}

async function main(): Promise<void> {
  const [dataDir, seed, factsPath] = process.argv.slice(2);
  if (!dataDir || !seed || !factsPath) throw new Error('usage: crash-child.ts <dataDir> <seed> <factsFile>');
  factsFile = openSync(factsPath, 'a');
  const engineConfig = LOAD_ENGINE_CONFIG;
  const loop = await openCommandLoop({ dataDir, engineConfig, maxQueueDepth: 1_000, snapshotEvery: SNAPSHOT_EVERY, logger: silentLogger });
  const load = new RandomLoad(Number(seed));
  await Promise.all(Array.from({ length: CLIENTS }, () => client(loop, load)));
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
