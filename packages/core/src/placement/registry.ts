/**
 * Plugin factories by name, and JSON-serialisable profiles that say which plugins run with which
 * weights and arguments. `berth plan` and the dashboard show a profile as it is written here.
 */
import { BerthError } from '../cluster/errors.ts';
import type { AnyPlugin, FrameworkHandle } from './plugin.ts';

/** Arguments from a profile are JSON. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

export interface PluginSetting {
  readonly name: string;
  /** Weight of the plugin's score (1–100, default 1). Ignored for plugins that do not score. */
  readonly weight?: number;
  /** Plugin-specific arguments, passed to its factory. */
  readonly args?: JsonValue;
}

export interface PlacementProfile {
  readonly name: string;
  /**
   * Enabled plugins. Each runs at every extension point it implements, in this order (the
   * Kubernetes "multiPoint" style). Exactly one must sort the queue.
   */
  readonly plugins: readonly PluginSetting[];
  /**
   * Stop filtering once this percentage of the nodes (at least 100) is feasible, starting where
   * the previous task stopped, like kube-scheduler. Absent = every node (exhaustive).
   */
  readonly percentageOfNodesToScore?: number;
}

/** Builds a plugin from its profile args; `handle` gives the built profile's filters (read lazily). */
export type PluginFactory = (args: JsonValue | undefined, handle: FrameworkHandle) => AnyPlugin;

const COMPONENT = 'core/placement';

export class PluginRegistry {
  readonly #factories = new Map<string, PluginFactory>();

  /** Adds a factory; throws CONFLICT when the name is taken (use `replace` on purpose). */
  register(name: string, factory: PluginFactory): this {
    if (this.#factories.has(name)) {
      throw new BerthError('CONFLICT', `a placement plugin named ${name} is already registered`, {
        component: COMPONENT,
        hint: 'Pick another name, or call registry.replace(name, factory) to override it.',
      });
    }
    this.#factories.set(name, factory);
    return this;
  }

  replace(name: string, factory: PluginFactory): this {
    this.#factories.set(name, factory);
    return this;
  }

  has(name: string): boolean {
    return this.#factories.has(name);
  }

  get(name: string): PluginFactory | undefined {
    return this.#factories.get(name);
  }

  names(): string[] {
    return [...this.#factories.keys()].sort();
  }

  clone(): PluginRegistry {
    const r = new PluginRegistry();
    for (const [k, f] of this.#factories) r.#factories.set(k, f);
    return r;
  }
}
