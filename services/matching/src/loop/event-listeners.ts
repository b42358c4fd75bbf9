import type { EngineEvent } from '@orderbook/engine';
import type { Logger } from '@orderbook/server-kit';

export type EventListener = (seq: number, events: readonly EngineEvent[]) => void;

/** The listeners of a command loop's events: one that throws does not keep the others from theirs. */
export class EventListeners {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly logger: Logger) {}

  /** Adds listener; returns what removes it. */
  add(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(seq: number, events: readonly EngineEvent[]): void {
    for (const listener of this.listeners) {
      try {
        listener(seq, events);
      } catch (err) {
        this.logger.error({ err, seq }, 'an event listener threw; the other listeners still get the events');
      }
    }
  }
}
