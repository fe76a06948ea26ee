import { describe, expect, it } from "vitest";
import { assessServer, parseServerVersion } from "../../src/datastore/index.js";

const assess = (raw: string, snapshotIsolation?: boolean, autoIncrementIncrement = 1) =>
  assessServer({ version: parseServerVersion(raw)!, autoIncrementIncrement, snapshotIsolation });

describe("parseServerVersion", () => {
  it.each([
    ["8.4.3", "mysql", 8, 4, 3],
    ["8.0.31-google", "mysql", 8, 0, 31],
    ["5.7.44-log", "mysql", 5, 7, 44],
    ["10.11.6-MariaDB-0+deb12u1", "mariadb", 10, 11, 6],
    ["5.5.5-10.6.18-MariaDB-log", "mariadb", 10, 6, 18],
    ["11.8.2-MariaDB-ubu2404", "mariadb", 11, 8, 2],
  ])("%s", (raw, flavor, major, minor, patch) => {
    expect(parseServerVersion(raw)).toEqual({ flavor, major, minor, patch, raw });
  });

  it("returns undefined for garbage", () => {
    expect(parseServerVersion("PostgreSQL 16")).toBeUndefined();
  });
});

describe("assessServer", () => {
  it("accepts MySQL 8.0 and 8.4 and MariaDB 10.6, 10.11 and 11.4 without warnings", () => {
    for (const v of ["8.0.36", "8.4.3", "10.6.18-MariaDB", "10.11.6-MariaDB", "11.4.10-MariaDB"])
      expect(assess(v, false)).toEqual({ warnings: [], problems: [] });
  });

  it("warns on MySQL 5.7 and refuses 5.6", () => {
    expect(assess("5.7.44").warnings[0]).toMatch(/end of life/);
    expect(assess("5.7.44").problems).toEqual([]);
    expect(assess("5.6.51").problems[0]).toMatch(/too old/);
  });

  it("refuses MariaDB 11.8 with snapshot isolation ON or unknown, warns when OFF", () => {
    expect(assess("11.8.2-MariaDB", true).problems[0]).toMatch(/innodb_snapshot_isolation=ON.*1020/);
    expect(assess("11.8.2-MariaDB", undefined).problems).toHaveLength(1);
    const off = assess("11.8.2-MariaDB", false);
    expect(off.problems).toEqual([]);
    expect(off.warnings[0]).toMatch(/not yet supported/);
    expect(assess("12.0.1-MariaDB", false).problems).toEqual([]);
  });

  it("refuses snapshot isolation ON on any MariaDB, and old MariaDB", () => {
    expect(assess("11.4.5-MariaDB", true).problems).toHaveLength(1);
    expect(assess("10.5.27-MariaDB").problems[0]).toMatch(/end of life/);
  });

  it("refuses auto_increment_increment other than 1", () => {
    expect(assess("8.4.3", undefined, 2).problems[0]).toMatch(/auto_increment_increment is 2/);
  });
});
