import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { service as healthService } from 'grpc-health-check';
import pino from 'pino';
import { descriptorSetPath, rpcErrorDetails } from '@orderbook/proto';
import { startGrpcServer } from '../src/grpc-server';
import { statusDetailsOf } from '../src/status-details';

const HealthClient = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health');

describe('gRPC server shutdown', () => {
  it('ends health Watch streams (NOT_SERVING, then UNAVAILABLE with SHUTTING_DOWN) instead of waiting the grace period for them', async function () {
    this.timeout(20_000);
    const server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [], descriptorSetPath, logger: pino({ level: 'silent' }), initiallyServing: true });
    const client = new HealthClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as Record<string, (request: unknown) => grpc.ClientReadableStream<{ status: string }>> & grpc.Client;
    try {
      const watch = client['Watch']!({ service: '' });
      const statuses: string[] = [];
      watch.on('data', (message: { status: string }) => statuses.push(message.status));
      watch.on('error', () => undefined);
      const ended = new Promise<grpc.StatusObject>((resolve) => watch.on('status', resolve));
      await new Promise<void>((resolve) => watch.once('data', () => resolve()));
      // A grace far beyond the test's timeout: only ending the watch lets shutdown finish in time.
      await server.shutdown(60_000);
      const status = await ended;
      expect(status.code).to.equal(grpc.status.UNAVAILABLE);
      const [errorInfo] = statusDetailsOf(status)?.details ?? [];
      expect(rpcErrorDetails.ErrorInfo.decode(errorInfo!.value).reason).to.equal('SHUTTING_DOWN');
      expect(statuses).to.deep.equal(['SERVING', 'NOT_SERVING']);
    } finally {
      client.close();
    }
  });
});
