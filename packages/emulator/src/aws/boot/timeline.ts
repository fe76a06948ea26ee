/**
 * What a k3sinfra server does after EC2 reports it `running`, as far as the cloud can see it: a boot timeline
 * per instance (kernel, cloud-init, then the bootstrap's stages), computed lazily from timestamps like every
 * other lifecycle. It feeds two observable things:
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
 *
 * The offsets are estimates at time scale 1, not measurements: Ubuntu 24.04 on a Nitro instance reaches
 * cloud-init's final stage in ~25–40 s (kernel + systemd + cloud-init init/config), installing K3s (download of
 * the install script and binary, airgap-less) takes about a minute, and K3s on an external MySQL datastore is
 * ready ~30 s after it starts (K3s's own quick-start gives "a few minutes" for the whole; K3s HA docs:
 * https://docs.k3s.io/datastore/ha). `EmulatorOptions.bootTimeMs` stretches or shrinks them together.
 */
import { Buffer } from "node:buffer";
import type { BootStage } from "../../types.js";
import type { Call } from "../kernel/call.js";
import { AwsError } from "../kernel/errors.js";
import type { ServiceKernel } from "../kernel/lookups.js";
import { lastStart, POWER_DURATIONS } from "../kernel/power.js";
import { str, type Tree } from "../kernel/query.js";
import type { Instance } from "../kernel/shapes.js";
import { userDataText } from "./simulation.js";
import {
  ATTEMPT_SECONDS,
  BOOT_STAGES,
  type BootFault,
  type BootTarget,
  type BootTimelineState,
  CONSOLE_LIMIT,
  checkStage,
  DEFAULT_BOOT_TIME_MS,
  DEFAULT_REASON,
  iso,
  type Line,
  MAX_ATTEMPTS_SHOWN,
  matches,
  POST_DELAY_SECONDS,
  RESTART_MAX_SECONDS,
  RESTART_STEPS,
  restartDelay,
  STAGE_OFFSETS,
  sameTags,
  type Timeline,
} from "./timeline-model.js";

export { BOOT_STAGES, type BootTimelineState, checkStage, DEFAULT_BOOT_TIME_MS } from "./timeline-model.js";

export class BootTimeline {
  /** Whether an instance's user data is k3sinfra's, by instance id (user data never changes on a running one). */
  private readonly k3sinfra = new Map<string, boolean>();

  constructor(private readonly k: ServiceKernel<BootTimelineState>) {}

  private get state(): BootTimelineState {
    return this.k.state();
  }

  private get scale(): number {
    return this.k.ctx.timeScale;
  }

  /** Milliseconds of the emulator's clock per second of the default boot: `bootTimeMs` stretches it, `timeScale` too. */
  private get stretch(): number {
    const total = this.k.ctx.options.bootTimeMs ?? DEFAULT_BOOT_TIME_MS;
    return (total / DEFAULT_BOOT_TIME_MS) * 1000 * this.scale;
  }

  /** When a stage starts, in ms after the boot started, without failures. */
  private offset(stage: BootStage): number {
    return STAGE_OFFSETS[stage] * this.stretch;
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
    const wanted = this.k.ctx.options.bootFaults ?? [];
    const now = this.k.ctx.now();
    for (const r of this.state.rules) {
      if (!r.fromOptions || r.until !== undefined) continue;
      if (!wanted.some((w) => sameTags(w.tags, r.tags) && w.stage === r.stage)) r.until = now;
    }
    for (const w of wanted) {
      const stage = checkStage(w.stage);
      const open = this.state.rules.find(
        (r) => r.fromOptions && r.until === undefined && sameTags(r.tags, w.tags) && r.stage === stage,
      );
      if (!open)
        this.state.rules.push({
          tags: { ...w.tags },
          stage,
          reason: w.reason ?? DEFAULT_REASON,
          since: now,
          fromOptions: true,
        });
    }
  }

  private findInstance(id: string): Instance | undefined {
    for (const r of Object.values(this.k.lookups.ec2.regions())) if (r.instances[id]) return r.instances[id];
    return undefined;
  }

  /** `Emulator.failBootstrap`: false for an unknown instance id. */
  fail(target: BootTarget, stage: BootStage, why = DEFAULT_REASON): boolean {
    const now = this.k.ctx.now();
    // One console line.
    const reason = why.replace(/\s+/g, " ").trim() || DEFAULT_REASON;
    if (typeof target !== "string") {
      this.state.rules.push({ tags: { ...target.tags }, stage, reason, since: now });
      return true;
    }
    if (!this.findInstance(target)) return false;
    this.state.faults[target] ??= [];
    this.state.faults[target].push({ stage, reason, setAt: now });
    return true;
  }

  /** `Emulator.clearBootstrapFault`: ends the instance's faults, or the rules with exactly these tags and their faults. */
  clear(target: BootTarget): boolean {
    const now = this.k.ctx.now();
    const end = (f: BootFault) => {
      if (f.clearedAt === undefined) f.clearedAt = now;
    };
    if (typeof target !== "string") {
      for (const r of this.state.rules)
        if (r.until === undefined && sameTags(r.tags, target.tags)) r.until = now;
      for (const r of Object.values(this.k.lookups.ec2.regions()))
        for (const i of Object.values(r.instances))
          if (matches(i.tags, target.tags)) for (const f of this.state.faults[i.id] ?? []) end(f);
      return true;
    }
    if (!this.findInstance(target)) return false;
    for (const f of this.state.faults[target] ?? []) end(f);
    return true;
  }

  /** The instance's own faults and those of the rules its tags match (from its launch or the rule, whichever is later). */
  private faultsOf(i: Instance): BootFault[] {
    const out = [...(this.state.faults[i.id] ?? [])];
    for (const r of this.state.rules) {
      if (!matches(i.tags, r.tags)) continue;
      out.push({
        stage: r.stage,
        reason: r.reason,
        setAt: Math.max(r.since, i.launchedAt),
        ...(r.until !== undefined ? { clearedAt: r.until } : {}),
      });
    }
    return out;
  }

  /** The fault that fails an attempt of `stage` starting at `at`, if any. */
  private activeFault(faults: BootFault[], stage: BootStage, at: number): BootFault | undefined {
    return faults.find(
      (f) => f.stage === stage && f.setAt <= at && (f.clearedAt === undefined || f.clearedAt > at),
    );
  }

  /**
   * The instance's current boot up to `until` (default now): undefined while it has not booted (pending, or a
   * start in progress). A stopped or terminated instance's console ends where it went down.
   */
  timeline(i: Instance, now: number, until = now): Timeline | undefined {
    const bootAt = lastStart(i) + POWER_DURATIONS.pending * 1000 * this.scale;
    const downAt = i.terminatedAt ?? (i.power?.action === "stop" ? i.power.at : undefined);
    const end = Math.min(until, now, downAt ?? Number.POSITIVE_INFINITY);
    if (end < bootAt) return undefined;
    const lines: Line[] = [];
    // The kernel's uptime stamp, in the node's own seconds (time scale undone).
    const up = (at: number): string =>
      `[${(this.scale > 0 ? (at - bootAt) / this.scale / 1000 : 0).toFixed(6).padStart(12)}]`;
    const sec = (s: number) => bootAt + s * this.stretch;
    const push = (at: number, text: string) => {
      if (at <= end) lines.push({ at, text });
    };
    for (const [s, text] of kernelLines(i)) push(sec(s), `${up(sec(s))} ${text}`);
    const cloudInit = (s: number, what: string) =>
      push(
        sec(s),
        `${up(sec(s))} cloud-init[${what === "init" ? 612 : 1043}]: Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running '${what}' at ${new Date(sec(s)).toUTCString()}. Up ${s.toFixed(2)} seconds.`,
      );
    cloudInit(9.41, "init");
    push(sec(11.2), `ci-info: | ens5   | True | ${i.privateIp} | 255.255.240.0 | global | ${i.mac} |`);
    cloudInit(24.87, "modules:final");
    const timeline: Timeline = { bootAt, lines };
    if (!this.isK3sinfra(i)) {
      const done = sec(27.3);
      push(
        done,
        `${up(done)} cloud-init[1043]: Cloud-init v. 24.4.1-0ubuntu0~24.04.1 finished at ${new Date(done).toUTCString()}. Datasource DataSourceEc2Local.  Up 27.30 seconds`,
      );
      timeline.readyAt = bootAt;
      return timeline;
    }
    const unit = "k3sinfra-bootstrap.service";
    const systemd = (at: number, text: string) => push(at, `${up(at)} ${text}`);
    systemd(sec(STAGE_OFFSETS.secrets - 2), `         Starting ${unit}...`);
    // The script's stage lines (core's bootstrap/stages.ts writes them to /dev/console): `<UTC time>
    // k3sinfra-bootstrap: stage=<name> start|ok|failed[: <detail>]`.
    const stageLine = (at: number, stage: BootStage, event: "start" | "ok" | "failed", detail?: string) => {
      push(at, `${iso(at)} k3sinfra-bootstrap: stage=${stage} ${event}${detail ? `: ${detail}` : ""}`);
      if (at <= end) {
        timeline.stage = stage;
        if (event === "failed" && detail) timeline.failure = detail;
        else delete timeline.failure;
      }
    };
    const faults = this.faultsOf(i);
    const attempt = ATTEMPT_SECONDS * 1000 * this.scale;
    // Attempt m of a stage (0 the first) starts at first + since(m): each failed attempt runs `attempt`, then
    // systemd waits its restart delay.
    const since = (m: number): number => {
      let total = 0;
      for (let r = 1; r <= Math.min(m, RESTART_STEPS + 1); r++)
        total += attempt + restartDelay(r) * this.scale;
      if (m > RESTART_STEPS + 1)
        total += (m - RESTART_STEPS - 1) * (attempt + RESTART_MAX_SECONDS * 1000 * this.scale);
      return total;
    };
    // The first attempt (m ≥ 1) starting at or after `t` (`inclusive`), or after it.
    const attemptFrom = (first: number, t: number, inclusive = true): number => {
      const past = (m: number) => (inclusive ? first + since(m) >= t : first + since(m) > t);
      for (let m = 1; m <= RESTART_STEPS + 1; m++) if (past(m)) return m;
      const cycle = Math.max(1, attempt + RESTART_MAX_SECONDS * 1000 * this.scale);
      let m = RESTART_STEPS + 1 + Math.max(1, Math.floor((t - first - since(RESTART_STEPS + 1)) / cycle));
      while (!past(m)) m++;
      while (m > RESTART_STEPS + 2 && past(m - 1)) m--;
      return m;
    };
    const reentered = (at: number, j: number) => {
      // systemd runs the unit again; its idempotent re-entry passes the stages done before at once.
      systemd(at, `         Starting ${unit}...`);
      for (const before of BOOT_STAGES.slice(0, j)) {
        stageLine(at, before, "start");
        stageLine(at, before, "ok");
      }
    };
    // `shift`: how much later than planned the boot runs, after failed attempts.
    let shift = 0;
    for (let j = 0; j < BOOT_STAGES.length; j++) {
      const stage = BOOT_STAGES[j]!;
      const first = bootAt + this.offset(stage) + shift;
      if (first > end) break;
      // The previous stage ends where this one starts.
      if (j > 0) stageLine(first, BOOT_STAGES[j - 1]!, "ok");
      // K3s serves once the boot passed `k3s-ready`, whether or not what comes next succeeds.
      if (j > 0 && BOOT_STAGES[j - 1] === "k3s-ready") timeline.readyAt ??= first;
      // The first attempt no fault fails (Infinity: none will).
      let ok = 0;
      for (let f = this.activeFault(faults, stage, first); f; ) {
        if (f.clearedAt === undefined) {
          ok = Number.POSITIVE_INFINITY;
          break;
        }
        ok = Math.max(ok + 1, attemptFrom(first, f.clearedAt));
        f = this.activeFault(faults, stage, first + since(ok));
      }
      // The failed attempts up to `end`, the last few of them (older ones left the console buffer long ago).
      const lastFailed = Math.min(ok, attemptFrom(first, end, false)) - 1;
      for (let m = Math.max(0, lastFailed - MAX_ATTEMPTS_SHOWN + 1); m <= lastFailed; m++) {
        const a = first + since(m);
        const fault = this.activeFault(faults, stage, a);
        if (m > 0) reentered(a, j);
        stageLine(a, stage, "start");
        stageLine(a + attempt, stage, "failed", fault?.reason ?? DEFAULT_REASON);
        systemd(a + attempt, `[FAILED] Failed to start ${unit}.`);
      }
      const at = first + since(ok);
      if (at > end) break;
      if (ok > 0) reentered(at, j);
      stageLine(at, stage, stage === "done" ? "ok" : "start");
      shift += at - first;
    }
    const last = lines.at(-1);
    if (timeline.stage === "done" && last) systemd(last.at, `[  OK  ] Finished ${unit}.`);
    return timeline;
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
    const t = this.timeline(i, now);
    if (!t?.failure || !t.stage) return false;
    return BOOT_STAGES.indexOf(t.stage) < BOOT_STAGES.indexOf(stage);
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
      let text = `${t.lines.map((l) => l.text).join("\n")}\n`;
      if (Buffer.byteLength(text) > CONSOLE_LIMIT) {
        const bytes = Buffer.from(text);
        text = bytes.subarray(bytes.length - CONSOLE_LIMIT).toString("utf8");
      }
      return {
        instanceId: i.id,
        timestamp: new Date(last.at).toISOString(),
        output: Buffer.from(text).toString("base64"),
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
