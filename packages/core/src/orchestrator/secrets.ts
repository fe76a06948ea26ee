import { randomBytes } from "node:crypto";
import type { ClusterSecrets } from "../state/types.js";

/**
 * Alphanumeric secrets with an upper-case letter, a lower-case letter and a digit: safe in DSNs
 * (https://github.com/go-sql-driver/mysql#dsn-data-source-name) and YAML without quoting, and accepted where a
 * managed MySQL wants three character classes of four (the providers' READMEs cite their clouds' rules). A purely
 * random 32-character one lacks a digit about once in 280.
 */
const alphanumeric = (length: number): string => {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (;;) {
    const bytes = randomBytes(length * 2);
    let out = "";
    // Rejection sampling keeps the distribution uniform (over the strings that have all three classes).
    for (const b of bytes) if (b < 248 && out.length < length) out += chars[b % 62];
    if (out.length === length && /[A-Z]/.test(out) && /[a-z]/.test(out) && /[0-9]/.test(out)) return out;
  }
};

/** The secrets a new cluster is made with; stored encrypted in state. */
export const generateSecrets = (): ClusterSecrets => ({
  k3sToken: alphanumeric(48),
  datastorePassword: alphanumeric(32),
  rancherBootstrapPassword: alphanumeric(24),
  datastoreK3sPassword: alphanumeric(32),
});
