import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

/** A grpc.health.v1 client from the service definition grpc-health-check ships (no generated code). */
const HealthClient = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health');

export class Health {
  private readonly client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  constructor(address: string) {
    this.client = new HealthClient(address, grpc.credentials.createInsecure()) as unknown as typeof this.client;
  }

  check(service = ''): Promise<string> {
    return new Promise((resolve, reject) =>
      this.client['Check']({ service }, (err: grpc.ServiceError | null, response: { status: string }) => (err ? reject(err) : resolve(response.status))),
    );
  }

  /** The Watch stream: every status the server reports for the service. */
  watch(service = ''): grpc.ClientReadableStream<{ status: string }> {
    return this.client['Watch']({ service }) as grpc.ClientReadableStream<{ status: string }>;
  }

  close(): void {
    this.client.close();
  }
}
