import type { Socket } from 'node:net';
import { unmapped, type Logger } from '@orderbook/server-kit';

export type ConnectionRefusal = 'total' | 'peer';

/**
 * Open HTTP connections, in total and per client IP address, counted as they open and close. A
 * connection past a limit is closed before a byte is read: at that point there is no request to
 * answer, and answering would cost what the limit saves. Trusted proxies carry many clients'
 * connections, so they are counted in the total only.
 */
export class ConnectionLimits {
  private readonly perPeer = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerPeer: number,
    private readonly isProxy: (address: string) => boolean,
  ) {}

  /** Counts the socket until it closes, or destroys it and says which limit it hit. */
  admit(socket: Socket): ConnectionRefusal | undefined {
    const address = unmapped(socket.remoteAddress ?? 'unknown');
    const counted = !this.isProxy(address);
    const mine = this.perPeer.get(address) ?? 0;
    const refusal = this.total >= this.maxTotal ? 'total' : counted && mine >= this.maxPerPeer ? 'peer' : undefined;
    if (refusal !== undefined) {
      socket.destroy();
      return refusal;
    }
    this.total += 1;
    if (counted) this.perPeer.set(address, mine + 1);
    socket.once('close', () => {
      this.total -= 1;
      if (!counted) return;
      const remaining = (this.perPeer.get(address) ?? 1) - 1;
      if (remaining === 0) this.perPeer.delete(address);
      else this.perPeer.set(address, remaining);
    });
    return undefined;
  }
}

/** Refused connections are logged at most this often, with how many there were: a flood does not flood the log too. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export class RefusalLog {
  private refused = 0;
  private lastLogMs = -Infinity;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  note(refusal: ConnectionRefusal, address: string | undefined): void {
    this.refused += 1;
    const now = this.now();
    if (now - this.lastLogMs < REFUSAL_LOG_INTERVAL_MS) return;
    const limit = refusal === 'total' ? 'GATEWAY_MAX_CONNECTIONS' : 'GATEWAY_MAX_CONNECTIONS_PER_PEER';
    this.logger.warn({ refused: this.refused, limit, address }, `connections closed unanswered: ${limit} reached`);
    this.refused = 0;
    this.lastLogMs = now;
  }
}
