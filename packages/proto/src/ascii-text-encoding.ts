import { configureTextEncoding, getTextEncoding } from '@bufbuild/protobuf/wire';

/** Strings up to this long are tried as ASCII in JavaScript; longer ones go to TextEncoder at once. */
const SHORT_STRING = 128;
let configured = false;

/**
 * Makes the generated encoders (protobuf-es BinaryWriter, through its public configureTextEncoding)
 * turn short ASCII strings into bytes in JavaScript instead of calling TextEncoder. The strings of
 * the order messages (decimals, symbols, ids) are short and ASCII, and the native call costs more
 * than the copy: measured in the matching service's profile under `make bench`, TextEncoder was
 * ~7 µs of every OrderSession order. Any other string (non-ASCII, long) is encoded by TextEncoder
 * as before, so the bytes are the same either way. Decoding is left as it is (no gain measured).
 * Process-wide and idempotent.
 */
export function useAsciiTextEncoding(): void {
  if (configured) return;
  configured = true;
  const standard = getTextEncoding();
  const encodeUtf8 = (text: string): Uint8Array<ArrayBuffer> => {
    const length = text.length;
    if (length > SHORT_STRING) return standard.encodeUtf8(text);
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) return standard.encodeUtf8(text);
      bytes[i] = code;
    }
    return bytes;
  };
  configureTextEncoding({ encodeUtf8, decodeUtf8: standard.decodeUtf8, checkUtf8: standard.checkUtf8 });
}
