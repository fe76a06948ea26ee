import type { ConfigIssue } from "@k3sinfra/core";

/** `options.gcp` in a cluster config: Google Cloud settings that have no portable equivalent. */
export interface GcpOptions {
  /** The project; default `GOOGLE_CLOUD_PROJECT`, else the credentials' project. */
  readonly project?: string | undefined;
  /** A Google-compatible endpoint for every client (the emulator); default `K3SINFRA_GCP_ENDPOINT`, else Google. */
  readonly endpoint?: string | undefined;
  /** The VPC network; default `default`. */
  readonly network?: string | undefined;
  /** Its subnetwork in the region; default the auto-mode network's own (named like the network). */
  readonly subnetwork?: string | undefined;
  /** Machine type for the nodes when `nodes.instanceType` is unset; default from `nodes.size` (E2). */
  readonly machineType?: string | undefined;
  /** The Cloud DNS managed zone (its name) that holds the record; default the public zone whose DNS name is `dns.zone`. */
  readonly dnsZone?: string | undefined;
  /** Boot image (`projects/<p>/global/images/family/<f>` or an image); default from `nodes.image`. */
  readonly image?: string | undefined;
}

const KEYS: Readonly<Record<keyof GcpOptions, [RegExp, string]>> = {
  // Project ids: 6–30 lowercase letters, digits or hyphens, starting with a letter
  // (https://cloud.google.com/resource-manager/docs/creating-managing-projects#before_you_begin).
  project: [/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, "must be a project id such as my-project-123"],
  endpoint: [/^https?:\/\/[^\s/]+(\/.*)?$/, "must be an http(s) URL such as http://127.0.0.1:4566"],
  network: [/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a VPC network name (RFC 1035)"],
  subnetwork: [/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a subnetwork name (RFC 1035)"],
  machineType: [/^[a-z][a-z0-9]*-[a-z0-9-]+$/, "must be a machine type such as e2-standard-4"],
  dnsZone: [/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a Cloud DNS managed zone name such as example-com"],
  image: [
    /^(projects\/[^/\s]+\/global\/images\/(family\/)?[a-z0-9-]+)$/,
    "must be projects/<p>/global/images/[family/]<name>",
  ],
};

/** Validates `options.gcp`; issue paths are relative to that block. */
export function parseGcpOptions(
  raw: unknown,
): { ok: true; value: GcpOptions } | { ok: false; issues: ConfigIssue[] } {
  if (raw === undefined || raw === null) return { ok: true, value: {} };
  if (typeof raw !== "object" || Array.isArray(raw))
    return { ok: false, issues: [{ path: "", message: "must be a mapping of Google Cloud settings" }] };
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const rule = KEYS[key as keyof GcpOptions];
    if (!rule) {
      issues.push({ path: key, message: `is not a GCP option; known: ${Object.keys(KEYS).join(", ")}` });
      continue;
    }
    if (value === undefined) continue;
    if (typeof value !== "string") issues.push({ path: key, message: "must be a string" });
    else if (!rule[0].test(value)) issues.push({ path: key, message: rule[1] });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: raw as GcpOptions };
}
