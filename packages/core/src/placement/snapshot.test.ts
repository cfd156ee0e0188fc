import { describe, expect, it } from 'vitest';
import { BerthError } from '../cluster/errors.ts';
import { createSnapshot } from './snapshot.ts';
import { createPlacementTask } from './task.ts';

describe('Snapshot change log', () => {
  const nodes = ['a', 'b', 'c'].map((id) => ({ id, allocatable: { cpu: 4000 } }));

  it('lists the nodes changed since a mark: assume, forget and touch each log their node', () => {
    const s = createSnapshot(nodes);
    const start = s.changeMark;
    const task = createPlacementTask({ id: 't', requests: { cpu: 500 } });
    const a = s.assume(2, task);
    s.touch(0);
    const mid = s.changeMark;
    s.forget(a);
    expect([...s.changedSince(start)!]).toEqual([2, 0, 2]);
    expect([...s.changedSince(mid)!]).toEqual([2]);
    expect([...s.changedSince(s.changeMark)!]).toEqual([]);
    // A mark from the future (another snapshot's) cannot be answered.
    expect(s.changedSince(s.changeMark + 1)).toBeUndefined();
  });

  it('starts a clone with its own log, so placing on a dry-run copy leaves the original alone', () => {
    const s = createSnapshot(nodes);
    const copy = s.clone();
    copy.assume(1, createPlacementTask({ id: 't', requests: { cpu: 500 } }));
    expect(s.changeMark).toBe(0);
    expect(s.cpu.used[1]).toBe(0);
    expect([...copy.changedSince(0)!]).toEqual([1]);
  });

  it('forgets old history after many changes, and then answers old marks with undefined', () => {
    const s = createSnapshot(nodes);
    for (let i = 0; i < 70_000; i++) s.touch(i % 3);
    expect(s.changeMark).toBe(70_000);
    expect(s.changedSince(0)).toBeUndefined();
    expect(s.changedSince(69_999)!.length).toBe(1);
  });

  it('rejects touching a node that does not exist', () => {
    const s = createSnapshot(nodes);
    expect(() => s.touch(3)).toThrow(BerthError);
    expect(() => s.touch(-1)).toThrow(/no node with index -1/);
  });
});
