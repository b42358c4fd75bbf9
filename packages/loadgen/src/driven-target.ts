import { fundingFor } from './bench';
import { GeneratorPool } from './generator-pool';
import type { EntryKind, PhaseCommand } from './generator-thread';
import { startOurs, type OursTarget } from './targets';
import { DEFAULT_MIX } from './workload';

/** auth + matching with make bench's defaults (3 markets, 16 funded traders) and the generator threads that drive them. */
export interface DrivenTarget {
  readonly target: OursTarget;
  readonly pool: GeneratorPool;
}

const MARKETS = ['BTC-USD', 'ETH-USD', 'SOL-USD'];
const DRAIN_MS = 15_000;

/** Starts the services of `root` (this checkout when absent) in workDir, and 2 generator threads × 2 channels for `concurrency` workers. */
export async function startDriven(workDir: string, concurrency: number, root?: string): Promise<DrivenTarget> {
  const target = await startOurs({ workDir, markets: MARKETS, users: 16, funding: fundingFor(MARKETS), ...(root === undefined ? {} : { root }) });
  const pool = new GeneratorPool(
    {
      workers: concurrency,
      seed: 1,
      workload: { markets: MARKETS, mix: DEFAULT_MIX, maxOpenOrders: 200 },
      entry: { address: target.address, channels: 2, tokens: target.tokens, deadlineMs: 10_000 },
    },
    2,
  );
  return { target, pool };
}

export function closedLoop(entry: EntryKind, concurrency: number, seconds: number): PhaseCommand {
  return { entry, mode: 'closed-loop', loop: { concurrency, durationMs: seconds * 1000, maxRequests: 5_000_000, drainMs: DRAIN_MS } };
}
