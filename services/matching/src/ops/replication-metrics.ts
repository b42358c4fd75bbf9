import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReplicationObserver, Role } from '../loop/replicated-loop';

const ROLES: readonly Role[] = ['leader', 'follower'];

/**
 * The replication's metrics (with the JetStream journal), in the service's registry: the role,
 * the lease, promotions, and how far behind the stream a follower is.
 */
export function replicationMetrics(registry: Registry): ReplicationObserver {
  const registers = [registry];
  const role = new Gauge({ name: 'matching_replication_role', help: '1 for the role this instance has now (leader: holds the lease and takes commands; follower: applies the stream, serves reads), 0 for the other.', labelNames: ['role'], registers });
  const renewals = new Counter({ name: 'matching_lease_renewals_total', help: 'Renewals of the leader lease confirmed by NATS (a leader renews every MATCHING_LEASE_RENEW_MS).', registers });
  const lost = new Counter({ name: 'matching_lease_lost_total', help: 'Times this instance lost the lease while leading (no renewal confirmed in time): it stopped taking commands and restarted as a follower.', registers });
  const promotions = new Counter({ name: 'matching_promotions_total', help: 'Times this instance took the lease and became the leader (at start or as a follower taking over).', registers });
  const lag = new Gauge({ name: 'matching_replication_lag_messages', help: 'Stream messages (batches of commands) a follower has not applied yet, as of its last look at the stream; 0 on the leader.', registers });
  const applied = new Gauge({ name: 'matching_replication_applied_seq', help: 'Seq of the last command this follower applied from the stream.', registers });
  // The lag gauge keeps its last value while reads fail; these tell a follower that cannot read.
  const caughtUp = new Gauge({ name: 'matching_replication_caught_up_timestamp_seconds', help: 'Unix time at which this follower last read the stream to its end (0: never, or never a follower).', registers });
  const readFailures = new Counter({ name: 'matching_replication_read_failures_total', help: 'Failed reads of the stream or the lease by this follower (each is retried; a NATS server gone or a stalled fetch).', registers });
  return {
    role(now: Role): void {
      for (const r of ROLES) role.set({ role: r }, r === now ? 1 : 0);
      if (now === 'leader') lag.set(0);
    },
    applied(commandSeq: number, streamSeq: number, lastStreamSeq: number): void {
      applied.set(commandSeq);
      lag.set(Math.max(0, lastStreamSeq - streamSeq));
    },
    caughtUp: () => caughtUp.set(Date.now() / 1000),
    readFailed: () => readFailures.inc(),
    promoted: () => promotions.inc(),
    leaseRenewed: () => renewals.inc(),
    leaseLost: () => lost.inc(),
  };
}
