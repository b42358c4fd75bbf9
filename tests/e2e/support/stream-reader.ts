import type * as grpc from '@grpc/grpc-js';

/** Reads a server stream in the background so that a test can wait for what it expects to arrive. */
export class StreamReader<T> {
  readonly messages: T[] = [];
  /** Set once the stream ended (its final status). */
  status: grpc.StatusObject | undefined;
  /** Pending until() checks; each returns true once it has settled. */
  private checks: Array<() => boolean> = [];

  constructor(readonly stream: grpc.ClientReadableStream<T>) {
    stream.on('data', (message: T) => {
      this.messages.push(message);
      this.wake();
    });
    stream.on('error', () => undefined);
    stream.on('status', (status: grpc.StatusObject) => {
      this.status = status;
      this.wake();
    });
  }

  /** Resolves when the messages so far satisfy `done`; rejects if the stream ends first. */
  until(done: (messages: readonly T[]) => boolean): Promise<readonly T[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (done(this.messages)) {
          resolve(this.messages);
          return true;
        }
        if (this.status !== undefined) {
          reject(new Error(`stream ended (${this.status.code}: ${this.status.details}) after ${this.messages.length} messages, before the expected ones`));
          return true;
        }
        return false;
      };
      if (!check()) this.checks.push(check);
    });
  }

  /** Resolves with the final status once the stream ends. */
  ended(): Promise<grpc.StatusObject> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.status === undefined) return false;
        resolve(this.status);
        return true;
      };
      if (!check()) this.checks.push(check);
    });
  }

  cancel(): void {
    this.stream.cancel();
  }

  private wake(): void {
    this.checks = this.checks.filter((check) => !check());
  }
}
