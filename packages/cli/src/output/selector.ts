/**
 * kubectl's `-l` label selector syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`,
 * `!a`, comma-separated (all must match). Parsed into core's `LabelSelector`.
 */
import {
  BerthError,
  type LabelSelector,
  type LabelSelectorRequirement,
  matchesLabelSelector,
} from '@berth/core';

const KEY = '[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?';
const VALUE = '([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?';

function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((t) => t !== '');
}

function bad(term: string, why: string): BerthError {
  return new BerthError('SPEC_INVALID', `--selector: cannot parse ${JSON.stringify(term)}: ${why}`, {
    component: 'cli',
    hint: 'Write key=value, key!=value, key in (a,b), key notin (a), key or !key, separated by commas.',
  });
}

export function parseSelector(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  const keyRe = new RegExp(`^${KEY}$`);
  const valueRe = new RegExp(`^${VALUE}$`);
  for (const term of splitTerms(text)) {
    let m = /^(!?)\s*([^\s=!(),]+)$/.exec(term);
    if (m !== null) {
      if (!keyRe.test(m[2]!)) throw bad(term, 'invalid key');
      matchExpressions.push({ key: m[2]!, operator: m[1] === '!' ? 'DoesNotExist' : 'Exists', values: [] });
      continue;
    }
    m = /^([^\s=!]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (m !== null) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      if (!keyRe.test(key)) throw bad(term, 'invalid key');
      if (!valueRe.test(value)) throw bad(term, 'invalid value');
      if (op === '!=') matchExpressions.push({ key, operator: 'NotIn', values: [value] });
      else matchLabels[key] = value;
      continue;
    }
    m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
    if (m !== null) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      if (!keyRe.test(key)) throw bad(term, 'invalid key');
      const values = list.split(',').map((v) => v.trim());
      if (values.some((v) => !valueRe.test(v))) throw bad(term, 'invalid value in the list');
      matchExpressions.push({ key, operator: op === 'in' ? 'In' : 'NotIn', values });
      continue;
    }
    throw bad(term, 'expected key=value, key!=value, key in (...), key notin (...), key or !key');
  }
  return { matchLabels, matchExpressions };
}

/** A predicate for `-l`; undefined selects everything. */
export function selectorPredicate(
  text: string | undefined,
): (labels: Readonly<Record<string, string>>) => boolean {
  if (text === undefined || text.trim() === '') return () => true;
  const sel = parseSelector(text);
  return (labels) => matchesLabelSelector(labels, sel);
}
