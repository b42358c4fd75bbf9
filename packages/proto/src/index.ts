import { join } from 'node:path';

export * as auth from './gen/orderbook/auth/v1/auth';
export * as matching from './gen/orderbook/matching/v1/matching';
export * as rpcStatus from './gen/google/rpc/status';
export * as rpcErrorDetails from './gen/google/rpc/error_details';

/** `buf build` output of proto/: the descriptors that server reflection serves. */
export const descriptorSetPath = join(__dirname, '..', 'descriptors.binpb');
