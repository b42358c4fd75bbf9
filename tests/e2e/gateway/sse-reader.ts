/** One Server-Sent Event as a client parses it. */
export interface SseEvent {
  readonly id?: string;
  readonly event: string;
  readonly data: any; // the JSON the gateway sent
}

/** Reads an event stream over fetch (as the console does: EventSource cannot send Authorization). */
export class SseReader {
  private readonly events: SseEvent[] = [];
  private waiters: (() => void)[] = [];
  private buffer = '';
  private done = false;
  /** The JSON body of an answer that is not an event stream (an error). */
  errorJson: any; // google.rpc.Status JSON as sent

  private constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly controller: AbortController,
  ) {}

  /** Opens the stream; a non-2xx answer is returned with its JSON body instead of events. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const controller = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    const reader = new SseReader(response.status, response.headers, controller);
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
      reader.errorJson = JSON.parse(await response.text());
      return reader;
    }
    void reader.pump(response.body!);
    return reader;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          this.parse(block);
        }
      }
    } catch {
      // Aborted by close(), or the server ended the connection.
    }
    this.done = true;
    this.wake();
  }

  private parse(block: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const [field, ...rest] = line.split(':');
      const value = rest.join(':').replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    this.events.push({ ...(id === undefined ? {} : { id }), event, data: JSON.parse(data.join('\n')) });
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until count events have arrived (or the stream ended) and returns them all. */
  async take(count: number, timeoutMs = 10_000): Promise<SseEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count && !this.done) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} events, got ${this.events.length}: ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events.slice();
  }

  get ended(): boolean {
    return this.done;
  }

  close(): void {
    this.controller.abort();
  }
}
