/**
 * Per-task scratch space shared by the plugins of one scheduling cycle. Pre-filter computes once,
 * filter and score read per node. Keys are typed, so a reader gets back what the writer stored.
 */

/** A typed key; create one per datum with `stateKey<T>('Plugin/what')`. */
export interface StateKey<T> {
  readonly name: string;
  /** Phantom field carrying the value type; never set at runtime. */
  readonly __type?: T;
}

export function stateKey<T>(name: string): StateKey<T> {
  return Object.freeze({ name }) as StateKey<T>;
}

/** Values that must not be shared between a state and its clone implement `clone()`. */
export interface Cloneable<T> {
  clone(): T;
}

function isCloneable(v: unknown): v is Cloneable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { clone?: unknown }).clone === 'function';
}

export class CycleState {
  readonly #data = new Map<string, unknown>();

  read<T>(key: StateKey<T>): T | undefined {
    return this.#data.get(key.name) as T | undefined;
  }

  write<T>(key: StateKey<T>, value: T): void {
    this.#data.set(key.name, value);
  }

  delete(key: StateKey<unknown>): void {
    this.#data.delete(key.name);
  }

  has(key: StateKey<unknown>): boolean {
    return this.#data.has(key.name);
  }

  /**
   * A copy for what-if evaluation (preemption tries victims on a clone). Values with a `clone()`
   * method are cloned; other values are shared and must be treated as immutable.
   */
  clone(): CycleState {
    const copy = new CycleState();
    for (const [k, v] of this.#data) copy.#data.set(k, isCloneable(v) ? v.clone() : v);
    return copy;
  }
}
