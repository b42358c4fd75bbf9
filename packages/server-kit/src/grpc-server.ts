import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, service as healthService } from 'grpc-health-check';
import { clientCertificateLog } from './client-certificate-log';
import { grpcError } from './grpc-errors';
import type { Logger } from './logger';
import { ReloadingTlsCredentials } from './reloading-tls-credentials';
import type { ServerTransport } from './server-transport-config';

export interface ServiceRegistration {
  /** Fully-qualified service name, for health status. */
  readonly name: string;
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly services: readonly ServiceRegistration[];
  readonly descriptorSetPath: string;
  readonly logger: Logger;
  readonly interceptors?: grpc.ServerInterceptor[];
  /** TLS and connection options; plaintext with grpc-js defaults when absent. */
  readonly transport?: ServerTransport;
  /** Health of every service when the server starts listening. */
  readonly initiallyServing: boolean;
}

export interface RunningGrpcServer {
  readonly server: grpc.Server;
  /** The bound port (differs from the requested one when that was 0). */
  readonly port: number;
  setServing(serving: boolean): void;
  /**
   * Sets the health of a named check beside the services (e.g. a dependency's feed). setServing(false)
   * turns it NOT_SERVING as well; setServing(true) leaves it as last set.
   */
  setCheck(name: string, serving: boolean): void;
  /** Stops accepting calls, waits up to graceMs for in-flight calls, then cancels what is left. */
  shutdown(graceMs: number): Promise<void>;
}

/** A grpc-js server with reflection (for grpcurl) and grpc.health.v1 next to the given services. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const tls = options.transport?.tls === undefined ? undefined : new ReloadingTlsCredentials(options.transport.tls, options.logger);
  const interceptors = [...(tls !== undefined && options.transport?.tls?.clientCaFile !== undefined ? [clientCertificateLog(options.logger)] : []), ...(options.interceptors ?? [])];
  const server = new grpc.Server({ ...options.transport?.options, interceptors });
  for (const service of options.services) server.addService(service.definition, service.implementation);

  const healthStatus = options.initiallyServing ? 'SERVING' : 'NOT_SERVING';
  const health = new HealthImplementation({ '': healthStatus });
  for (const service of options.services) health.setStatus(service.name, healthStatus);
  const healthWatches = addHealthService(server, health);

  const contract = protoLoader.loadFileDescriptorSetFromBuffer(readFileSync(options.descriptorSetPath));
  const healthDefinition = protoLoader.loadSync(healthProtoPath);
  new ReflectionService({ ...contract, ...healthDefinition }).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, tls ?? grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  }).catch((err: unknown) => {
    server.forceShutdown();
    throw err;
  });

  const stopWatchingTls = tls?.watch() ?? ((): void => undefined);
  const checks = new Set<string>();
  const setServing = (serving: boolean): void => {
    const value = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', value);
    for (const service of options.services) health.setStatus(service.name, value);
    if (!serving) for (const name of checks) health.setStatus(name, value);
  };
  const setCheck = (name: string, serving: boolean): void => {
    checks.add(name);
    health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };

  const shutdown = (graceMs: number): Promise<void> =>
    new Promise((resolve) => {
      stopWatchingTls();
      setServing(false);
      // Watch streams never end by themselves: end them after the NOT_SERVING update, or shutdown waits the whole grace.
      const ending = grpcError(grpc.status.UNAVAILABLE, 'the server is shutting down', { reason: 'SHUTTING_DOWN', retryDelayMs: 1000 });
      for (const watch of healthWatches) watch.emit('error', ending);
      healthWatches.clear();
      const timer = setTimeout(() => {
        options.logger.warn({ graceMs }, 'grace period over: cancelling remaining calls');
        server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  return { server, port, setServing, setCheck, shutdown };
}

/**
 * grpc.health.v1 from grpc-health-check, with its Watch streams kept in the returned set (until
 * the client leaves) so that shutdown can end them.
 */
function addHealthService(server: grpc.Server, health: HealthImplementation): Set<grpc.ServerWritableStream<unknown, unknown>> {
  let implementation: grpc.UntypedServiceImplementation | undefined;
  health.addToServer({ addService: (_definition: unknown, handlers: grpc.UntypedServiceImplementation) => (implementation = handlers) } as unknown as grpc.Server);
  const watch = implementation?.['watch'] as grpc.handleServerStreamingCall<unknown, unknown> | undefined;
  if (implementation === undefined || watch === undefined) throw new Error('grpc-health-check registered no Watch handler');
  const watches = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  server.addService(healthService as unknown as grpc.ServiceDefinition, {
    ...implementation,
    watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      watches.add(call);
      call.on('cancelled', () => watches.delete(call));
      watch(call);
    },
  });
  return watches;
}

/** The address a client on this machine dials to reach a server listening on host:port. */
export function dialableAddress(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '') return `127.0.0.1:${port}`;
  if (host === '::' || host === '[::]') return `[::1]:${port}`;
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
