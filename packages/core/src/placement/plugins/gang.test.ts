import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { place, resolveFramework } from '../place.ts';
import type { PlacementProfile } from '../registry.ts';
import { createSnapshot, type Snapshot } from '../snapshot.ts';
import { createPlacementTask, type PlacementTask } from '../task.ts';
import { placeFairly } from './fair-queue.ts';
import { GANG_SIZE_LABEL, gangTasks } from './gang.ts';

const profile: PlacementProfile = {
  name: 'gangs',
  plugins: [
    { name: 'PrioritySort' },
    { name: 'NodeUnschedulable' },
    { name: 'ResourcesFit' },
    { name: 'MarathonConstraints' },
    { name: 'LeastAllocated' },
    { name: 'Gang' },
  ],
};

let seq = 0;
function job(
  name: string,
  n: number,
  cpu: number,
  extra: { priority?: number; tenant?: string } = {},
): PlacementTask[] {
  return gangTasks(
    Array.from({ length: n }, (_, i) =>
      createPlacementTask({ id: `${name}-${i}`, app: name, requests: { cpu }, sequence: seq++, ...extra }),
    ),
    name,
  );
}

function nodes(n: number, cpu: number): Snapshot {
  return createSnapshot(Array.from({ length: n }, (_, i) => ({ id: `n${i}`, allocatable: { cpu } })));
}

/** Every task the snapshot holds, by id, with the cpu it books. */
function held(s: Snapshot): string[] {
  const ids: string[] = [];
  for (let i = 0; i < s.size; i++) for (const t of s.tasks(i)) ids.push(t.id);
  return ids.sort();
}

describe('Gang', () => {
  it('places a gang that fits, all members together', () => {
    const s = nodes(2, 4000);
    const { placements, unplaceable } = place(job('train', 4, 2000), s, profile);
    expect(placements.map((p) => p.taskId).sort()).toEqual(['train-0', 'train-1', 'train-2', 'train-3']);
    expect(unplaceable).toEqual([]);
  });

  it('places none of a gang that does not fit, names the members that could not, and leaks nothing', () => {
    const s = nodes(3, 2000);
    const { placements, unplaceable } = place(job('train', 4, 2000), s, profile);
    expect(placements).toEqual([]);
    expect(unplaceable).toHaveLength(4);
    for (const u of unplaceable.slice(0, 3))
      expect(u.explanation.message).toContain(
        'gang train: member train-3 could not fit; 3 placed members rolled back',
      );
    expect(unplaceable[3]!.explanation.message).toContain('insufficient cpu');
    expect(held(s)).toEqual([]);
    expect([...s.cpu.used]).toEqual([0, 0, 0]);
  });

  it('refuses the members after one that failed, naming it', () => {
    const s = nodes(2, 2000);
    const first = job('big', 1, 4000)[0]!;
    const rest = job('big2', 2, 1000);
    const tasks = gangTasks(
      [
        { ...first, id: 'g-0' },
        { ...rest[0]!, id: 'g-1' },
        { ...rest[1]!, id: 'g-2' },
      ],
      'g',
    );
    const { placements, unplaceable } = place(tasks, s, profile);
    expect(placements).toEqual([]);
    // The refused members name g-0; g-0's own explanation carries the Gang post-filter's verdict.
    expect(
      unplaceable
        .filter((u) => u.explanation.message.includes('gang g: member g-0 could not fit'))
        .map((u) => u.taskId)
        .sort(),
    ).toEqual(['g-0', 'g-1', 'g-2']);
    expect(unplaceable.find((u) => u.taskId === 'g-0')?.explanation.postFilter?.plugin).toBe('Gang');
    expect(held(s)).toEqual([]);
  });

  it('loses to contention as a whole: higher-priority tasks take the room, the gang places nothing', () => {
    const s = nodes(2, 4000);
    const urgent = Array.from({ length: 3 }, (_, i) =>
      createPlacementTask({ id: `urgent-${i}`, priority: 100, requests: { cpu: 2000 }, sequence: seq++ }),
    );
    const { placements } = place([...job('train', 2, 2000), ...urgent], s, profile);
    expect(placements.map((p) => p.taskId).sort()).toEqual(['urgent-0', 'urgent-1', 'urgent-2']);
    expect(held(s)).toEqual(['urgent-0', 'urgent-1', 'urgent-2']);
  });

  it('learns the gang from the batch: members sharing a group, no label needed', () => {
    const members = (n: number, cpu: number) =>
      Array.from({ length: n }, (_, i) =>
        createPlacementTask({ id: `w-${i}`, group: 'w', requests: { cpu }, sequence: seq++ }),
      );
    const fits = place(members(3, 1000), nodes(1, 3000), profile);
    expect(fits.placements.map((p) => p.taskId)).toEqual(['w-0', 'w-1', 'w-2']);
    const s = nodes(1, 3000);
    const tooMany = place(members(4, 1000), s, profile);
    expect(tooMany.placements).toEqual([]);
    expect(tooMany.unplaceable.map((u) => u.explanation.message)).toEqual([
      expect.stringContaining('gang w: member w-3 could not fit; 3 placed members rolled back'),
      expect.stringContaining('gang w: member w-3 could not fit; 3 placed members rolled back'),
      expect.stringContaining('gang w: member w-3 could not fit; 3 placed members rolled back'),
      expect.stringContaining('insufficient cpu'),
    ]);
    expect(held(s)).toEqual([]);
  });

  it('names every member that could not fit', () => {
    const s = nodes(2, 2000);
    const tasks = [
      createPlacementTask({ id: 'g-0', group: 'g', requests: { cpu: 2000 }, sequence: seq++ }),
      createPlacementTask({ id: 'g-1', group: 'g', requests: { cpu: 5000 }, sequence: seq++ }),
      createPlacementTask({ id: 'g-2', group: 'g', requests: { cpu: 6000 }, sequence: seq++ }),
    ];
    const { placements, unplaceable } = place(tasks, s, profile);
    expect(placements).toEqual([]);
    expect(unplaceable.find((u) => u.taskId === 'g-2')?.explanation.message).toContain(
      'gang g: members g-1, g-2 could not fit',
    );
    expect(unplaceable.find((u) => u.taskId === 'g-0')?.explanation.message).toContain(
      'gang g: member g-1 could not fit; 1 placed member rolled back',
    );
    expect(held(s)).toEqual([]);
  });

  it('starts every batch afresh: a gang that failed in one batch places in the next', () => {
    const framework = resolveFramework(profile);
    const s = nodes(1, 2000);
    const big = job('again', 3, 1000);
    expect(place(big, s, framework).placements).toEqual([]);
    const small = gangTasks(
      big.slice(0, 2).map((t) => ({ ...t, sequence: seq++ })),
      'again',
    );
    expect(place(small, s, framework).placements.map((p) => p.taskId)).toEqual(['again-0', 'again-1']);
  });

  it('takes the size label as the full size: a batch with part of the gang places none of it', () => {
    const s = nodes(2, 4000);
    const part = job('train', 4, 1000).slice(0, 3);
    const { placements, unplaceable } = place(part, s, profile);
    expect(placements).toEqual([]);
    for (const u of unplaceable)
      expect(u.explanation.message).toContain(
        `gang train: the batch holds 3 of its 4 members (${GANG_SIZE_LABEL}); place the whole gang in one batch`,
      );
    const bad = gangTasks(job('odd', 2, 1000), 'odd').map((t) => ({
      ...t,
      labels: { ...t.labels, [GANG_SIZE_LABEL]: 'two' },
    }));
    expect(place(bad, s, profile).unplaceable[0]!.explanation.message).toContain(
      `gang odd: ${GANG_SIZE_LABEL} must be a whole number ≥ 1`,
    );
    expect(held(s)).toEqual([]);
  });

  it('is all-or-nothing with no leaked reservation for any mix of gangs and single tasks (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            size: fc.integer({ min: 1, max: 5 }),
            cpu: fc.integer({ min: 1, max: 4 }),
            priority: fc.integer({ min: 0, max: 2 }),
            gang: fc.boolean(),
            labelled: fc.boolean(),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        (jobs, nodeCount, fairly) => {
          const s = nodes(nodeCount, 4000);
          const tasks = jobs.flatMap((j, k) => {
            const ts = Array.from({ length: j.size }, (_, i) =>
              createPlacementTask({
                id: `j${k}-${i}`,
                tenant: `t${k % 2}`,
                priority: j.priority,
                requests: { cpu: j.cpu * 1000 },
                sequence: seq++,
              }),
            );
            if (!j.gang) return ts;
            return j.labelled ? gangTasks(ts, `j${k}`) : ts.map((t) => ({ ...t, group: `j${k}` }));
          });
          const fairProfile: PlacementProfile = {
            ...profile,
            plugins: [{ name: 'FairQueueSort' }, ...profile.plugins.slice(1)],
          };
          const { placements } = fairly ? placeFairly(tasks, s, fairProfile) : place(tasks, s, profile);
          const placed = new Set(placements.map((p) => p.taskId));
          jobs.forEach((j, k) => {
            if (!j.gang) return;
            const n = Array.from({ length: j.size }, (_, i) => placed.has(`j${k}-${i}`)).filter(
              Boolean,
            ).length;
            expect(n === 0 || n === j.size).toBe(true);
          });
          expect(held(s)).toEqual([...placed].sort());
          for (let i = 0; i < s.size; i++) {
            const booked = s.tasks(i).reduce((sum, t) => sum + t.requests!.cpu, 0);
            expect(s.cpu.used[i]).toBe(booked);
            expect(booked).toBeLessThanOrEqual(4000);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
