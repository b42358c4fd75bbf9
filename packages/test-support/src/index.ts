export * from './grpc-client';
export * from './waiting';
