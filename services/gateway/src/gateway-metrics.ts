import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ConnectionRefusal } from './connection-limits';

/** The gateway's Prometheus metrics: its answers, its refusals, the services' answers to it, and the process's own. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly answers: Counter<'status'>;
  private readonly refusedConnections: Counter<'limit'>;
  private readonly calls: Counter<'upstream' | 'code'>;

  constructor(openStreams: () => number) {
    collectDefaultMetrics({ register: this.registry });
    this.answers = new Counter({
      name: 'gateway_http_answers_total',
      help: 'HTTP answers by status (429: a per-address limit; 503/504: a service down or not answering; 413: a body too large). The 408 and 431 that Node sends itself are not counted.',
      labelNames: ['status'],
      registers: [this.registry],
    });
    this.refusedConnections = new Counter({
      name: 'gateway_connections_refused_total',
      help: 'Connections closed unanswered at a connection limit (GATEWAY_MAX_CONNECTIONS or GATEWAY_MAX_CONNECTIONS_PER_PEER).',
      labelNames: ['limit'],
      registers: [this.registry],
    });
    this.calls = new Counter({
      name: 'gateway_upstream_calls_total',
      help: 'Unary calls forwarded to a service, by service and gRPC status code (UNAVAILABLE or DEADLINE_EXCEEDED: it did not answer).',
      labelNames: ['upstream', 'code'],
      registers: [this.registry],
    });
    new Gauge({ name: 'gateway_event_streams_open', help: 'Open event streams (each holds one gRPC stream to a service).', registers: [this.registry], collect() {
      this.set(openStreams());
    } });
  }

  answered(status: number): void {
    this.answers.inc({ status: String(status) });
  }

  refused(limit: ConnectionRefusal): void {
    this.refusedConnections.inc({ limit: limit === 'total' ? 'GATEWAY_MAX_CONNECTIONS' : 'GATEWAY_MAX_CONNECTIONS_PER_PEER' });
  }

  called(upstream: string, code: string): void {
    this.calls.inc({ upstream, code });
  }
}
