/**
 * What a k3sinfra server does once Compute Engine reports it RUNNING, as far as the cloud can see it: the shared
 * boot timeline (../boot/: kernel, cloud-init, then the bootstrap's stages, computed lazily from timestamps) over
 * the instance's current run, with Compute Engine's kernel and cloud-init lines. It feeds:
 * - backend health (health.ts): a k3sinfra server answers the health check only once its K3s is ready (Traefik
 *   listens through K3s's service load balancer), i.e. once its boot passed `k3s-ready`; other instances once
 *   they run;
 * - `instances.getSerialPortOutput` (serial port 1, the console: Ubuntu's GCE images boot with `console=ttyS0`),
 *   where the boot script's stage lines appear as core's bootstrap/stages.ts writes them to /dev/console.
 * And the back doors `Emulator.failBootstrap`/`clearBootstrapFault` and the `bootFaults` option, by instance or by
 * labels.
 *
 * The emulator imports nothing of k3sinfra: an instance is a k3sinfra server when its `user-data` metadata (what
 * cloud-init's GCE datasource reads, base64-decoded when `user-data-encoding` says so:
 * https://cloudinit.readthedocs.io/en/latest/reference/datasources/gce.html) mentions `k3sinfra-bootstrap`.
 */
import { Buffer } from "node:buffer";
import {
  BootFaultBook,
  type BootFaultOption,
  bootTimeline,
  consoleText,
  type FaultSubject,
  type Timeline,
} from "../boot/index.js";
import type { BootFaultTarget, BootStage } from "../types.js";
import type { ComputeCore } from "./compute-core.js";
import { GcpError, gcpErrors } from "./errors.js";
import { type ComputeResource, selfLink, statusAt } from "./model.js";

/** "Logs are limited to the most recent 1 MB of output per port" (viewing-serial-port-output). */
const SERIAL_BUFFER = 1024 * 1024;

/** What the timeline needs of the Compute service. */
type Compute = Pick<ComputeCore, "now" | "timeScale" | "bootTimeMs" | "store">;

type Metadata = { items?: { key?: string; value?: string }[] } | undefined;

/**
 * Whether an instance's labels carry a fault rule's tags: equal, or equal once written as labels must be (keys
 * and values only lowercase letters, digits, `_` and `-`: https://cloud.google.com/compute/docs/labeling-resources#requirements),
 * so `{ "k3sinfra:cluster": "Prod" }` matches the label `k3sinfra-cluster: prod`.
 */
export const labelsMatch = (labels: Record<string, string>, want: Record<string, string>): boolean =>
  Object.entries(want).every(
    ([k, v]) =>
      labels[k] === v ||
      labels[k.toLowerCase().replace(/[^a-z0-9_-]/g, "-")] === v.toLowerCase().replace(/[^a-z0-9_-]/g, "_"),
  );

export class GcpBootTimeline {
  readonly #faults: BootFaultBook;

  constructor(private readonly c: Compute) {
    this.#faults = new BootFaultBook(
      () => this.c.store.bootTimeline,
      () => this.c.now,
      labelsMatch,
    );
  }

  /** `EmulatorOptions.bootFaults` become rules from now on; rules of an earlier start no longer listed end now. */
  init(wanted: readonly BootFaultOption[]): void {
    this.#faults.init(wanted);
  }

  /** Is this a k3sinfra server (its user data runs the k3sinfra bootstrap)? */
  isK3sinfra(inst: ComputeResource): boolean {
    const items = (inst.body.metadata as Metadata)?.items ?? [];
    const value = items.find((i) => i.key === "user-data")?.value ?? "";
    const base64 = items.find((i) => i.key === "user-data-encoding")?.value === "base64";
    return (base64 ? Buffer.from(value, "base64").toString("utf8") : value).includes("k3sinfra-bootstrap");
  }

  private instances(): ComputeResource[] {
    return Object.values(this.c.store.compute).filter((r) => r.collection === "instances");
  }

  /** An instance by its path (`projects/p/zones/z/instances/n`), its name or its numeric id; the first found. */
  private resolve(target: string): ComputeResource | undefined {
    return this.instances().find((r) => r.path === target || r.name === target || r.id === target);
  }

  private subject = (r: ComputeResource): FaultSubject => ({
    id: r.path,
    tags: (r.body.labels as Record<string, string> | undefined) ?? {},
    launchedAt: Number(r.body.__created ?? 0),
  });

  /** `Emulator.failBootstrap`: an instance (path, name or id), or `{ tags }` matched against labels; false for none. */
  fail(target: BootFaultTarget, stage: BootStage, why?: string): boolean {
    const found = typeof target === "string" ? this.resolve(target) : undefined;
    if (typeof target === "string" && !found) return false;
    this.#faults.fail(found ? found.path : target, stage, why);
    return true;
  }

  /** `Emulator.clearBootstrapFault`: same targets. */
  clear(target: BootFaultTarget): boolean {
    const found = typeof target === "string" ? this.resolve(target) : undefined;
    if (typeof target === "string" && !found) return false;
    this.#faults.clear(found ? found.path : target, this.instances().map(this.subject));
    return true;
  }

  /**
   * The instance's current run up to now: undefined while it does not run yet (a start in progress). The
   * console of a run ends where the instance began stopping.
   */
  timeline(inst: ComputeResource): Timeline | undefined {
    const now = this.c.now;
    const bootAt = Number(inst.body.__startedAt ?? 0);
    const down = (inst.timeline ?? []).find(
      (s) => s.at >= bootAt && (s.status === "STOPPING" || s.status === "TERMINATED"),
    );
    const k3sinfra = this.isK3sinfra(inst);
    const nic = (inst.body.networkInterfaces as { networkIP?: string }[] | undefined)?.[0];
    const ip = nic?.networkIP ?? "10.128.0.2";
    return bootTimeline({
      bootAt,
      end: Math.min(now, down?.at ?? Number.POSITIVE_INFINITY),
      scale: this.c.timeScale,
      bootTimeMs: this.c.bootTimeMs,
      k3sinfra,
      faults: k3sinfra ? this.#faults.of(this.subject(inst)) : [],
      preamble: (at) => preamble(inst.name, ip, k3sinfra, at),
    });
  }

  /**
   * When the instance's health check starts passing: once it runs for one that is not a k3sinfra server, once its
   * K3s is ready for one that is (`Infinity` while not); undefined while it does not run.
   */
  healthyFrom(inst: ComputeResource): number | undefined {
    if (statusAt(inst.timeline, this.c.now) !== "RUNNING") return undefined;
    return this.timeline(inst)?.readyAt ?? Number.POSITIVE_INFINITY;
  }

  /**
   * `instances.getSerialPortOutput` (https://cloud.google.com/compute/docs/reference/rest/v1/instances/getSerialPortOutput):
   * `port` 1–4 (a VM has four serial ports; the console is 1, the others stay empty here), `start` a byte offset
   * into the run's output (0 or absent: the first byte; negative: the most recent that many bytes), moved up to
   * the oldest byte kept when older (the last 1 MB per port); `next` the offset after what is returned. Only
   * while the instance runs ("accessible … only while the VM instance is running":
   * https://cloud.google.com/compute/docs/troubleshooting/viewing-serial-port-output); otherwise 400.
   */
  serialPort(inst: ComputeResource, query: URLSearchParams): Record<string, unknown> {
    const port = Number(query.get("port") ?? "1");
    if (!Number.isInteger(port) || port < 1 || port > 4)
      throw gcpErrors.invalid(
        `Invalid value for field 'port': '${query.get("port")}'. Must be between 1 and 4.`,
      );
    const rawStart = query.get("start") ?? "0";
    if (!/^-?\d{1,18}$/.test(rawStart))
      throw gcpErrors.invalid(`Invalid value for field 'start': '${rawStart}'. Must be an integer.`);
    if (statusAt(inst.timeline, this.c.now) !== "RUNNING")
      throw new GcpError(400, "resourceNotReady", `The resource '${inst.path}' is not ready`);
    const t = port === 1 ? this.timeline(inst) : undefined;
    const bytes = t && t.lines.length > 0 ? Buffer.from(consoleText(t.lines)) : Buffer.alloc(0);
    const oldest = Math.max(0, bytes.length - SERIAL_BUFFER);
    const asked = Number(rawStart);
    const start = Math.max(oldest, asked < 0 ? bytes.length + asked : asked);
    return {
      kind: "compute#serialPortOutput",
      contents: bytes.subarray(Math.min(start, bytes.length)).toString("utf8"),
      // int64 fields are JSON strings in the REST encoding.
      start: String(start),
      next: String(Math.max(start, bytes.length)),
      selfLink: `${selfLink(inst.path)}/serialPort`,
    };
  }
}

/**
 * The kernel's, systemd's and cloud-init's first lines on a Compute Engine VM (Ubuntu 24.04's GCP kernel),
 * seconds after boot; `ens4` and a /32 address as the guest environment configures the NIC, the MAC derived
 * from the address as Compute Engine does (`42:01:` + its four bytes).
 */
function preamble(
  name: string,
  ip: string,
  k3sinfra: boolean,
  at: (s: number) => number,
): [number, string][] {
  const mac = `42:01:${ip
    .split(".")
    .map((b) => Number(b).toString(16).padStart(2, "0"))
    .join(":")}`;
  const cloudInit = (s: number, what: string): [number, string] => [
    s,
    `cloud-init[${what === "init" ? 598 : 1021}]: Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running '${what}' at ${new Date(at(s)).toUTCString()}. Up ${s.toFixed(2)} seconds.`,
  ];
  const lines: [number, string][] = [
    [
      0,
      "Linux version 6.14.0-1017-gcp (buildd@lcy02-amd64-041) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.3.0-6ubuntu2~24.04) 13.3.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #18~24.04.1-Ubuntu SMP",
    ],
    [
      0,
      "Command line: BOOT_IMAGE=/boot/vmlinuz-6.14.0-1017-gcp root=PARTUUID=9a1c07d8-01 ro console=ttyS0,115200n8",
    ],
    [0, "DMI: Google Google Compute Engine/Google Compute Engine, BIOS Google 10/01/2025"],
    [0.61, "nvme nvme0: 2/0/0 default/read/poll queues"],
    [1.94, "EXT4-fs (nvme0n1p1): mounted filesystem with ordered data mode. Quota mode: none."],
    [3.08, "systemd[1]: systemd 255.4-1ubuntu8.11 running in system mode"],
    [3.1, "systemd[1]: Detected virtualization google."],
    [3.16, `systemd[1]: Hostname set to <${name}>.`],
    cloudInit(8.92, "init"),
    [10.8, `ci-info: | ens4   | True | ${ip} | 255.255.255.255 | global | ${mac} |`],
    cloudInit(23.61, "modules:final"),
  ];
  if (!k3sinfra)
    lines.push([
      26.4,
      `cloud-init[1021]: Cloud-init v. 24.4.1-0ubuntu0~24.04.1 finished at ${new Date(at(26.4)).toUTCString()}. Datasource DataSourceGCELocal.  Up 26.40 seconds`,
    ]);
  return lines;
}
