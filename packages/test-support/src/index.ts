export * from './grpc-client';
export * from './waiting';
export * from './test-pki';
