import { randomBytes } from "node:crypto";
import type { ClusterSecrets } from "../state/types.js";

/** Alphanumeric secrets: safe in DSNs (https://github.com/go-sql-driver/mysql#dsn-data-source-name) and YAML without quoting. */
const alphanumeric = (length: number): string => {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(length * 2);
  let out = "";
  // Rejection sampling keeps the distribution uniform.
  for (const b of bytes) if (b < 248 && out.length < length) out += chars[b % 62];
  return out.length === length ? out : alphanumeric(length);
};

/** The secrets a new cluster is made with; stored encrypted in state. */
export const generateSecrets = (): ClusterSecrets => ({
  k3sToken: alphanumeric(48),
  datastorePassword: alphanumeric(32),
  rancherBootstrapPassword: alphanumeric(24),
  datastoreK3sPassword: alphanumeric(32),
});
