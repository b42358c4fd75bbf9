import { status, type sendUnaryData, type ServiceDefinition, type UntypedHandleCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/** The auth service's Prometheus metrics: every unary call's outcome, and the process's own. */
export class AuthMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'method' | 'code'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.calls = new Counter({
      name: 'auth_rpcs_total',
      help: 'Unary calls answered, by method and gRPC status code (SignIn with UNAUTHENTICATED is a failed sign-in, with RESOURCE_EXHAUSTED a throttled one).',
      labelNames: ['method', 'code'],
      registers: [this.registry],
    });
  }

  /** The implementation with each unary handler counting its answers; streaming handlers unchanged. */
  counting(definition: ServiceDefinition, implementation: UntypedServiceImplementation): UntypedServiceImplementation {
    const counted: UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(implementation)) {
      const method = definition[name];
      counted[name] = method === undefined || method.requestStream || method.responseStream ? handler : this.countingUnary(method.path.split('/').pop() ?? name, handler);
    }
    return counted;
  }

  private countingUnary(method: string, handler: UntypedHandleCall): UntypedHandleCall {
    const unary = handler as (call: unknown, callback: sendUnaryData<unknown>) => void;
    return ((call: unknown, callback: sendUnaryData<unknown>) =>
      unary(call, (err, ...rest) => {
        this.calls.inc({ method, code: err ? (status[err.code ?? status.UNKNOWN] ?? 'UNKNOWN') : 'OK' });
        callback(err, ...rest);
      })) as UntypedHandleCall;
  }
}
