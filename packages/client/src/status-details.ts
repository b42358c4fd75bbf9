import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/**
 * The `grpc-status-details-bin` trailer: a google.rpc.Status whose details are google.protobuf.Any
 * messages. Decoded field by field from the standard wire format (field numbers of
 * google/rpc/status.proto and error_details.proto), so no generated google.rpc types are needed.
 */

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

const TYPE_PREFIX = 'type.googleapis.com/';
export const ERROR_INFO_TYPE = `${TYPE_PREFIX}google.rpc.ErrorInfo`;
export const BAD_REQUEST_TYPE = `${TYPE_PREFIX}google.rpc.BadRequest`;
export const RETRY_INFO_TYPE = `${TYPE_PREFIX}google.rpc.RetryInfo`;

export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** What the details of a google.rpc.Status say, of the kinds the services send. */
export interface StatusDetails {
  readonly code: number;
  readonly message: string;
  /** google.rpc.ErrorInfo.reason, e.g. INSUFFICIENT_FUNDS. */
  readonly reason?: string;
  readonly domain?: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** google.rpc.BadRequest.field_violations */
  readonly fieldViolations: readonly FieldViolation[];
  /** google.rpc.RetryInfo.retry_delay, in milliseconds. */
  readonly retryDelayMs?: number;
}

/** Calls `field` for each field of one message; fields it does not consume are skipped. */
function eachField(bytes: Uint8Array, field: (reader: BinaryReader, fieldNo: number, wireType: WireType) => boolean): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (!field(reader, fieldNo, wireType)) reader.skip(wireType, fieldNo);
  }
}

const lengthDelimited = (wireType: WireType): boolean => wireType === WireType.LengthDelimited;

function decodeAny(bytes: Uint8Array): { typeUrl: string; value: Uint8Array } {
  let typeUrl = '';
  let value: Uint8Array = new Uint8Array(0);
  eachField(bytes, (reader, fieldNo, wireType) => {
    if (fieldNo === 1 && lengthDelimited(wireType)) typeUrl = reader.string();
    else if (fieldNo === 2 && lengthDelimited(wireType)) value = reader.bytes();
    else return false;
    return true;
  });
  return { typeUrl, value };
}

function decodeMapEntry(bytes: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  eachField(bytes, (reader, fieldNo, wireType) => {
    if (fieldNo === 1 && lengthDelimited(wireType)) key = reader.string();
    else if (fieldNo === 2 && lengthDelimited(wireType)) value = reader.string();
    else return false;
    return true;
  });
  return [key, value];
}

function decodeErrorInfo(bytes: Uint8Array): { reason: string; domain: string; metadata: Record<string, string> } {
  const info = { reason: '', domain: '', metadata: {} as Record<string, string> };
  eachField(bytes, (reader, fieldNo, wireType) => {
    if (!lengthDelimited(wireType)) return false;
    if (fieldNo === 1) info.reason = reader.string();
    else if (fieldNo === 2) info.domain = reader.string();
    else if (fieldNo === 3) {
      const [key, value] = decodeMapEntry(reader.bytes());
      info.metadata[key] = value;
    } else return false;
    return true;
  });
  return info;
}

function decodeFieldViolation(bytes: Uint8Array): FieldViolation {
  let field = '';
  let description = '';
  eachField(bytes, (reader, fieldNo, wireType) => {
    if (fieldNo === 1 && lengthDelimited(wireType)) field = reader.string();
    else if (fieldNo === 2 && lengthDelimited(wireType)) description = reader.string();
    else return false;
    return true;
  });
  return { field, description };
}

function decodeBadRequest(bytes: Uint8Array): FieldViolation[] {
  const violations: FieldViolation[] = [];
  eachField(bytes, (reader, fieldNo, wireType) => {
    if (fieldNo !== 1 || !lengthDelimited(wireType)) return false;
    violations.push(decodeFieldViolation(reader.bytes()));
    return true;
  });
  return violations;
}

/** google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1 } in milliseconds. */
function decodeRetryInfo(bytes: Uint8Array): number {
  let ms = 0;
  eachField(bytes, (reader, fieldNo, wireType) => {
    if (fieldNo !== 1 || !lengthDelimited(wireType)) return false;
    let seconds = 0n;
    let nanos = 0;
    eachField(reader.bytes(), (duration, durationField, durationWire) => {
      if (durationField === 1 && durationWire === WireType.Varint) seconds = BigInt(duration.int64());
      else if (durationField === 2 && durationWire === WireType.Varint) nanos = duration.int32();
      else return false;
      return true;
    });
    ms = Number(seconds) * 1000 + Math.ceil(nanos / 1e6);
    return true;
  });
  return ms;
}

/** Decodes a serialized google.rpc.Status; throws on bytes that are not one. */
export function decodeStatusDetails(bytes: Uint8Array): StatusDetails {
  let code = 0;
  let message = '';
  let reason: string | undefined;
  let domain: string | undefined;
  let metadata: Record<string, string> = {};
  const fieldViolations: FieldViolation[] = [];
  let retryDelayMs: number | undefined;
  eachField(bytes, (reader, fieldNo, wireType) => {
    if (fieldNo === 1 && wireType === WireType.Varint) code = reader.int32();
    else if (fieldNo === 2 && lengthDelimited(wireType)) message = reader.string();
    else if (fieldNo === 3 && lengthDelimited(wireType)) {
      const detail = decodeAny(reader.bytes());
      if (detail.typeUrl === ERROR_INFO_TYPE) ({ reason, domain, metadata } = decodeErrorInfo(detail.value));
      else if (detail.typeUrl === BAD_REQUEST_TYPE) fieldViolations.push(...decodeBadRequest(detail.value));
      else if (detail.typeUrl === RETRY_INFO_TYPE) retryDelayMs = decodeRetryInfo(detail.value);
    } else return false;
    return true;
  });
  return {
    code,
    message,
    ...(reason === undefined ? {} : { reason }),
    ...(domain === undefined ? {} : { domain }),
    metadata,
    fieldViolations,
    ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
  };
}
