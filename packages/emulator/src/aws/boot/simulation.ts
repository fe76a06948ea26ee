/**
 * The emulator standing in for K3s on server 0 (opt-in, `EmulatorOptions.simulateBoot`; `Emulator.bootNodes()`).
 * The emulator runs no virtual machines, so no boot script ever stores a kubeconfig. This module plays the
 * one write a k3sinfra server 0 makes once K3s serves: it finds the boot script's `KUBECONFIG_SECRET='<name>'`
 * line in the instance's user data (gzipped or not; plain string matching — the emulator knows nothing of
 * k3sinfra's code) and, authorized as the instance's role exactly as a node's own SigV4 call would be (so a
 * role that may not write there is refused as on AWS), stores a SecureString there holding a K3s-shaped
 * kubeconfig (cluster and user `default`, server `https://127.0.0.1:6443`, made-up CA and client certificate,
 * a fresh EC client key).
 */
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { BootReport } from "../../types.js";
import { parameterArn } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { ServiceKernel } from "../kernel/lookups.js";
import { lastStart, POWER_DURATIONS } from "../kernel/power.js";
import type { Instance } from "../kernel/shapes.js";

/** What has been played per instance id, persisted with the AWS state. */
export type BootState = Record<string, { at: number; outcome: BootReport["outcome"]; error?: string }>;

/**
 * How long the boot script keeps retrying the write, at time scale 1 (`SECRET_WAIT` of the script); a write
 * refused for that long is given up, as the script logs a warning and ends.
 */
const RETRY_WINDOW_MS = 600_000;

// The script's line: a name of SSM's characters, single-quoted (core's node-secrets.ts renders it).
const KUBECONFIG_LINE = /KUBECONFIG_SECRET='([A-Za-z0-9_./-]{1,1011})'/;

/** The user data as the instance's cloud-init reads it: base64, then gunzip when it is gzip. */
export function userDataText(base64: string | undefined): string {
  if (!base64) return "";
  const raw = Buffer.from(base64, "base64");
  try {
    return (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString("utf8");
  } catch {
    return "";
  }
}

/** The parameter the instance's boot script stores its kubeconfig under, if it is a k3sinfra server 0. */
export const kubeconfigParameter = (i: Instance): string | undefined =>
  KUBECONFIG_LINE.exec(userDataText(i.userData))?.[1];

const pem = (label: string, der: Buffer): string =>
  `-----BEGIN ${label}-----\n${(der.toString("base64").match(/.{1,64}/g) ?? []).join("\n")}\n-----END ${label}-----\n`;
const b64 = (text: string): string => Buffer.from(text).toString("base64");

/** A kubeconfig as K3s writes /etc/rancher/k3s/k3s.yaml; certificates are random bytes in PEM armour. */
export function fakeKubeconfig(): string {
  const ca = pem("CERTIFICATE", randomBytes(380));
  const cert = pem("CERTIFICATE", randomBytes(400));
  const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
    .privateKey.export({ format: "pem", type: "sec1" })
    .toString();
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(ca)}
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: ${b64(`${cert}${ca}`)}
    client-key-data: ${b64(key)}
`;
}

export class BootSimulation {
  constructor(private readonly k: ServiceKernel<BootState>) {}

  private get state(): BootState {
    return this.k.state();
  }

  /**
   * Plays the kubeconfig write of every running server 0 whose K3s would be up by now: running for
   * `simulateBoot.kubeconfigAfterMs` × time scale, or any running one with `now` (the back door). Each instance
   * is played until it succeeds or its retry window has passed. Returns what was attempted.
   */
  run(opts: { now?: boolean } = {}): BootReport[] {
    const after = this.k.ctx.options.simulateBoot?.kubeconfigAfterMs;
    if (after === undefined && !opts.now) return [];
    const now = this.k.ctx.now();
    const scale = this.k.ctx.timeScale;
    const reports: BootReport[] = [];
    for (const [region, r] of Object.entries(this.k.lookups.ec2.regions())) {
      for (const i of Object.values(r.instances)) {
        const done = this.state[i.id];
        if (done && done.outcome !== "refused") continue;
        if (this.k.lookups.ec2.instanceState(i, now) !== "running") continue;
        // A bootstrap failing before it stores the kubeconfig (failBootstrap, timeline.ts) stores nothing.
        if (this.k.lookups.boot.failedBefore(i, "kubeconfig", now)) continue;
        const parameter = kubeconfigParameter(i);
        if (parameter === undefined) continue;
        // K3s serves `after` past the end of `pending` (the instance's last start, kernel/power.ts).
        const since = lastStart(i) + POWER_DURATIONS.pending * 1000 * scale;
        const due = since + (after ?? 0) * scale;
        if (!opts.now && now < due) continue;
        const report = this.write(region, i, parameter, now);
        if (report.outcome === "refused" && now >= due + RETRY_WINDOW_MS * scale) report.outcome = "gave-up";
        this.state[i.id] = {
          at: now,
          outcome: report.outcome,
          ...(report.error ? { error: report.error } : {}),
        };
        if (!done || done.error !== report.error)
          this.k.ctx.log(
            report.outcome === "stored"
              ? `boot simulation: ${i.id} (server 0) stored its kubeconfig as ${parameter}`
              : `boot simulation: ${i.id} (server 0) could not store its kubeconfig as ${parameter}: ${report.error}`,
          );
        reports.push(report);
      }
    }
    return reports;
  }

  /** The node's `ssm:PutParameter` as its role session: authorized against the role's policies, then stored. */
  private write(region: string, i: Instance, parameter: string, now: number): BootReport {
    const base = { instanceId: i.id, parameter };
    if (!this.k.lookups.iam.instanceRoleName(i))
      return {
        ...base,
        outcome: "refused",
        error: "NoCredentials: the instance has no instance profile with a role",
      };
    try {
      this.k.lookups.iam.authorizeInstance(i, "json", "ssm:PutParameter", [parameterArn(region, parameter)]);
      this.k.lookups.parameters.putParameter(
        { Name: parameter, Value: fakeKubeconfig(), Type: "SecureString", Overwrite: true },
        { region, now, requestId: randomUUID(), operation: "PutParameter" },
      );
      return { ...base, outcome: "stored" };
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      return { ...base, outcome: "refused", error: `${err.code}: ${err.message}` };
    }
  }
}
