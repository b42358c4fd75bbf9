import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@orderbook/server-kit';

/** Where the lease lives and how long it lasts (MATCHING_LEASE_*). */
export interface LeaseConfig {
  /** The KV bucket (created if missing, with the TTL as its max age). */
  readonly bucket: string;
  readonly key: string;
  /** A lease not renewed within this expires in the bucket, and another node may take it. */
  readonly ttlMs: number;
  /** How often the holder renews (a third of the TTL leaves two renewals to fail before it stops). */
  readonly renewEveryMs: number;
  /** Replicas of the bucket when created here. */
  readonly replicas: number;
}

/** Who holds the lease: a writer id and the gRPC address that clients should send writes to. */
export interface LeaseHolder {
  readonly id: string;
  readonly address: string;
}

export interface LeaseEvents {
  /** The lease could not be renewed before the local deadline: stop accepting writes at once. */
  readonly onLost: (why: string) => void;
  readonly onRenewed?: () => void;
}

/**
 * The holder stops before the bucket can expire the lease: the TTL runs on the servers from when
 * they stored the renewal, which is after the renewal was sent, so a local deadline counted from
 * the sending time, shortened by this share, ends first.
 */
const DEADLINE_SHARE = 0.8;

/**
 * One leader at a time, for liveness: a key in a NATS KV bucket whose max age is the TTL. A node
 * takes the lease only with create() (which the server refuses while the key holds a live value),
 * renews it by update() on the revision it last wrote, and keeps a local monotonic deadline
 * (performance.now()): once a renewal cannot be confirmed before it, the node counts the lease as
 * lost, whatever the bucket says, before the TTL can run out on the servers. Fencing of the journal
 * (expected last sequence) stays the safety net if two nodes ever both think they lead.
 */
export class LeaderLease {
  private revision = 0;
  private deadline = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private events: LeaseEvents | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly config: LeaseConfig,
    private readonly self: LeaseHolder,
    private readonly logger: Logger,
  ) {}

  static async open(nc: NatsConnection, config: LeaseConfig, self: LeaseHolder, logger: Logger): Promise<LeaderLease> {
    const kv = await new Kvm(nc).create(config.bucket, { ttl: config.ttlMs, history: 1, replicas: config.replicas });
    return new LeaderLease(kv, config, self, logger);
  }

  /** The current holder as the bucket tells it (undefined: the lease is free). */
  async holder(): Promise<LeaseHolder | undefined> {
    const entry = await this.kv.get(this.config.key);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    try {
      const value = entry.json<Partial<LeaseHolder>>();
      return typeof value.id === 'string' && typeof value.address === 'string' ? { id: value.id, address: value.address } : undefined;
    } catch {
      return undefined;
    }
  }

  /** True while this node holds the lease and its local deadline has not passed. */
  isHeld(): boolean {
    return this.events !== undefined && performance.now() < this.deadline;
  }

  /** Takes the lease if it is free (create(): refused while another holds it) and starts renewing it. */
  async tryAcquire(events: LeaseEvents): Promise<boolean> {
    const sentAt = performance.now();
    try {
      this.revision = await this.kv.create(this.config.key, JSON.stringify(this.self));
    } catch (err) {
      this.logger.debug({ err }, 'lease: not acquired');
      return false;
    }
    this.events = events;
    this.extend(sentAt);
    this.renewTimer = setInterval(() => void this.renew(), this.config.renewEveryMs);
    this.logger.info({ bucket: this.config.bucket, key: this.config.key, revision: this.revision, ttlMs: this.config.ttlMs }, 'lease: acquired');
    return true;
  }

  private extend(sentAt: number): void {
    this.deadline = sentAt + this.config.ttlMs * DEADLINE_SHARE;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.checkDeadline(), Math.max(0, this.deadline - performance.now()));
  }

  private async renew(): Promise<void> {
    if (!this.checkDeadline()) return;
    const sentAt = performance.now();
    try {
      const revision = await this.kv.update(this.config.key, JSON.stringify(this.self), this.revision, Math.max(1, this.deadline - sentAt));
      if (this.events === undefined) return;
      this.revision = revision;
      this.extend(sentAt);
      this.events.onRenewed?.();
    } catch (err) {
      this.logger.warn({ err, msLeft: Math.round(this.deadline - performance.now()) }, 'lease: renewal failed');
      this.checkDeadline();
    }
  }

  /** Gives the lease up (lost) once the local deadline has passed; false then. */
  private checkDeadline(): boolean {
    if (this.events === undefined) return false;
    if (performance.now() < this.deadline) return true;
    this.lose('the lease could not be renewed before its local deadline');
    return false;
  }

  private lose(why: string): void {
    const { events } = this;
    this.stopRenewing();
    this.logger.error({ why }, 'lease: lost; no more writes are accepted');
    events?.onLost(why);
  }

  private stopRenewing(): void {
    clearInterval(this.renewTimer);
    clearTimeout(this.deadlineTimer);
    this.events = undefined;
    this.deadline = 0;
  }

  /** Stops renewing; if the lease was still held, deletes it so that a follower need not wait for the TTL. */
  async release(): Promise<void> {
    const held = this.isHeld();
    this.stopRenewing();
    if (!held) return;
    try {
      await this.kv.delete(this.config.key, { previousSeq: this.revision });
      this.logger.info({ key: this.config.key }, 'lease: released');
    } catch (err) {
      this.logger.warn({ err }, 'lease: releasing failed; it expires after its TTL');
    }
  }
}
