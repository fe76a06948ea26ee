/**
 * What a k3sinfra server does after EC2 reports it `running`, as far as the cloud can see it: the shared boot
 * timeline (../../boot/: kernel, cloud-init, then the bootstrap's stages, computed lazily from timestamps) over
 * this instance's boot, with the EC2 kernel's and cloud-init's lines. It feeds two observable things:
 * - ELBv2 target health (elbv2/target-health.ts): a k3sinfra server answers the load balancer's checks only once its
 *   K3s is ready (Traefik listens through K3s's service load balancer), i.e. when its boot passed `k3s-ready`;
 * - EC2 GetConsoleOutput: the serial console, with the boot script's stage lines reached so far, in the format
 *   core's bootstrap/stages.ts writes to /dev/console: `<UTC time> k3sinfra-bootstrap: stage=<name> start`,
 *   `… stage=<name> ok`, and `… stage=<name> failed: <reason>` when a stage fails.
 * And a test back door (`Emulator.failBootstrap`) makes one node's bootstrap fail at a stage until the fault is
 * cleared, after which the node retries (as systemd's `Restart=on-failure` restarts the unit) and completes.
 *
 * The emulator imports nothing of k3sinfra: an instance is a k3sinfra server when its user data (gunzipped as
 * cloud-init does) mentions `k3sinfra-bootstrap` (the script's path, `/usr/local/sbin/k3sinfra-bootstrap`, or
 * its systemd unit). Other instances keep the plain behaviour: their checks pass once they run.
 */

import {
  BootFaultBook,
  type BootTimelineState,
  bootTimeline,
  consoleText,
  failedBefore,
  type Timeline,
} from "../../boot/index.js";
import type { BootFaultTarget, BootStage } from "../../types.js";
import type { Call } from "../kernel/call.js";
import { AwsError } from "../kernel/errors.js";
import type { ServiceKernel } from "../kernel/lookups.js";
import { lastStart, POWER_DURATIONS } from "../kernel/power.js";
import { str, type Tree } from "../kernel/query.js";
import type { Instance } from "../kernel/shapes.js";
import { userDataText } from "./simulation.js";

export { type BootTimelineState, checkStage } from "../../boot/index.js";

/** Without `Latest`, GetConsoleOutput returns the buffer posted this long after the last start (estimate). */
const POST_DELAY_SECONDS = 60;

/** Only the most recent 64 KB of console output is available (API_GetConsoleOutput). */
const CONSOLE_LIMIT = 64 * 1024;

export class BootTimeline {
  /** Whether an instance's user data is k3sinfra's, by instance id (user data never changes on a running one). */
  private readonly k3sinfra = new Map<string, boolean>();
  private readonly faults: BootFaultBook;

  constructor(private readonly k: ServiceKernel<BootTimelineState>) {
    this.faults = new BootFaultBook(
      () => this.k.state(),
      () => this.k.ctx.now(),
    );
  }

  private get scale(): number {
    return this.k.ctx.timeScale;
  }

  /** Is this a k3sinfra server (its user data runs the k3sinfra bootstrap)? */
  isK3sinfra(i: Instance): boolean {
    let known = this.k3sinfra.get(i.id);
    if (known === undefined) {
      known = userDataText(i.userData).includes("k3sinfra-bootstrap");
      this.k3sinfra.set(i.id, known);
    }
    return known;
  }

  /** `EmulatorOptions.bootFaults` become rules from now on; rules of an earlier start no longer listed end now. */
  init(): void {
    this.faults.init(this.k.ctx.options.bootFaults ?? []);
  }

  private instances(): Instance[] {
    return Object.values(this.k.lookups.ec2.regions()).flatMap((r) => Object.values(r.instances));
  }

  private subject = (i: Instance) => ({ id: i.id, tags: i.tags, launchedAt: i.launchedAt });

  private exists(id: string): boolean {
    return Object.values(this.k.lookups.ec2.regions()).some((r) => r.instances[id] !== undefined);
  }

  /** `Emulator.failBootstrap`: false for an unknown instance id. */
  fail(target: BootFaultTarget, stage: BootStage, why?: string): boolean {
    if (typeof target === "string" && !this.exists(target)) return false;
    this.faults.fail(target, stage, why);
    return true;
  }

  /** `Emulator.clearBootstrapFault`: ends the instance's faults, or the rules with exactly these tags and their faults. */
  clear(target: BootFaultTarget): boolean {
    if (typeof target === "string" && !this.exists(target)) return false;
    this.faults.clear(target, this.instances().map(this.subject));
    return true;
  }

  /**
   * The instance's current boot up to `until` (default now): undefined while it has not booted (pending, or a
   * start in progress). A stopped or terminated instance's console ends where it went down.
   */
  timeline(i: Instance, now: number, until = now): Timeline | undefined {
    const bootAt = lastStart(i) + POWER_DURATIONS.pending * 1000 * this.scale;
    const downAt = i.terminatedAt ?? (i.power?.action === "stop" ? i.power.at : undefined);
    const k3sinfra = this.isK3sinfra(i);
    return bootTimeline({
      bootAt,
      end: Math.min(until, now, downAt ?? Number.POSITIVE_INFINITY),
      scale: this.scale,
      bootTimeMs: this.k.ctx.options.bootTimeMs,
      k3sinfra,
      faults: k3sinfra ? this.faults.of(this.subject(i)) : [],
      preamble: (at) => {
        const cloudInit = (s: number, what: string): [number, string] => [
          s,
          `cloud-init[${what === "init" ? 612 : 1043}]: Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running '${what}' at ${new Date(at(s)).toUTCString()}. Up ${s.toFixed(2)} seconds.`,
        ];
        return [
          ...kernelLines(i),
          cloudInit(9.41, "init"),
          [11.2, `ci-info: | ens5   | True | ${i.privateIp} | 255.255.240.0 | global | ${i.mac} |`],
          cloudInit(24.87, "modules:final"),
          ...(k3sinfra
            ? []
            : ([
                [
                  27.3,
                  `cloud-init[1043]: Cloud-init v. 24.4.1-0ubuntu0~24.04.1 finished at ${new Date(at(27.3)).toUTCString()}. Datasource DataSourceEc2Local.  Up 27.30 seconds`,
                ],
              ] as [number, string][])),
        ];
      },
    });
  }

  /**
   * When the instance's health checks start passing (ELBv2, elbv2/target-health.ts): `-Infinity` for an instance that is
   * not a k3sinfra server (it answers once it runs, as before), `Infinity` while its K3s is not ready.
   */
  servingFrom(i: Instance, now: number): number {
    if (!this.isK3sinfra(i)) return Number.NEGATIVE_INFINITY;
    return this.timeline(i, now)?.readyAt ?? Number.POSITIVE_INFINITY;
  }

  /** Has this server's bootstrap failed before `stage`, and not got past it since (simulation.ts)? */
  failedBefore(i: Instance, stage: BootStage, now: number): boolean {
    if (!this.isK3sinfra(i)) return false;
    return failedBefore(this.timeline(i, now), stage);
  }

  /**
   * EC2 GetConsoleOutput (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetConsoleOutput.html):
   * with `Latest`, the serial console up to now; without, the buffer posted shortly after the last start (here
   * 60 s × time scale, nothing before). Only the most recent 64 KB; `Output` base64, `Timestamp` the last line's.
   * No output (only the id) before the instance booted.
   */
  readonly ops = {
    GetConsoleOutput: (input: Tree, call: Call): object => {
      const id = str(input, "InstanceId") ?? "";
      if (!/^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id))
        throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
      const i = this.k.lookups.ec2.getInstance(call.region, id, call.now);
      if (!i) throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
      const latest = str(input, "Latest") === "true";
      const bootAt = lastStart(i) + POWER_DURATIONS.pending * 1000 * this.scale;
      const until = latest ? call.now : bootAt + POST_DELAY_SECONDS * 1000 * this.scale;
      const t = latest || call.now >= until ? this.timeline(i, call.now, until) : undefined;
      const last = t?.lines.at(-1);
      if (!t || !last) return { instanceId: i.id };
      return {
        instanceId: i.id,
        timestamp: new Date(last.at).toISOString(),
        output: Buffer.from(consoleText(t.lines, CONSOLE_LIMIT)).toString("base64"),
      };
    },
  };
}

/** The kernel's and systemd's first lines on a Nitro instance (Ubuntu 24.04's AWS kernel), seconds after boot. */
function kernelLines(i: Instance): [number, string][] {
  return [
    [
      0,
      "Linux version 6.14.0-1015-aws (buildd@lcy02-amd64-075) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.3.0-6ubuntu2~24.04) 13.3.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #15~24.04.1-Ubuntu SMP",
    ],
    [
      0,
      "Command line: BOOT_IMAGE=/vmlinuz-6.14.0-1015-aws root=PARTUUID=4b5e8b4c-01 ro console=tty1 console=ttyS0 nvme_core.io_timeout=4294967295 panic=-1",
    ],
    [0, `DMI: Amazon EC2 ${i.type}/, BIOS 1.0 10/16/2017`],
    [0.52, "nvme nvme0: 2/0/0 default/read/poll queues"],
    [1.87, "EXT4-fs (nvme0n1p1): mounted filesystem with ordered data mode. Quota mode: none."],
    [3.02, "systemd[1]: systemd 255.4-1ubuntu8.11 running in system mode"],
    [3.05, "systemd[1]: Detected virtualization amazon."],
    [3.11, `systemd[1]: Hostname set to <ip-${i.privateIp.replaceAll(".", "-")}>.`],
  ];
}
