import type * as grpc from '@grpc/grpc-js';
import { decodeStatusDetails, STATUS_DETAILS_KEY } from '@orderbook/client';
import { expectStatus } from '@orderbook/test-support';

/** The ErrorInfo reason and the field it names (its metadata's, else the first BadRequest violation's), from the error's trailer. */
export async function refusal(promise: Promise<unknown>, code: grpc.status): Promise<[string | undefined, string | undefined]> {
  const error = await expectStatus(promise, code);
  const details = decodeStatusDetails(error.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer);
  return [details.reason, details.metadata.field ?? details.fieldViolations[0]?.field];
}
