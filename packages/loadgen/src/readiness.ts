import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

const HealthClient = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health');
const PROBE_DEADLINE_MS = 1000;

/** True when the server at address reports SERVING on grpc.health.v1 (the matching service listens before its journal is replayed). */
export function isServing(address: string, credentials = grpc.credentials.createInsecure()): Promise<boolean> {
  const client = new HealthClient(address, credentials);
  return new Promise<boolean>((resolve) => {
    client.Check({ service: '' }, { deadline: Date.now() + PROBE_DEADLINE_MS }, (err: grpc.ServiceError | null, response?: { status: string }) => {
      client.close();
      resolve(err === null && response?.status === 'SERVING');
    });
  });
}

/** True when a connection to address can be made (for the bare server, which has no health service). */
export function isListening(address: string): Promise<boolean> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<boolean>((resolve) => {
    client.waitForReady(Date.now() + PROBE_DEADLINE_MS, (err) => {
      client.close();
      resolve(err === undefined || err === null);
    });
  });
}
