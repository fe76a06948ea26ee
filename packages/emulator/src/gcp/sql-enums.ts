/**
 * Cloud SQL Admin enums. The Node client sends them as numbers (`$alt=json;enum-encoding=int`); the API also
 * takes and returns their names. Numbers from the @google-cloud/sql protos (google.cloud.sql.v1).
 */
const ENUMS: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  databaseVersion: { 6: "MYSQL_5_7", 20: "MYSQL_8_0", 398: "MYSQL_8_4" },
  availabilityType: { 1: "ZONAL", 2: "REGIONAL" },
  edition: { 2: "ENTERPRISE", 3: "ENTERPRISE_PLUS" },
  sslMode: {
    1: "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
    2: "ENCRYPTED_ONLY",
    3: "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
  },
  retentionUnit: { 1: "COUNT" },
  activationPolicy: { 1: "ALWAYS", 2: "NEVER" },
  pricingPlan: { 1: "PER_USE" },
  dataDiskType: { 1: "PD_SSD", 2: "PD_HDD" },
};

/** A body with every known enum field given by number written by name (deep). */
export function enumNames(value: unknown, key = ""): unknown {
  if (typeof value === "number" && ENUMS[key]) return ENUMS[key]?.[value] ?? String(value);
  if (Array.isArray(value)) return value.map((v) => enumNames(v, key));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, enumNames(v, k)]));
  return value;
}

/**
 * Wrapper types (`google.protobuf.BoolValue`, `Int64Value`) arrive as their bare value in JSON; the client
 * sends `{ value }` objects only when the caller wrote them so, which the API reads the same way.
 */
export const unwrap = (v: unknown): unknown =>
  v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "value" in v
    ? (v as { value: unknown }).value
    : v;
