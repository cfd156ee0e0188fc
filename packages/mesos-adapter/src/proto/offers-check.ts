/**
 * A structural check of an OFFERS event that reads it without copying it: the same rules as
 * `SchedulerEventSchema` (every Offer field `OfferSchema` models, loose objects, optional fields
 * may be absent), as plain code. Zod rebuilds every object it validates; for an event of a
 * thousand offers that is tens of thousands of objects made and dropped on the hot path.
 *
 * The check only answers yes or no. Yes means the schema would accept the value and return its
 * fields unchanged, so the value itself is the typed event; no sends the value through the schema,
 * which either accepts it (nothing is lost by being strict here) or reports every problem with its
 * path, exactly as for any other event.
 */
import type { SchedulerEventOf } from './scheduler.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (v: unknown) => v === undefined || typeof v === 'string';
/** `z.number()`: finite numbers only. */
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const DECIMAL = /^-?\d+$/;
/** `Int64Schema`: an integral number or a decimal string. */
const isInt64 = (v: unknown) =>
  (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && DECIMAL.test(v));
/** `z.number().int()`: a safe integer. */
const isInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v);
/** `obj({})`: any object. */
const optObject = (v: unknown) => v === undefined || isObject(v);

function optArray(v: unknown, item: (x: unknown) => boolean): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
  return true;
}

const isId = (v: unknown) => isObject(v) && typeof v.value === 'string';
const optId = (v: unknown) => v === undefined || isId(v);
const isNamed = (v: unknown) => isObject(v) && typeof v.name === 'string';

const optScalar = (v: unknown) => v === undefined || (isObject(v) && isNumber(v.value));
const isRange = (v: unknown) => isObject(v) && isInt64(v.begin) && isInt64(v.end);
const optRanges = (v: unknown) => v === undefined || (isObject(v) && optArray(v.range, isRange));
const optSet = (v: unknown) =>
  v === undefined || (isObject(v) && optArray(v.item, (x) => typeof x === 'string'));
const optText = (v: unknown) => v === undefined || (isObject(v) && typeof v.value === 'string');
const optRole = (v: unknown) => v === undefined || (isObject(v) && optString(v.role));

const isLabel = (v: unknown) => isObject(v) && typeof v.key === 'string' && optString(v.value);
const isReservation = (v: unknown) =>
  isObject(v) &&
  optString(v.type) &&
  optString(v.role) &&
  optString(v.principal) &&
  (v.labels === undefined || (isObject(v.labels) && optArray(v.labels.labels, isLabel)));

function isResource(v: unknown): boolean {
  return (
    isObject(v) &&
    typeof v.name === 'string' &&
    typeof v.type === 'string' &&
    optId(v.provider_id) &&
    optScalar(v.scalar) &&
    optRanges(v.ranges) &&
    optSet(v.set) &&
    optString(v.role) &&
    optRole(v.allocation_info) &&
    (v.reservation === undefined || isReservation(v.reservation)) &&
    optArray(v.reservations, isReservation) &&
    optObject(v.disk) &&
    optObject(v.revocable) &&
    optObject(v.shared)
  );
}

function isAttribute(v: unknown): boolean {
  return (
    isObject(v) &&
    typeof v.name === 'string' &&
    typeof v.type === 'string' &&
    optScalar(v.scalar) &&
    optRanges(v.ranges) &&
    optSet(v.set) &&
    optText(v.text)
  );
}

const isParameter = (v: unknown) => isObject(v) && typeof v.key === 'string' && typeof v.value === 'string';
const isAddress = (v: unknown) => isObject(v) && optString(v.hostname) && optString(v.ip) && isInt(v.port);

function optUrl(v: unknown): boolean {
  return (
    v === undefined ||
    (isObject(v) &&
      typeof v.scheme === 'string' &&
      isAddress(v.address) &&
      optString(v.path) &&
      optArray(v.query, isParameter) &&
      optString(v.fragment))
  );
}

function optDomain(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isObject(v)) return false;
  const f = v.fault_domain;
  return f === undefined || (isObject(f) && isNamed(f.region) && isNamed(f.zone));
}

function isOffer(v: unknown): boolean {
  return (
    isObject(v) &&
    isId(v.id) &&
    isId(v.framework_id) &&
    isId(v.agent_id) &&
    typeof v.hostname === 'string' &&
    optUrl(v.url) &&
    optDomain(v.domain) &&
    optArray(v.resources, isResource) &&
    optArray(v.attributes, isAttribute) &&
    optArray(v.executor_ids, isId) &&
    optObject(v.unavailability) &&
    optRole(v.allocation_info)
  );
}

/** True when `value` is an OFFERS event `SchedulerEventSchema` accepts as it is. */
export function isOffersEvent(value: unknown): value is SchedulerEventOf<'OFFERS'> {
  return (
    isObject(value) &&
    value.type === 'OFFERS' &&
    isObject(value.offers) &&
    optArray(value.offers.offers, isOffer)
  );
}
