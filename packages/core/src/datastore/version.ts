/** Which server family answered. */
export type DatastoreFlavor = "mysql" | "mariadb";

/** A parsed `SELECT VERSION()`. */
export interface ServerVersion {
  readonly flavor: DatastoreFlavor;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** The string as the server reported it. */
  readonly raw: string;
}

/**
 * Parses `VERSION()`: `8.4.3`, `8.0.31-<vendor suffix>`, `5.7.44-log`, `10.11.6-MariaDB-0+deb12u1`, and the
 * `5.5.5-` prefix old MariaDB handshakes add. `undefined` when it is not a version string.
 */
export function parseServerVersion(raw: string): ServerVersion | undefined {
  const mariadb = /mariadb/i.test(raw);
  const text = mariadb ? raw.replace(/^5\.5\.5-/, "") : raw;
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) return undefined;
  return {
    flavor: mariadb ? "mariadb" : "mysql",
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3] ?? 0),
    raw,
  };
}

/** What the readiness check learned from the server. */
export interface ServerFacts {
  readonly version: ServerVersion;
  /** `@@GLOBAL.auto_increment_increment`. */
  readonly autoIncrementIncrement: number;
  /** MariaDB `@@GLOBAL.innodb_snapshot_isolation`; `undefined` when the server has no such variable. */
  readonly snapshotIsolation?: boolean | undefined;
}

/** Warnings to show, and problems that make the server unusable for K3s. */
export interface ServerAssessment {
  readonly warnings: string[];
  readonly problems: string[];
}

const at = (v: ServerVersion): number => v.major * 1000 + v.minor;
const ver = (s: string): number => {
  const [a = 0, b = 0] = s.split(".").map(Number);
  return a * 1000 + b;
};
const KINE_MARIADB = ["10.6", "10.11", "11.4"];

/**
 * Whether K3s can use this server. Supported: MySQL 8.0 and 8.4, MariaDB 10.6, 10.11 and 11.4 (what kine CI
 * tests: k3s-io/kine scripts/test-run-mysql; K3s QA k3s-io/k3s#14100, #14102). MySQL 5.7 still works but is
 * end of life. MariaDB ≥ 11.8 fails compaction with error 1020 unless `innodb_snapshot_isolation` is OFF
 * (k3s-io/kine#721, #745). kine needs `auto_increment_increment = 1`: no multi-master setups
 * (https://docs.k3s.io/datastore).
 */
export function assessServer(facts: ServerFacts): ServerAssessment {
  const v = facts.version;
  const warnings: string[] = [];
  const problems: string[] = [];
  const name = `${v.flavor === "mysql" ? "MySQL" : "MariaDB"} ${v.major}.${v.minor}`;
  if (v.flavor === "mysql") {
    if (at(v) < ver("5.7")) problems.push(`${name} is too old for K3s; use MySQL 8.4 (or 8.0)`);
    else if (at(v) < ver("8.0"))
      warnings.push(`${name} is end of life; K3s works with it, but upgrade to MySQL 8.4 (or 8.0)`);
    else if (at(v) > ver("8.0") && at(v) < ver("8.4"))
      warnings.push(`${name} is an innovation release K3s does not test; use MySQL 8.4 (LTS)`);
    else if (at(v) >= ver("9.0")) warnings.push(`${name} is not validated by K3s (it tests 8.0 and 8.4)`);
  } else {
    const tested = KINE_MARIADB.some((t) => at(v) === ver(t));
    if (at(v) < ver("10.6")) problems.push(`${name} is end of life and not tested by K3s; use 10.11 or 11.4`);
    else if (facts.snapshotIsolation === true || (at(v) >= ver("11.8") && facts.snapshotIsolation !== false))
      problems.push(
        `${name} runs with innodb_snapshot_isolation=ON, which makes K3s compaction fail with error 1020 ` +
          "(k3s-io/kine#721); set innodb_snapshot_isolation=OFF in the server configuration, or use 11.4",
      );
    else if (at(v) >= ver("11.8"))
      warnings.push(
        `${name} is not yet supported by K3s; it works only while innodb_snapshot_isolation stays OFF`,
      );
    else if (!tested) warnings.push(`${name} is a release K3s does not test; use 10.11 or 11.4`);
  }
  if (facts.autoIncrementIncrement !== 1)
    problems.push(
      `auto_increment_increment is ${facts.autoIncrementIncrement}; K3s needs 1 (multi-master setups such as ` +
        "Galera are not supported)",
    );
  return { warnings, problems };
}
