/**
 * An engine fault: the engine found its own state inconsistent (a subtraction that would take a
 * balance or an order's lock below zero, or an addition that would take a balance past 2^64-1).
 * Never the caller's mistake, so never a rejection: the command loop stops and recovers from its
 * journal rather than go on with money that a u64 would have wrapped into existence or out of it.
 */
export class BalanceFaultError extends Error {
  override readonly name = 'BalanceFaultError';

  /** `amount` taken from `from` (default) or, with `adding`, added to it. */
  constructor(what: string, from: bigint | number, amount: bigint | number, adding = false) {
    super(adding ? `${what}: adding ${amount} to ${from} would go past 2^64-1` : `${what}: taking ${amount} from ${from} would go below zero`);
  }
}
