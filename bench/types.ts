/** One measured figure. Suites report their own baseline in the same run and a ratio against it. */
export interface BenchRow {
  readonly suite: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Ratio against the suite's baseline measured in the same run, when the row has one. */
  readonly ratio?: number;
  readonly baseline?: string;
  readonly goal?: string;
  readonly notes?: string;
}

export interface BenchSuite {
  readonly name: string;
  readonly description: string;
  run(): Promise<BenchRow[]>;
}
