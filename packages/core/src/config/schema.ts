import { z } from "zod";
import { DEFAULT_K3S_VERSION, DEFAULT_RANCHER_VERSION, RANCHER_RELEASES } from "../bootstrap/versions.js";
import type { CloudProvider } from "../provider.js";

// Zod compiles a parser for each object schema on its first parse (`new Function`: no code cache keeps it, so
// every process compiles it again); a command parses a config two or three times, which its interpreter does
// sooner (a few ms of `plan`'s start-up).
z.config({ jitless: true });

/**
 * Rancher minors k3sinfra knows, with the Kubernetes minors each supports: a view of the release table in
 * bootstrap/versions.ts (RANCHER_RELEASES), which cites its sources.
 */
export const RANCHER_K8S_RANGES: Readonly<Record<string, { min: string; max: string }>> = Object.fromEntries(
  RANCHER_RELEASES.map((r) => [r.minor, { ...r.kubernetes }]),
);
/** The newest stable Rancher and its default K3s (validated with MySQL 8.4, k3s-io/k3s#14100). */
export { DEFAULT_K3S_VERSION, DEFAULT_RANCHER_VERSION };

const cidr = z.string().refine(
  (s) => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (!m) return false;
    return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
  },
  { message: "must be an IPv4 CIDR such as 203.0.113.0/24 (octets 0-255, prefix 0-32)" },
);
// Said only when the key is missing; a value of the wrong type gets the general message (config/messages.ts).
const required = (hint: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `is required: ${hint}` : undefined;
const dnsLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
// A DNS name is at most 253 characters in text form, each label at most 63 (RFC 1035 §2.3.4, 255 octets on the
// wire). https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4
const fqdn = z
  .string()
  .transform((s) => s.toLowerCase().replace(/\.$/, ""))
  .refine((s) => s.length <= 253, {
    error: (i) =>
      `is ${(i.input as string).length} characters long; a DNS name has at most 253 (RFC 1035): use a shorter name`,
    abort: true,
  })
  .refine((s) => s.split(".").every((l) => l.length <= 63), {
    error: "has a label (the part between two dots) over 63 characters, the DNS limit (RFC 1035): shorten it",
    abort: true,
  })
  .refine((s) => s.split(".").length >= 2 && s.split(".").every((l) => dnsLabel.test(l)), {
    message:
      "must be a fully qualified domain name such as rancher.example.com (letters, digits and hyphens between dots)",
  });
/**
 * A provider reference: a name or module specifier, or (in a spec given as an object) a provider descriptor,
 * which the registry checks fully when it loads it. Editors see a string: a YAML file can only name one.
 */
const providerRef = (missing: string) =>
  z
    .custom<string | CloudProvider>(
      (v) =>
        (typeof v === "string" && v.length > 0) ||
        (typeof v === "object" && v !== null && typeof (v as { name?: unknown }).name === "string"),
      {
        error: (issue) =>
          issue.input === undefined
            ? missing
            : "must be a provider name, a module specifier (./my-provider.js, a package name) or, in a spec passed as an object, a provider descriptor",
      },
    )
    .meta({ type: "string", minLength: 1 });
const size = (vcpus: number, memoryGiB: number) =>
  z
    .object({
      vcpus: z.number().int().min(1).default(vcpus),
      memoryGiB: z.number().min(1).default(memoryGiB),
    })
    .strict()
    .default({ vcpus, memoryGiB });

export const ClusterConfigSchema = z
  .object({
    name: z
      .string({ error: required("a short cluster name such as rancher-prod") })
      .regex(
        /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/,
        "must be 3-20 lowercase letters, digits or hyphens, starting with a letter (it goes into every resource name, and load balancer names are capped at 32 characters)",
      ),
    provider: providerRef(
      "is required: a provider name (`k3sinfra init` lists the built-in ones) or a module specifier of your own provider",
    ),
    region: z.string({ error: required("e.g. us-east-1") }).min(1),
    zones: z.array(z.string().min(1)).min(1).optional(),
    nodes: z
      .object({
        count: z.number().int().min(2, "must be at least 2 for high availability").max(7).default(2),
        size: size(4, 16),
        instanceType: z.string().optional(),
        diskGiB: z.number().int().min(30, "must be at least 30 GiB").max(4096).default(50),
        image: z.string().default("ubuntu-24.04"),
        sshKeyName: z.string().optional(),
        adminCidrs: z.array(cidr).default([]),
      })
      .strict()
      .default({
        count: 2,
        size: { vcpus: 4, memoryGiB: 16 },
        diskGiB: 50,
        image: "ubuntu-24.04",
        adminCidrs: [],
      }),
    datastore: z
      .object({
        engine: z.literal("mysql", { error: "must be mysql" }).default("mysql"),
        version: z.enum(["8.0", "8.4"], { error: "must be 8.4 (recommended) or 8.0" }).default("8.4"),
        size: size(2, 8),
        instanceClass: z.string().optional(),
        storageGiB: z.number().int().min(20).max(65536).default(20),
        highAvailability: z.boolean().default(false),
        deletionProtection: z.boolean().default(true),
        backupRetentionDays: z
          .number()
          .int()
          .min(1, "must be at least 1: K3s keeps the whole cluster in this database")
          .max(35)
          .default(7),
        username: z
          .string()
          .regex(
            /^[a-z][a-z0-9_]{0,15}$/,
            "must be 1-16 lowercase letters, digits or _, starting with a letter",
          )
          .default("k3sadmin"),
        databaseName: z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,63}$/, "must be lowercase letters, digits or _, starting with a letter")
          .default("k3s"),
        k3sUsername: z
          .string()
          .regex(
            /^[a-z][a-z0-9_]{0,15}$/,
            "must be 1-16 lowercase letters, digits or _, starting with a letter",
          )
          .default("k3s"),
        check: z
          .enum(["auto", "required", "off"], {
            error: "must be auto (check when reachable from here), required, or off",
          })
          .default("auto"),
      })
      .strict()
      .default({
        engine: "mysql",
        version: "8.4",
        size: { vcpus: 2, memoryGiB: 8 },
        storageGiB: 20,
        highAvailability: false,
        deletionProtection: true,
        backupRetentionDays: 7,
        username: "k3sadmin",
        databaseName: "k3s",
        k3sUsername: "k3s",
        check: "auto",
      }),
    loadBalancer: z
      .object({
        mode: z
          .enum(["l4", "l7"], { error: "must be l4 (TCP passthrough, default) or l7 (TLS at the LB)" })
          .default("l4"),
        certificate: z.string().optional(),
        clientCidrs: z.array(cidr).min(1).default(["0.0.0.0/0"]),
        idleTimeoutSeconds: z.number().int().min(60).max(6000).default(1800),
      })
      .strict()
      .default({ mode: "l4", clientCidrs: ["0.0.0.0/0"], idleTimeoutSeconds: 1800 }),
    dns: z
      .object({
        provider: providerRef("is required").optional(),
        zone: fqdn,
        ttl: z.number().int().min(30).max(86400).default(300),
        proxied: z.boolean().default(false),
      })
      .strict(),
    rancher: z
      .object({
        hostname: fqdn,
        version: z
          .string()
          .regex(/^\d+\.\d+\.\d+$/, `must be a Rancher chart version such as ${DEFAULT_RANCHER_VERSION}`)
          .default(DEFAULT_RANCHER_VERSION),
        replicas: z.number().int().min(-1).max(7).optional(),
        // true: server 0 installs cert-manager (L4) and Rancher through K3s's Helm controller; false: outputs print the helm commands.
        install: z.boolean().default(true),
      })
      .strict(),
    k3s: z
      .object({
        version: z
          .string()
          .regex(/^v\d+\.\d+\.\d+\+k3s\d+$/, `must be a K3s release such as ${DEFAULT_K3S_VERSION}`)
          .optional(),
      })
      .strict()
      .default({}),
    options: z.record(z.string(), z.unknown()).default({}),
    // Where the state lives: `local` (a file), or a backend a provider offers (`stateBackends`), whose other
    // members (bucket, key, region…) that provider validates; docs/configuration.md lists them.
    state: z
      .object({
        backend: z
          .string()
          .regex(/^[a-z][a-z0-9-]*$/, "must be a backend name such as local")
          .default("local"),
        path: z.string().optional(),
        provider: z.string().optional(),
      })
      .catchall(z.unknown())
      .superRefine((state, ctx) => {
        if (state.backend !== "local") return;
        for (const key of Object.keys(state)) {
          if (key === "backend" || key === "path") continue;
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `is not an option of the local state backend (it takes path); set state.backend to the backend that takes ${key}`,
          });
        }
      })
      .default({ backend: "local" }),
  })
  .strict();

/** A config as written by a user (defaults optional). */
export type ClusterConfigInput = z.input<typeof ClusterConfigSchema>;
/** A validated config with every default filled in. */
export type ClusterConfig = z.output<typeof ClusterConfigSchema>;
