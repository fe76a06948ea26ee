/**
 * RDS DB parameter groups: the persisted shape, the families and parameters the emulator knows, and the
 * checks of a group's name (parameter-groups.ts serves the operations).
 */
import type { Tags } from "../kernel/common.js";
import { AWS_DURATIONS } from "../kernel/durations.js";
import { AwsError } from "../kernel/errors.js";
import type { Tree } from "../kernel/query.js";

export interface DbParameterGroup {
  /** Stored lower-case, as RDS does. */
  name: string;
  family: string;
  description: string;
  tags: Tags;
  /** Values set by the user (`Source: user`), by parameter name. */
  values: Record<string, string>;
  createdAt: number;
}

/** What an instance records about its parameter group (model.ts's DbInstance carries these fields). */
export interface ParameterGroupMember {
  id: string;
  engine: string;
  engineVersion: string;
  /** The custom group; undefined: the family's default group. */
  parameterGroup?: string;
  /** `pending-reboot` after a new group was associated or a static change made, until a reboot. */
  parameterApplyStatus?: "in-sync" | "pending-reboot";
  rebootingSince?: number;
}

/** What this module needs from service.ts. */
export interface ParameterGroupHost {
  groups(region: string): Record<string, DbParameterGroup>;
  /** Live instances (deleting ones included: they are still members of their group). */
  instances(region: string, now: number): ParameterGroupMember[];
  status(db: ParameterGroupMember, now: number): string;
  get(region: string, id: string, now: number): ParameterGroupMember;
  page<T>(items: T[], input: Tree): { page: T[]; marker?: string };
  readTags(input: Tree): Tags;
  checkTags(tags: Tags): void;
  instanceOut(region: string, db: ParameterGroupMember, now: number): object;
}

/** Seconds a reboot takes at time scale 1. */
export const REBOOT_SECONDS = AWS_DURATIONS.rds.rebooting;

/**
 * Parameter group families the emulator's engines map to (`DBParameterGroupFamily` in
 * DescribeDBEngineVersions): https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/parameter-groups-overview.html
 */
export const FAMILIES = [
  "mysql8.0",
  "mysql8.4",
  "mariadb10.6",
  "mariadb10.11",
  "mariadb11.4",
  "mariadb11.8",
] as const;

/** `mysql` + `8.4.6` → `mysql8.4`. */
export const familyOf = (engine: string, version: string): string =>
  `${engine}${version.split(".").slice(0, 2).join(".")}`;

export interface ParameterDef {
  dataType: "boolean" | "integer" | "string";
  applyType: "dynamic" | "static";
  allowed: string;
  description: string;
  /** Engine default; undefined: none shown. */
  default?: string;
  valid: (v: string) => boolean;
}

/**
 * The parameters the emulator knows, with the metadata DescribeDBParameters reports for the MySQL and
 * MariaDB families. `require_secure_transport` is a dynamic boolean (0/1), off by default through 8.4
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html); others
 * are here so that a wrong name or value is told apart from a right one.
 */
export const PARAMETERS: Record<string, ParameterDef> = {
  max_connections: {
    dataType: "integer",
    applyType: "dynamic",
    allowed: "1-100000",
    description: "The number of simultaneous client connections allowed.",
    default: "{DBInstanceClassMemory/12582880}",
    valid: (v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 100000,
  },
  require_secure_transport: {
    dataType: "boolean",
    applyType: "dynamic",
    allowed: "0,1",
    description:
      "When this option is enabled, connections attempted using insecure transport will be rejected.",
    default: "0",
    valid: (v) => v === "0" || v === "1",
  },
  tls_version: {
    dataType: "string",
    applyType: "static",
    allowed: "TLSv1.2,TLSv1.3",
    description: "The TLS protocols the server permits for encrypted connections.",
    default: "TLSv1.2,TLSv1.3",
    valid: (v) => v.split(",").every((p) => p === "TLSv1.2" || p === "TLSv1.3"),
  },
};

export const notFound = (name: string) =>
  new AwsError("DBParameterGroupNotFound", `DBParameterGroup not found: ${name}`, 404);

export const isDefault = (name: string) => name.toLowerCase().startsWith("default.");

/**
 * Name: 1-255 letters, digits or hyphens, first a letter, no trailing hyphen or two hyphens in a row; stored
 * lower-case (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html).
 */
export function checkName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,254}$/.test(name) || name.endsWith("-") || name.includes("--"))
    throw new AwsError(
      "InvalidParameterValue",
      `Invalid DB parameter group name: ${name}. It must be 1 to 255 letters, numbers, or hyphens, begin with a letter, and must not end with a hyphen or contain two consecutive hyphens.`,
    );
}
