import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { listSnapshots } from '@orderbook/matching-service/src/storage/data-files';
import { recoverDataDir } from '@orderbook/matching-service/test/helpers';
import { LOAD_MARKET, LOAD_USERS } from '@orderbook/matching-service/test/random-load';

/**
 * Crash recovery at the command-loop level: a child process runs the loop under load and prints
 * every acknowledged command; it is SIGKILLed mid-load, and the data dir it leaves must hold every
 * acknowledged command. Three crashes in a row on the same data dir, each at a different point.
 */

interface AckedTrade {
  makerOrderId: number;
  takerOrderId: number;
  quantity: string;
}

type Fact =
  | { t: 'deposit'; seq: number; userId: string; asset: string; amount: string }
  | { t: 'placed'; userId: string; orderId: number; trades: AckedTrade[] }
  | { t: 'cancelled'; userId: string; orderId: number };

const CHILD = join(__dirname, 'children', 'crash-child.ts');

/**
 * Runs the child until it has acknowledged `acks` commands, then SIGKILLs it; returns the facts it
 * wrote. A last line cut short by the kill is dropped: the command it describes had not yet been
 * submitted to the journal when its line was being written.
 */
async function runAndKill(dataDir: string, seed: number, acks: number): Promise<Fact[]> {
  const factsPath = join(dataDir, '..', `facts-${seed}.jsonl`);
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(seed), factsPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let progress = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 0x0a && ++progress === acks) child.kill('SIGKILL');
  });
  const signal = await exited;
  expect(signal, `child died by itself: ${stderr}`).to.equal('SIGKILL');
  const text = readFileSync(factsPath, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const facts = complete.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Fact);
  expect(facts.filter((fact) => fact.t !== 'deposit').length).to.be.at.least(acks);
  return facts;
}

/** Checks the recovered state against the facts; returns the seq it recovered to. */
async function checkRecovered(dataDir: string, facts: readonly Fact[]): Promise<number> {
  const { engine } = await recoverDataDir(dataDir);

  // Every acknowledged order is there, with at least the fills acknowledged for it.
  const fills = new Map<number, { userId: string; quantity: bigint }>();
  const ownerOf = new Map<number, string>();
  for (const fact of facts) if (fact.t === 'placed') ownerOf.set(fact.orderId, fact.userId);
  for (const fact of facts) {
    if (fact.t === 'placed') {
      expect(engine.getOrder(fact.userId, fact.orderId), `acknowledged order ${fact.orderId}`).to.not.equal(undefined);
      for (const trade of fact.trades) {
        for (const orderId of [trade.makerOrderId, trade.takerOrderId]) {
          const userId = ownerOf.get(orderId);
          if (userId === undefined) continue;
          const filled = fills.get(orderId)?.quantity ?? 0n;
          fills.set(orderId, { userId, quantity: filled + BigInt(trade.quantity) });
        }
      }
    } else if (fact.t === 'cancelled') {
      const status = engine.getOrder(fact.userId, fact.orderId)?.status;
      expect(status, `acknowledged cancel of ${fact.orderId}`).to.equal('cancelled');
    }
  }
  for (const [orderId, { userId, quantity }] of fills) {
    const filled = engine.getOrder(userId, orderId)?.filled ?? 0n;
    expect(filled >= quantity, `order ${orderId} filled ${filled}, acknowledged fills ${quantity}`).to.equal(true);
  }

  // Every asset is conserved: the balances add up to the deposits the recovered state includes
  // (the acknowledged ones, and any that became durable without being acknowledged).
  const deposited = new Map<string, bigint>([[LOAD_MARKET.base, 0n], [LOAD_MARKET.quote, 0n]]);
  for (const fact of facts) {
    if (fact.t === 'deposit' && fact.seq <= engine.lastSeq()) {
      deposited.set(fact.asset, (deposited.get(fact.asset) ?? 0n) + BigInt(fact.amount));
    }
  }
  // The engine keeps balances unsigned: an underflow would not go negative but wrap to nearly
  // 2^64, so no single balance may exceed what was deposited of its asset in all.
  const held = new Map<string, bigint>([[LOAD_MARKET.base, 0n], [LOAD_MARKET.quote, 0n]]);
  for (const userId of LOAD_USERS) {
    for (const balance of engine.balances(userId)) {
      const most = deposited.get(balance.asset) ?? 0n;
      expect(balance.available + balance.locked <= most, `${userId} holds ${balance.available} + ${balance.locked} ${balance.asset} of ${most} deposited`).to.equal(true);
      held.set(balance.asset, (held.get(balance.asset) ?? 0n) + balance.available + balance.locked);
    }
  }
  expect(held).to.deep.equal(deposited);

  // Replaying from the older snapshot (a longer journal tail) reaches the same state.
  const copy = mkdtempSync(join(tmpdir(), 'crash-recovery-copy-'));
  try {
    cpSync(dataDir, copy, { recursive: true });
    const newest = (await listSnapshots(copy)).at(-1);
    if (newest) rmSync(newest.path);
    const replayed = await recoverDataDir(copy);
    expect(replayed.engine.stateHash()).to.equal(engine.stateHash());
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  return engine.lastSeq();
}

describe('crash recovery of the command loop (SIGKILL mid-load)', function () {
  this.timeout(120_000);
  let root: string;
  let dataDir: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'crash-recovery-'));
    dataDir = join(root, 'data');
    mkdirSync(dataDir);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  let facts: Fact[] = [];
  for (const [run, acks] of [2_000, 4_500, 3_000].entries()) {
    it(`keeps every acknowledged command after a kill at ${acks} acknowledgements (crash ${run + 1})`, async () => {
      facts.push(...(await runAndKill(dataDir, 1_000 + run, acks)));
      const lastSeq = await checkRecovered(dataDir, facts);
      // Deposits the crash lost never happened: the next run reuses their seqs.
      facts = facts.filter((fact) => fact.t !== 'deposit' || fact.seq <= lastSeq);
    });
  }
});
