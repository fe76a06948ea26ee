import { createHash, createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";

/**
 * OpenSSH's fingerprint of a host key blob: `SHA256:` and the unpadded base64 of its SHA-256, as
 * `ssh-keygen -lf` prints it (https://man.openbsd.org/ssh-keygen#l).
 */
export const fingerprint = (key: Buffer): string =>
  `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;

/** How a host's key is trusted: its fingerprint from the config, or the entries of a known_hosts file. */
export interface HostKeyPolicy {
  /** `SHA256:…` from the config. */
  readonly fingerprint?: string | undefined;
  /** Absolute path of a known_hosts file. */
  readonly knownHosts?: string | undefined;
}

/** What checking a presented key found. */
export type HostKeyVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "unknown" | "changed"; readonly fingerprint: string };

// known_hosts names a host as `host` on port 22 and `[host]:port` otherwise; hashed names are
// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` (https://man.openbsd.org/sshd.8#SSH_KNOWN_HOSTS_FILE_FORMAT).
const knownName = (host: string, port: number): string => (port === 22 ? host : `[${host}]:${port}`);

function nameMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  return pattern.split(",").some((p) => p === name);
}

/** The key blobs a known_hosts file lists for `host:port` (revoked and CA lines skipped), or `[]`. */
export async function knownKeys(file: string, host: string, port: number): Promise<Buffer[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const name = knownName(host, port);
  const keys: Buffer[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("@")) continue;
    const [names, , blob] = line.split(/\s+/);
    if (names && blob && nameMatches(names, name)) keys.push(Buffer.from(blob, "base64"));
  }
  return keys;
}

/**
 * Checks a presented host key: it must equal the configured fingerprint, or one of the keys known_hosts lists
 * for the host. A host with no entry at all is `unknown`; one whose entries all differ is `changed` (a
 * reinstalled host, or someone in the middle): both stop the run with the fingerprint to check.
 */
export async function checkHostKey(
  key: Buffer,
  policy: HostKeyPolicy,
  host: string,
  port: number,
): Promise<HostKeyVerdict> {
  const presented = fingerprint(key);
  if (policy.fingerprint !== undefined) {
    return policy.fingerprint === presented
      ? { ok: true }
      : { ok: false, reason: "changed", fingerprint: presented };
  }
  const known = policy.knownHosts ? await knownKeys(policy.knownHosts, host, port) : [];
  if (known.some((k) => k.equals(key))) return { ok: true };
  return { ok: false, reason: known.length === 0 ? "unknown" : "changed", fingerprint: presented };
}
