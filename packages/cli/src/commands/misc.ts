import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { ClusterConfigSchema } from "@k3sinfra/core";
import { api } from "../api.js";
import { ExitCode } from "../exit-codes.js";
import { UsageError } from "../render/errors.js";
import type { Session } from "../session.js";
import {
  DEFAULT_REGIONS,
  INIT_PROVIDERS,
  type InitProvider,
  initTemplate,
  type TemplateValues,
} from "./init-template.js";

/** Options of `init`. */
export interface InitFlags {
  readonly provider: string;
  readonly name?: string;
  readonly region?: string;
  readonly hostname?: string;
}

/** `k3sinfra init`: writes a commented starter config; never overwrites one. */
export const initCommand = async (s: Session, flags: InitFlags): Promise<number> => {
  if (!(INIT_PROVIDERS as readonly string[]).includes(flags.provider)) {
    throw new UsageError(`--provider must be one of ${INIT_PROVIDERS.join(", ")}, not '${flags.provider}'.`);
  }
  const provider = flags.provider as InitProvider;
  const path = s.configPath;
  if (existsSync(path)) {
    throw new UsageError(
      `${path} already exists; k3sinfra init never overwrites a config. Edit it, or pass --config <new path>.`,
    );
  }
  const values = {
    name: flags.name ?? "rancher",
    region: flags.region ?? DEFAULT_REGIONS[provider],
    hostname: (flags.hostname ?? "rancher.example.com").toLowerCase(),
  };
  checkInitValues(provider, values);
  const text = initTemplate(provider, values);
  await mkdir(dirname(path), { recursive: true });
  // `wx` fails if the file appeared meanwhile: still no overwrite.
  await writeFile(path, text, { flag: "wx" });
  if (s.flags.json) {
    s.printJson({ path, provider });
  } else {
    const shown = relative(s.io.cwd ?? process.cwd(), path) || path;
    // Commands to copy must find the same file: repeat --config when one was given.
    const config = s.flags.config ? ` --config ${s.flags.config}` : "";
    s.print(
      `Wrote ${shown} for provider ${provider}.\n` +
        `Next: set rancher.hostname and dns.zone to a zone you control, then run \`k3sinfra plan${config}\`.\n` +
        (provider === "aws"
          ? `To try it first without an AWS account: \`k3sinfra up --emulate${config}\`.\n`
          : ""),
    );
  }
  return ExitCode.Success;
};

// Which flag set each config key init writes, so a bad value is reported against what the user typed.
const INIT_FLAGS: Record<string, string> = {
  name: "--name",
  region: "--region",
  "rancher.hostname": "--hostname",
  "dns.zone": "--hostname (dns.zone is its parent domain)",
};

/**
 * init never writes a config that `plan` would reject for a value given on its command line: the flags are
 * checked with the config's own schema first (offline, no provider loaded).
 */
const checkInitValues = (provider: InitProvider, v: TemplateValues): void => {
  const zone = v.hostname.split(".").slice(1).join(".");
  const parsed = ClusterConfigSchema.safeParse({
    name: v.name,
    provider,
    region: v.region,
    dns: { zone },
    rancher: { hostname: v.hostname },
  });
  if (parsed.success) return;
  const problems = parsed.error.issues.map((i) => {
    const path = i.path.join(".");
    return `${INIT_FLAGS[path] ?? path}: ${i.message}`;
  });
  throw new UsageError(`nothing written; fix these flags:\n  - ${problems.join("\n  - ")}`);
};

/** `k3sinfra schema`: the config's JSON Schema, for editors and validation in CI. */
export const schemaCommand = async (s: Session): Promise<number> => {
  s.printJson(api.configJsonSchema());
  return ExitCode.Success;
};

/** `k3sinfra force-unlock <lock-id>`: removes a lock left by a crashed run, after confirmation. */
export const forceUnlockCommand = async (s: Session, lockId: string): Promise<number> => {
  await s.withApi(async ({ spec, options }) => {
    await s.confirm({
      yes: s.flags.yes,
      question: `Release lock ${lockId}? Do this only if no k3sinfra run is working on this cluster: two runs at once can corrupt state.`,
      flagHint: "force-unlock removes a lock",
      declined: "Force-unlock cancelled; the lock is still held.",
    });
    await api.forceUnlock(spec, lockId, options);
  });
  if (s.flags.json) s.printJson({ unlocked: lockId });
  else s.print(`Lock ${lockId} released.\n`);
  return ExitCode.Success;
};
