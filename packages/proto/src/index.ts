import { basename, dirname, join } from 'node:path';

export * as auth from './gen/orderbook/auth/v1/auth';
export * as matching from './gen/orderbook/matching/v1/matching';
export * as rpcStatus from './gen/google/rpc/status';
export * as rpcErrorDetails from './gen/google/rpc/error_details';
export { useAsciiTextEncoding } from './ascii-text-encoding';

/** The package's root: one level above src/ (TypeScript), two above dist/src/ (compiled). */
const PACKAGE_DIR = basename(dirname(__dirname)) === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');

/** `buf build` output of proto/: the descriptors that server reflection serves. */
export const descriptorSetPath = join(PACKAGE_DIR, 'descriptors.binpb');
