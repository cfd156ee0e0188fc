/**
 * JSON text → value without losing int64s. Mesos emits int64/uint64 fields (nanosecond times,
 * range bounds) as JSON numbers, and `JSON.parse` silently rounds integers beyond 2^53. Such
 * integers are kept as their exact decimal text instead — the form the master also accepts on
 * input (recorded: an int64 may be sent as a string). Everything else parses as `JSON.parse` does.
 */

/** Integers with 16+ digits may be unsafe; shorter ones never are, so most texts skip the reviver. */
const LONG_INTEGER = /\d{16}/;

type ReviverContext = { readonly source?: string };

function keepUnsafeIntegers(_key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined) {
    const source = context.source;
    if (/^-?\d+$/.test(source)) return source;
  }
  return value;
}

export function parseMesosJson(text: string): unknown {
  if (!LONG_INTEGER.test(text)) return JSON.parse(text);
  return JSON.parse(text, keepUnsafeIntegers as (key: string, value: unknown) => unknown);
}
