import { statfs } from 'node:fs/promises';
import type { Logger } from '@orderbook/server-kit';

/** Free bytes available to the service in the file system holding dir. A seam for tests. */
export type MeasureFreeSpace = (dir: string) => Promise<number>;

const measureWithStatfs: MeasureFreeSpace = async (dir) => {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
};

export interface DiskSpaceOptions {
  readonly dir: string;
  /** Below this many free bytes, commands are refused; 0 turns the check off. */
  readonly reserveBytes: number;
  readonly checkIntervalMs: number;
  readonly logger: Logger;
  readonly measure?: MeasureFreeSpace;
}

/**
 * Watches the free space of the data directory's file system, so that the service refuses new
 * commands while it is below the reserve (reads and streams go on) instead of running into ENOSPC
 * mid-write, and takes them again by itself once space returns. Measured at start and every
 * checkIntervalMs; in between, what the journal wrote is subtracted, so a burst of writes cannot
 * run past the reserve unseen.
 */
export class DiskSpace {
  private free = Infinity;
  private low = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly measure: MeasureFreeSpace;

  private constructor(private readonly options: DiskSpaceOptions) {
    this.measure = options.measure ?? measureWithStatfs;
  }

  /** Measures once (so that the first command is already checked), then keeps measuring. */
  static async watch(options: DiskSpaceOptions): Promise<DiskSpace> {
    const space = new DiskSpace(options);
    await space.check();
    space.timer = setInterval(() => void space.check(), options.checkIntervalMs);
    space.timer.unref();
    return space;
  }

  get reserveBytes(): number {
    return this.options.reserveBytes;
  }

  get retryDelayMs(): number {
    return this.options.checkIntervalMs;
  }

  freeBytes(): number {
    return this.free;
  }

  isLow(): boolean {
    return this.low;
  }

  /** Bytes just written to the directory. */
  wrote(bytes: number): void {
    this.free -= bytes;
    this.update();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    try {
      this.free = await this.measure(this.options.dir);
    } catch (err) {
      this.options.logger.error({ err, dir: this.options.dir }, 'could not measure free disk space; keeping the last measurement');
      return;
    }
    this.update();
  }

  private update(): void {
    const low = this.options.reserveBytes > 0 && this.free < this.options.reserveBytes;
    if (low === this.low) return;
    this.low = low;
    const facts = { dir: this.options.dir, freeBytes: this.free, reserveBytes: this.options.reserveBytes };
    if (low) this.options.logger.error(facts, 'free disk space is below the reserve (MATCHING_DISK_RESERVE_BYTES): refusing commands, serving reads, until space returns');
    else this.options.logger.warn(facts, 'free disk space is above the reserve again: accepting commands');
  }
}
