/**
 * An engine fault: the engine found its own state inconsistent (a subtraction that would take a
 * balance or an order's lock below zero). Never the caller's mistake, so never a rejection: the
 * command loop stops and recovers from its journal rather than go on with money that a u64 would
 * have wrapped into existence.
 */
export class BalanceFaultError extends Error {
  override readonly name = 'BalanceFaultError';

  constructor(what: string, from: bigint | number, amount: bigint | number) {
    super(`${what}: taking ${amount} from ${from} would go below zero`);
  }
}
