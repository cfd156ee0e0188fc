/** `berth completion bash|zsh|fish`: scripts generated from the command tree itself. */
import { BerthError } from '@berth/core';
import type { Command } from 'commander';
import type { CommandContext } from '../command-context.ts';

interface Node {
  readonly path: string[];
  readonly subcommands: string[];
  readonly flags: string[];
}

function walk(cmd: Command, path: string[], out: Node[]): void {
  const flags = cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
  out.push({ path, subcommands: cmd.commands.map((c) => c.name()), flags: [...flags, '--help'] });
  for (const c of cmd.commands) walk(c, [...path, c.name()], out);
}

const TYPES: Readonly<Record<string, string>> = {
  get: 'nodes tasks services jobs snapshot',
  describe: 'node task service',
  delete: 'task service job',
  scale: 'service',
  completion: 'bash zsh fish',
};

function bash(nodes: readonly Node[], globals: readonly string[]): string {
  const cases = nodes
    .map((n) => {
      const words = [
        ...n.subcommands,
        ...(TYPES[n.path.join(' ')] ?? '').split(' ').filter(Boolean),
        ...n.flags,
        ...globals,
      ];
      return `    "${n.path.join(' ')}") words="${[...new Set(words)].join(' ')}" ;;`;
    })
    .join('\n');
  return `# bash completion for berth (berth completion bash)
_berth() {
  local cur path="" w i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    case "\${path:+$path }$w" in
${nodes
  .map((n) => `      "${n.path.join(' ')}") path="${n.path.join(' ')}" ;;`)
  .filter((l) => !l.includes('"")'))
  .join('\n')}
    esac
  done
  local words
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _berth berth
`;
}

function zsh(bashScript: string): string {
  return `#compdef berth
# zsh completion for berth (berth completion zsh); uses zsh's bash completion layer
autoload -U +X bashcompinit && bashcompinit
${bashScript}`;
}

function fish(nodes: readonly Node[]): string {
  const lines = ['# fish completion for berth (berth completion fish)', 'complete -c berth -f'];
  for (const n of nodes) {
    const cond =
      n.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${n.path.at(-1)}`;
    for (const s of n.subcommands) lines.push(`complete -c berth -n '${cond}' -a ${s}`);
    for (const t of (TYPES[n.path.join(' ')] ?? '').split(' ').filter(Boolean))
      lines.push(`complete -c berth -n '${cond}' -a ${t}`);
    for (const f of n.flags.filter((x) => x.startsWith('--')))
      lines.push(`complete -c berth -n '${cond}' -l ${f.slice(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function completionCommand(ctx: CommandContext, shell: string, program: Command): Promise<void> {
  const nodes: Node[] = [];
  walk(program, [], nodes);
  const globals = nodes[0]?.flags ?? [];
  if (shell === 'bash') ctx.io.stdout(bash(nodes, globals));
  else if (shell === 'zsh') ctx.io.stdout(zsh(bash(nodes, globals)));
  else if (shell === 'fish') ctx.io.stdout(fish(nodes));
  else
    throw new BerthError('SPEC_INVALID', `completion: unknown shell ${JSON.stringify(shell)}`, {
      component: 'cli',
      hint: 'Use bash, zsh or fish.',
    });
}
