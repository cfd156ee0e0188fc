/**
 * RecordIO framing for the Mesos face's event streams: each record is its UTF-8 byte length in
 * decimal, a newline, then the bytes. A real master sends every record as one HTTP chunk.
 */
const encoder = new TextEncoder();

export function encodeRecord(value: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(value));
  const prefix = encoder.encode(`${body.length}\n`);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}
