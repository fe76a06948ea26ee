import type { VerifyCheck } from "@k3sinfra/core";
import { type Style, table } from "./style.js";

const paint = (style: Style, s: VerifyCheck["status"]): string =>
  s === "pass" ? style.green(s) : s === "fail" ? style.red(s) : style.yellow(s);

/** One row per check, then a one-line verdict. */
export const renderVerify = (checks: readonly VerifyCheck[], style: Style): string => {
  const rows = [
    ["CHECK", "RESULT", "DETAIL"].map(style.bold),
    ...checks.map((c) => [c.name, paint(style, c.status), c.detail]),
  ];
  const count = (s: VerifyCheck["status"]) => checks.filter((c) => c.status === s).length;
  return `${table(rows, "  ")}\n\nChecks: ${count("pass")} pass, ${count("fail")} fail, ${count("skip")} skip.\n`;
};
