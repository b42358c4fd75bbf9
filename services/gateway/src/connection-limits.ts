import type { Socket } from 'node:net';
import { unmapped, type Logger } from '@orderbook/server-kit';
import { Slots } from './limits';

export type ConnectionRefusal = 'total' | 'peer';

/**
 * Open HTTP connections, in total and per client IP address, counted as they open and close. A
 * connection past a limit is closed before a byte is read: at that point there is no request to
 * answer, and answering would cost what the limit saves. Trusted proxies carry many clients'
 * connections, so they are counted in the total only.
 */
export class ConnectionLimits {
  private readonly slots: Slots;

  constructor(
    maxTotal: number,
    maxPerPeer: number,
    private readonly isProxy: (address: string) => boolean,
  ) {
    this.slots = new Slots(maxPerPeer, maxTotal);
  }

  /** Counts the socket until it closes, or destroys it and says which limit it hit. */
  admit(socket: Socket): ConnectionRefusal | undefined {
    const address = unmapped(socket.remoteAddress ?? 'unknown');
    const slot = this.slots.admit(address, !this.isProxy(address));
    if (!slot.admitted) {
      socket.destroy();
      return slot.scope;
    }
    socket.once('close', slot.leave);
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
