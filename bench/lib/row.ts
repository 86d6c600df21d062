import type { Sessions } from './sessions.js';

/**
 * One row of `npm run bench`: measures one thing in one run and prints its table. Rows are chosen
 * with `--row <name>` (repeatable); bench/bench.ts lists them.
 *
 * bench/budget.ts (the GIF encoder's budget row, written separately) plugs in by exporting
 * `budgetRow: BenchRow`; the runner loads it when the file exists.
 */
export interface BenchRow {
  name: string;
  /** One line for `--help`. */
  about: string;
  /** Left out of a plain `npm run bench` (still run with `--row <name>` or `--row all`): long rows. */
  onlyWhenAsked?: boolean;
  run(ctx: BenchContext): Promise<RowReport>;
}

export interface BenchContext {
  sessions: Sessions;
  /** Engine renders per method (the median is reported). */
  runs: number;
  /** Plain-approach renders per row that has one. */
  plainRuns: number;
  /** Progress, to stderr. */
  log(msg: string): void;
  /** Row options from the command line (`--moments 12`, ...), as given. */
  options: Record<string, string | boolean | string[] | undefined>;
}

export interface RowReport {
  row: string;
  /** Markdown lines (a table and notes), printed as they are. */
  lines: string[];
  /** The same figures for machines: printed as one JSON line. */
  figures: Record<string, unknown>;
}
