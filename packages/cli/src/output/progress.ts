/**
 * A one-line spinner on stderr while waiting — only on a terminal, so logs and pipes stay clean.
 */
import type { ResolvedIO } from '../io.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  update(text: string): void;
  stop(): void;
}

const NONE: Progress = { update() {}, stop() {} };

export function startProgress(
  io: Pick<ResolvedIO, 'stderr' | 'stderrIsTTY' | 'env'>,
  text: string,
): Progress {
  if (!io.stderrIsTTY || io.env.CI !== undefined) return NONE;
  let frame = 0;
  let current = text;
  const draw = () => io.stderr(`\r\u001b[2K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref?.();
  return {
    update(t) {
      current = t;
    },
    stop() {
      clearInterval(timer);
      io.stderr('\r\u001b[2K');
    },
  };
}
