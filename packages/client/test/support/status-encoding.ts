import { Metadata, type ServiceError, type status } from '@grpc/grpc-js';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/** What a test server puts in a google.rpc.Status, encoded with @bufbuild/protobuf's writer. */
export interface RichStatus {
  readonly code: status;
  readonly message: string;
  readonly reason?: string;
  readonly domain?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly fieldViolations?: ReadonlyArray<{ readonly field: string; readonly description: string }>;
  readonly retryDelay?: { readonly seconds: number; readonly nanos: number };
  /** Extra Any details of a type the client does not know. */
  readonly unknownDetails?: ReadonlyArray<{ readonly typeUrl: string; readonly value: Uint8Array }>;
}

function any(writer: BinaryWriter, typeUrl: string, value: Uint8Array): void {
  writer.tag(3, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(typeUrl).tag(2, WireType.LengthDelimited).bytes(value).join();
}

export function encodeStatus(rich: RichStatus): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.Varint).int32(rich.code).tag(2, WireType.LengthDelimited).string(rich.message);
  if (rich.reason !== undefined) {
    const info = new BinaryWriter().tag(1, WireType.LengthDelimited).string(rich.reason).tag(2, WireType.LengthDelimited).string(rich.domain ?? 'orderbook');
    for (const [key, value] of Object.entries(rich.metadata ?? {})) {
      info.tag(3, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(key).tag(2, WireType.LengthDelimited).string(value).join();
    }
    any(writer, 'type.googleapis.com/google.rpc.ErrorInfo', info.finish());
  }
  for (const detail of rich.unknownDetails ?? []) any(writer, detail.typeUrl, detail.value);
  if (rich.fieldViolations !== undefined) {
    const badRequest = new BinaryWriter();
    for (const violation of rich.fieldViolations) {
      badRequest.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(violation.field).tag(2, WireType.LengthDelimited).string(violation.description).join();
    }
    any(writer, 'type.googleapis.com/google.rpc.BadRequest', badRequest.finish());
  }
  if (rich.retryDelay !== undefined) {
    const retryInfo = new BinaryWriter().tag(1, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(rich.retryDelay.seconds).tag(2, WireType.Varint).int32(rich.retryDelay.nanos).join();
    any(writer, 'type.googleapis.com/google.rpc.RetryInfo', retryInfo.finish());
  }
  return writer.finish();
}

/** A server-side error carrying the status as grpc-js sends trailers: grpc-status-details-bin. */
export function richServiceError(rich: RichStatus): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus(rich)));
  return { code: rich.code, details: rich.message, metadata };
}
