/**
 * Streaming decoder for Mesos RecordIO framing: `<decimal byte length>\n<record bytes>` repeated.
 * Bytes arrive in arbitrary chunks (a record, or even its length prefix, may be split anywhere,
 * and one chunk may hold several records). Lengths count bytes, not UTF-16 characters, so the
 * decoder works on bytes and only decodes a record once it is complete.
 */
import { BerthError } from '@berth/core';

export interface RecordIODecoderOptions {
  /** Refuse records longer than this many bytes (default 64 MiB). */
  readonly maxRecordBytes?: number;
}

const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** More digits than this cannot be a sane length and is treated as corrupt framing. */
const MAX_LENGTH_DIGITS = 16;

export class RecordIODecoder {
  readonly #maxRecordBytes: number;
  #lengthDigits = '';
  /** Bytes still expected for the current record, or -1 while reading a length prefix. */
  #remaining = -1;
  #parts: Uint8Array[] = [];
  #partsBytes = 0;

  constructor(options: RecordIODecoderOptions = {}) {
    this.#maxRecordBytes = options.maxRecordBytes ?? 64 * 1024 * 1024;
  }

  /**
   * Feed one chunk; returns the records completed by it (possibly none), as raw bytes. A record that
   * lies whole inside `chunk` is returned as a view of it (no copy): decode it before reusing `chunk`.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#remaining < 0) {
        const byte = chunk[i++]!;
        if (byte === NEWLINE) {
          if (this.#lengthDigits === '') throw corrupt('empty length prefix');
          const length = Number(this.#lengthDigits);
          this.#lengthDigits = '';
          if (length > this.#maxRecordBytes) {
            throw new BerthError(
              'BACKEND_UNAVAILABLE',
              `RecordIO record of ${length} bytes exceeds the limit of ${this.#maxRecordBytes} bytes`,
              {
                component: 'mesos-adapter',
                hint: 'Raise maxRecordBytes if the master really sends records this large.',
              },
            );
          }
          if (length === 0) out.push(new Uint8Array(0));
          else this.#remaining = length;
        } else if (byte >= DIGIT_0 && byte <= DIGIT_9) {
          if (this.#lengthDigits.length >= MAX_LENGTH_DIGITS) throw corrupt('length prefix too long');
          this.#lengthDigits += String.fromCharCode(byte);
        } else {
          throw corrupt(`unexpected byte 0x${byte.toString(16).padStart(2, '0')} in length prefix`);
        }
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - i);
      const slice = chunk.subarray(i, i + take);
      i += take;
      this.#remaining -= take;
      if (this.#remaining === 0 && this.#parts.length === 0) {
        out.push(slice);
        this.#remaining = -1;
        continue;
      }
      this.#parts.push(slice.slice());
      this.#partsBytes += take;
      if (this.#remaining === 0) {
        out.push(concat(this.#parts, this.#partsBytes));
        this.#parts = [];
        this.#partsBytes = 0;
        this.#remaining = -1;
      }
    }
    return out;
  }

  /** True when no partial record is buffered (a stream may end cleanly here). */
  get idle(): boolean {
    return this.#remaining < 0 && this.#lengthDigits === '';
  }

  /** Call at end of stream: throws if it ended inside a record. */
  end(): void {
    if (!this.idle) throw corrupt('stream ended inside a record');
  }
}

function corrupt(what: string): BerthError {
  return new BerthError('BACKEND_UNAVAILABLE', `corrupt RecordIO stream: ${what}`, {
    component: 'mesos-adapter',
    hint: 'The master or a proxy in between sent something that is not RecordIO; check the master URL.',
  });
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface DecodeRecordIOJsonOptions extends RecordIODecoderOptions {
  /** JSON text → value (default `JSON.parse`; the driver passes `parseMesosJson` to keep int64s exact). */
  readonly parse?: (text: string) => unknown;
}

/** Decode a byte stream of RecordIO-framed JSON into parsed values, one per record. */
export async function* decodeRecordIOJson<T = unknown>(
  stream: AsyncIterable<Uint8Array>,
  options: DecodeRecordIOJsonOptions = {},
): AsyncGenerator<T> {
  const decoder = new RecordIODecoder(options);
  const parse = options.parse ?? JSON.parse;
  const text = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of stream) {
    for (const record of decoder.push(chunk)) {
      if (record.length === 0) continue;
      yield parse(text.decode(record)) as T;
    }
  }
  decoder.end();
}
