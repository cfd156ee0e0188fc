/**
 * What every subcommand implementation receives: resolved IO, the global flags, colours, and a
 * way to borrow the current context's adapter (connected, closed afterwards).
 */
import type { BackendRegistry, CliClusterAdapter } from './backends/registry.ts';
import type { ResolvedContext } from './config/resolve-context.ts';
import type { ResolvedIO } from './io.ts';
import { type Colors, colorEnabled, createColors } from './output/style.ts';

export interface GlobalOptions {
  readonly context?: string;
  readonly debug?: boolean;
  /** commander's `--no-color` sets this to false. */
  readonly color?: boolean;
}

export interface CommandContext {
  readonly io: ResolvedIO;
  readonly globals: GlobalOptions;
  readonly backends: BackendRegistry;
  readonly colors: Colors;
  /** Connects the current context's adapter, runs `fn`, and always closes it. */
  withAdapter<T>(fn: (adapter: CliClusterAdapter, context: ResolvedContext) => Promise<T>): Promise<T>;
}

export function createCommandContext(
  io: ResolvedIO,
  globals: GlobalOptions,
  backends: BackendRegistry,
): CommandContext {
  return {
    io,
    globals,
    backends,
    colors: createColors(colorEnabled(io, globals.color !== false)),
    async withAdapter(fn) {
      const { adapterForContext } = await import('./config/resolve-context.ts');
      const { adapter, context } = await adapterForContext(io, backends, globals.context);
      try {
        await adapter.connect(io.signal === undefined ? {} : { signal: io.signal });
        return await fn(adapter, context);
      } finally {
        await adapter.close();
      }
    },
  };
}
