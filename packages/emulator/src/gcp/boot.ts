/**
 * The emulator standing in for K3s on server 0 (opt-in, `EmulatorOptions.simulateBoot`; `Emulator.bootNodes()`),
 * as the AWS cloud does: no virtual machine boots here, so the one write a k3sinfra server 0 makes once K3s
 * serves is played instead. A running instance whose `user-data` metadata holds the boot script's
 * `KUBECONFIG_SECRET='<name>'` line adds a version to that Secret Manager secret, authorized as its service
 * account exactly as its own call would be (a policy that does not allow it is refused, as on Google Cloud),
 * holding a K3s-shaped kubeconfig with made-up certificates.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { failedBefore } from "../boot/index.js";
import type { BootReport } from "../types.js";
import type { Compute } from "./compute.js";
import type { GcpState } from "./model.js";
import { statusAt } from "./model.js";
import type { SecretManager } from "./secrets.js";

// The script's line: a secret name, single-quoted (core's node-secrets.ts renders it).
const KUBECONFIG_LINE = /KUBECONFIG_SECRET='([A-Za-z0-9_./-]{1,1011})'/;
/** How long the boot script retries a refused write, at time scale 1, before it gives up. */
const RETRY_WINDOW_MS = 600_000;

const pem = (label: string, der: Buffer): string =>
  `-----BEGIN ${label}-----\n${(der.toString("base64").match(/.{1,64}/g) ?? []).join("\n")}\n-----END ${label}-----\n`;
const b64 = (text: string): string => Buffer.from(text).toString("base64");

/** A kubeconfig as K3s writes /etc/rancher/k3s/k3s.yaml; certificates are random bytes in PEM armour. */
function fakeKubeconfig(): string {
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
  constructor(
    private readonly state: () => GcpState,
    private readonly compute: Compute,
    private readonly secrets: SecretManager,
    private readonly afterMs: number | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Plays the write of every running server 0 that is due (`force`: whatever its uptime) and has not stored
   * its kubeconfig or given up; returns each attempt.
   */
  play(force: boolean): BootReport[] {
    if (this.afterMs === undefined && !force) return [];
    const now = this.compute.now;
    const scale = this.compute.timeScale;
    const reports: BootReport[] = [];
    for (const inst of Object.values(this.state().compute)) {
      if (inst.collection !== "instances" || statusAt(inst.timeline, now) !== "RUNNING") continue;
      const done = this.state().boots[inst.path];
      if (done && done.outcome !== "refused") continue;
      // A bootstrap failing before it stores the kubeconfig (failBootstrap, boot-timeline.ts) stores nothing.
      if (failedBefore(this.compute.boot.timeline(inst), "kubeconfig")) continue;
      const items =
        (inst.body.metadata as { items?: { key: string; value: string }[] } | undefined)?.items ?? [];
      const name = KUBECONFIG_LINE.exec(items.find((i) => i.key === "user-data")?.value ?? "")?.[1];
      if (!name) continue;
      const started = Number(inst.body.__startedAt ?? 0);
      if (!force && now < started + Math.round((this.afterMs ?? 0) * scale)) continue;
      const email = (inst.body.serviceAccounts as { email?: string }[] | undefined)?.[0]?.email;
      const error = email
        ? this.secrets.addVersionAs(inst.project, name, fakeKubeconfig(), email)
        : "401 authError: the instance has no service account";
      const outcome =
        error === undefined ? "stored" : now - started > RETRY_WINDOW_MS * scale ? "gave-up" : "refused";
      this.state().boots[inst.path] = { at: now, outcome, ...(error ? { error } : {}) };
      reports.push({ instanceId: inst.path, parameter: name, outcome, ...(error ? { error } : {}) });
      this.log(
        outcome === "stored"
          ? `boot simulation: ${inst.name} (server 0) stored its kubeconfig as ${name}`
          : `boot simulation: ${inst.name} (server 0) could not store its kubeconfig as ${name}: ${error}`,
      );
    }
    return reports;
  }
}
