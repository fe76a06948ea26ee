/**
 * Azure's side of the shared boot timeline (../boot/): what a booting VM shows the cloud. A VM is a k3sinfra
 * server when its custom data (base64, gunzipped when gzip, as cloud-init reads it) mentions
 * `k3sinfra-bootstrap`. Its boot starts when it is provisioned, or when a start or restart completes
 * (kinds/compute.ts `bootAt`), and ends when it is stopped. It feeds:
 * - the serial console log that boot diagnostics serves (boot-diagnostics.ts): Hyper-V's kernel and
 *   cloud-init's lines, then the bootstrap's stage lines;
 * - the load balancer's probes (kinds/load-balancer.ts `ruleHealth`): a k3sinfra server answers once its boot
 *   passed `k3s-ready`; any other VM once it runs;
 * - the test back doors `failBootstrap`/`clearBootstrapFault` and the `bootFaults` option, for VMs by id or by
 *   tags (names compared case-insensitively, as Azure does:
 *   https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/tag-resources#limitations).
 */
import { gunzipSync } from "node:zlib";
import {
  BootFaultBook,
  type BootTimelineState,
  bootTimeline,
  consoleText,
  type FaultSubject,
  type Timeline,
} from "../boot/index.js";
import type { BootFaultTarget, BootStage, EmulatorOptions } from "../types.js";
import { type Body, obj } from "./check.js";
import { bootAt } from "./kinds/compute.js";
import { VM } from "./kinds/interfaces.js";
import type { AzureState, Res } from "./model.js";

/** What the boot needs of the Azure cloud. */
export interface BootHost {
  readonly state: AzureState;
  readonly options: EmulatorOptions;
  readonly scale: number;
  now(): number;
}

/** Tag names are case-insensitive on Azure, values are not. */
const tagsMatch = (tags: Record<string, string>, want: Record<string, string>): boolean =>
  Object.entries(want).every(([k, v]) =>
    Object.entries(tags).some(([tk, tv]) => tk.toLowerCase() === k.toLowerCase() && tv === v),
  );

/** Custom data as cloud-init reads it: base64, then gzip when it starts with gzip's magic. */
function customDataText(vm: Res): string {
  const raw = vm.hidden?.customData;
  if (typeof raw !== "string") return "";
  const bytes = Buffer.from(raw, "base64");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes).toString("utf8");
    } catch {
      return "";
    }
  }
  return bytes.toString("utf8");
}

export class AzureBoot {
  readonly #book: BootFaultBook;
  /** Whether a VM runs the k3sinfra bootstrap, by lower-cased id (custom data never changes). */
  readonly #k3sinfra = new Map<string, boolean>();

  constructor(private readonly host: BootHost) {
    this.#book = new BootFaultBook(
      () => this.#faults(),
      () => host.now(),
      tagsMatch,
    );
  }

  #faults(): BootTimelineState {
    this.host.state.boot ??= { faults: {}, rules: [] };
    return this.host.state.boot;
  }

  #vms(): Res[] {
    const now = this.host.now();
    return Object.values(this.host.state.resources).filter(
      (r) => r.type === VM && (r.deleteAt === undefined || r.deleteAt > now),
    );
  }

  #subject = (vm: Res): FaultSubject => ({
    id: vm.id.toLowerCase(),
    tags: vm.tags ?? {},
    launchedAt: vm.createdAt,
  });

  /** `EmulatorOptions.bootFaults` become rules from now on (ending those an earlier start listed and this one not). */
  init(): void {
    this.#book.init(this.host.options.bootFaults ?? []);
  }

  isK3sinfra(vm: Res): boolean {
    const key = vm.id.toLowerCase();
    let known = this.#k3sinfra.get(key);
    if (known === undefined) {
      known = customDataText(vm).includes("k3sinfra-bootstrap");
      this.#k3sinfra.set(key, known);
    }
    return known;
  }

  /** `Emulator.failBootstrap`: a VM's id (any case), or every VM with these tags; false for an unknown id. */
  fail(target: BootFaultTarget, stage: BootStage, reason?: string): boolean {
    if (typeof target !== "string") {
      this.#book.fail(target, stage, reason);
      return true;
    }
    const vm = this.#vms().find((r) => r.id.toLowerCase() === target.toLowerCase());
    if (!vm) return false;
    this.#book.fail(vm.id.toLowerCase(), stage, reason);
    return true;
  }

  /** `Emulator.clearBootstrapFault`, same targets. */
  clear(target: BootFaultTarget): boolean {
    const vms = this.#vms();
    if (typeof target !== "string") {
      this.#book.clear(target, vms.map(this.#subject));
      return true;
    }
    const vm = vms.find((r) => r.id.toLowerCase() === target.toLowerCase());
    if (!vm) return false;
    this.#book.clear(vm.id.toLowerCase(), []);
    return true;
  }

  /** The VM's current boot up to `now`: undefined before it started. A stopped VM's ends where it went down. */
  timeline(vm: Res, now: number): Timeline | undefined {
    const down = vm.hidden?.power !== "running" ? (vm.hidden?.downAt as number | undefined) : undefined;
    return bootTimeline({
      bootAt: bootAt(vm),
      end: Math.min(now, down ?? Number.POSITIVE_INFINITY),
      scale: this.host.scale,
      bootTimeMs: this.host.options.bootTimeMs,
      k3sinfra: this.isK3sinfra(vm),
      faults: this.#book.of(this.#subject(vm)),
      preamble: () => preamble(vm, this.host.state),
    });
  }

  /** The serial console log up to `now`, or `undefined` while the VM has written nothing. */
  serialLog(vm: Res, now: number): string | undefined {
    const t = this.timeline(vm, now);
    return t && t.lines.length > 0 ? consoleText(t.lines) : undefined;
  }

  /** When the VM starts answering probes: once it runs, and for a k3sinfra server once K3s is ready. */
  servingFrom(vm: Res, now: number): number {
    return this.timeline(vm, now)?.readyAt ?? Number.POSITIVE_INFINITY;
  }
}

/** The primary NIC's private address (cloud-init prints it). */
function privateIp(vm: Res, state: AzureState): string {
  const nics = (obj(vm.properties, "networkProfile").networkInterfaces as Body[] | undefined) ?? [];
  const nic = state.resources[String(nics[0]?.id ?? "").toLowerCase()];
  const configs = (nic?.properties.ipConfigurations as Body[] | undefined) ?? [];
  return String((configs[0]?.properties as Body | undefined)?.privateIPAddress ?? "10.0.0.4");
}

/** Ubuntu 24.04's Azure kernel on Hyper-V, then cloud-init with the Azure datasource: `[seconds, text]`. */
function preamble(vm: Res, state: AzureState): [number, string][] {
  const host = String((vm.properties.osProfile as Body | undefined)?.computerName ?? vm.name);
  const ip = privateIp(vm, state);
  return [
    [
      0,
      "Linux version 6.14.0-1017-azure (buildd@lcy02-amd64-031) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.3.0-6ubuntu2~24.04) 13.3.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #17~24.04.1-Ubuntu SMP",
    ],
    [
      0,
      "Command line: BOOT_IMAGE=/vmlinuz-6.14.0-1017-azure root=PARTUUID=6a3c0b32-03 ro console=tty1 console=ttyS0 earlyprintk=ttyS0 panic=-1",
    ],
    [
      0,
      "DMI: Microsoft Corporation Virtual Machine/Virtual Machine, BIOS Hyper-V UEFI Release v4.1 09/28/2024",
    ],
    [0, "Hypervisor detected: Microsoft Hyper-V"],
    [1.42, "hv_vmbus: registering driver hv_netvsc"],
    [2.31, "EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none."],
    [3.4, "systemd[1]: systemd 255.4-1ubuntu8.11 running in system mode"],
    [3.44, "systemd[1]: Detected virtualization microsoft."],
    [3.5, `systemd[1]: Hostname set to <${host}>.`],
    [
      10.12,
      "cloud-init[702]: Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'init' . Datasource DataSourceAzure [seed=/dev/sr0].",
    ],
    [11.6, `ci-info: | eth0   | True | ${ip} | 255.255.255.0 | global | ${macOf(vm)} |`],
    [26.02, "cloud-init[1121]: Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'modules:final'."],
  ];
}

/** A stable MAC for the VM (Hyper-V's 00:0d:3a prefix). */
function macOf(vm: Res): string {
  const id = String(vm.properties.vmId ?? vm.id).replace(/[^0-9a-f]/gi, "");
  const b = (i: number) => id.slice(i, i + 2).padEnd(2, "0");
  return `00:0d:3a:${b(0)}:${b(2)}:${b(4)}`;
}
