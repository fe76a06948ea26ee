// The table `pnpm bench` prints and the targets of issue 12 (reported, never asserted).

export interface Row {
  readonly metric: string;
  readonly value: number;
  readonly unit: "x" | "MB" | "calls" | "/res·min";
  /** The highest passing value; none: reported only. */
  readonly target?: number;
  readonly note: string;
}

export interface Target {
  readonly metric: string;
  readonly value: number;
  readonly target: number;
  readonly pass: boolean;
}

const show = (value: number, unit: Row["unit"]): string => {
  if (unit === "x") return `${value.toFixed(3)}x`;
  if (unit === "MB") return `${value.toFixed(0)} MB`;
  if (unit === "calls") return `${value.toFixed(0)}`;
  return value.toFixed(2);
};

/** Rounds for results.json: ratios to 3 decimals, everything else to 1, so that runs diff readably. */
export const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

export function printTable(rows: readonly Row[]): Target[] {
  const width = Math.max(...rows.map((r) => r.metric.length));
  console.log(`\n${"metric".padEnd(width)}  ${"value".padStart(9)}  ${"target".padStart(8)}        note`);
  console.log("-".repeat(width + 40));
  const targets: Target[] = [];
  for (const r of rows) {
    const target = r.target === undefined ? "" : `≤ ${show(r.target, r.unit)}`;
    const pass = r.target === undefined ? undefined : r.value <= r.target;
    const mark = pass === undefined ? "    " : pass ? "pass" : "MISS";
    console.log(
      `${r.metric.padEnd(width)}  ${show(r.value, r.unit).padStart(9)}  ${target.padStart(8)}  ${mark}  ${r.note}`,
    );
    if (r.target !== undefined) {
      targets.push({ metric: r.metric, value: round(r.value), target: r.target, pass: pass! });
    }
  }
  const missed = targets.filter((t) => !t.pass).length;
  console.log(`\n${targets.length - missed} of ${targets.length} targets met (reported, not asserted).`);
  return targets;
}
