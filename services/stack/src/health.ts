import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

const HealthClient = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'grpc.health.v1.Health');

interface CheckResponse {
  readonly status: string;
}

/** The overall health status of the server at address ('' service), or the error that prevented a check. */
function check(address: string, deadlineMs: number): Promise<string> {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    client.Check({ service: '' }, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, response: CheckResponse) => {
      client.close();
      if (err) reject(err);
      else resolve(response.status);
    });
  });
}

/** Polls probe until it says true; rejects when `abandon` resolves first (the process died) with its reason. */
async function pollUntil(probe: () => Promise<boolean>, abandon: Promise<string>, pollMs: number): Promise<void> {
  let gaveUp: string | undefined;
  void abandon.then((reason) => (gaveUp = reason));
  for (;;) {
    if (gaveUp !== undefined) throw new Error(gaveUp);
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Resolves once the gRPC server at address reports SERVING (see pollUntil). */
export function waitUntilServing(address: string, abandon: Promise<string>, pollMs = 250): Promise<void> {
  return pollUntil(async () => (await check(address, 1000).catch(() => 'UNREACHABLE')) === 'SERVING', abandon, pollMs);
}

/** Resolves once an HTTP GET of url answers 200 (see pollUntil). */
export function waitUntilHttpServing(url: string, abandon: Promise<string>, pollMs = 250): Promise<void> {
  return pollUntil(async () => (await fetch(url, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.status === 200, abandon, pollMs);
}
