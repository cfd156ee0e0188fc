/**
 * kubectl-style tables: upper-case headers, left-aligned columns separated by three spaces, no
 * borders. When the table is wider than the terminal, the widest columns are shrunk first and
 * their cells end in "…"; a column never shrinks below its header.
 */

export interface Column {
  readonly header: string;
  /** Never shrink this column (ids people copy and paste). */
  readonly noTruncate?: boolean;
}

const GAP = 3;
const MIN_WIDTH = 4;

/** Display width of a string: code points, ignoring ANSI colour escapes. */
export function displayWidth(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI SGR sequences
  return [...text.replace(/\u001b\[[0-9;]*m/g, '')].length;
}

export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  return `${[...text].slice(0, width - 1).join('')}…`;
}

/** Column widths that fit `maxWidth` (when possible), shrinking the widest shrinkable column first. */
export function fitWidths(
  columns: readonly Column[],
  natural: readonly number[],
  maxWidth: number,
): number[] {
  const widths = [...natural];
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * Math.max(0, widths.length - 1);
  const floor = columns.map((c, i) => (c.noTruncate ? natural[i]! : Math.max(MIN_WIDTH, c.header.length)));
  // The last column is not padded, so it is shrunk like the others but costs no gap.
  while (total() > maxWidth) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if (widths[i]! > floor[i]! && (widest === -1 || widths[i]! > widths[widest]!)) widest = i;
    }
    if (widest === -1) break;
    widths[widest] = Math.max(floor[widest]!, widths[widest]! - Math.max(1, total() - maxWidth));
  }
  return widths;
}

/** Renders rows under headers; `maxWidth` is the terminal width (Infinity for no limit). */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  maxWidth: number,
  options: {
    header?: boolean;
    /** Styles the header line (after truncation, so colours never count towards widths). */
    style?: (header: string) => string;
    /** Styles one body cell (after truncation). */
    cellStyle?: (column: number, text: string) => string;
  } = {},
): string {
  const natural = columns.map((c, i) =>
    Math.max(c.header.length, ...rows.map((r) => displayWidth(r[i] ?? ''))),
  );
  const widths = fitWidths(columns, natural, maxWidth);
  const line = (cells: readonly string[], style?: (column: number, s: string) => string) =>
    cells
      .map((cell, i) => {
        const t = truncate(cell, widths[i]!);
        const styled = style ? style(i, t) : t;
        return i === cells.length - 1 ? styled : styled + ' '.repeat(widths[i]! - displayWidth(t) + GAP);
      })
      .join('')
      .trimEnd();
  const out: string[] = [];
  const header = options.style;
  if (options.header !== false)
    out.push(
      line(
        columns.map((c) => c.header),
        header === undefined ? undefined : (_, t) => header(t),
      ),
    );
  for (const r of rows)
    out.push(
      line(
        columns.map((_, i) => r[i] ?? ''),
        options.cellStyle,
      ),
    );
  return `${out.join('\n')}\n`;
}
