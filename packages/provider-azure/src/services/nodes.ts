import type { VirtualMachine } from "@azure/arm-compute";
import {
  InvalidConfigError,
  type NodeService,
  type NodeSpec,
  type NodeState,
  ProviderError,
  type ResourceContext,
  type Tags,
} from "@k3sinfra/core";
import { azureCall, collect, orMissing } from "../call.js";
import type { AzureClients } from "../clients.js";
import { hasAzureCode } from "../errors.js";
import { assertOwned, hasTags, parseId, resourceGroupOf } from "../naming.js";
import type { AzureOptions } from "../options.js";
import { IMAGES, vmSize } from "../sizing.js";
import { throwawayPublicKey } from "../ssh-key.js";
import { waitGone, waitSucceeded } from "./arm-wait.js";
import { readSasBlob, SAS_MINUTES } from "./boot-log.js";
import { inUserVnet } from "./network-user.js";
import { getNic, putNic } from "./nic.js";

const MINUTE = 60_000;
// The admin user Ubuntu images have elsewhere (EC2, GCE): the one core names in the kubeconfig commands it
// prints. Not among Azure's refused names (https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/create-or-update#osprofile).
const ADMIN = "ubuntu";
/** Published late values are VM tags under this prefix (the metadata reader reads them from IMDS). */
export const PUBLISH_PREFIX = "k3sinfra:";

/**
 * Boot diagnostics on managed storage: no `storageUri`, Azure keeps the serial log in a storage account of its
 * own (api-version 2020-06-01 and later; @azure/arm-compute 25 sends 2026-04-01). The serial log is where the
 * boot script's stage lines show without logging in (`bootLog`).
 * https://learn.microsoft.com/en-us/azure/virtual-machines/boot-diagnostics
 */
const BOOT_DIAGNOSTICS = { bootDiagnostics: { enabled: true } } as const;

/** A node as this provider records it. */
export interface AzureNodeState extends NodeState {
  /**
   * Boot diagnostics is on (the serial log `bootLog` reads). Recorded, so one turned off outside k3sinfra is
   * drift, which `update` repairs; a VM recorded before the field existed has nothing to drift on (README).
   */
  readonly bootDiagnostics?: boolean | undefined;
}

const bootDiagnosticsOn = (vm: VirtualMachine): boolean =>
  vm.diagnosticsProfile?.bootDiagnostics?.enabled === true;

/** The power state of an instance view (`PowerState/running` → `running`); `starting` while provisioning. */
const powerOf = (vm: VirtualMachine): string => {
  const statuses = vm.instanceView?.statuses ?? [];
  const prov = statuses.find((s) => s.code?.startsWith("ProvisioningState/"))?.code?.split("/")[1];
  const power = statuses.find((s) => s.code?.startsWith("PowerState/"))?.code?.split("/")[1];
  if (prov && prov !== "succeeded") return prov === "failed" ? "failed" : "starting";
  return power ?? "unknown";
};

/**
 * K3s servers as VMs: one NIC in the node subnet and one VM in the node's zone, Ubuntu, SSH key only, the
 * bootstrap as custom data, the cluster's node identity attached. Late values go in the VM's tags.
 */
export class AzureNodeService implements NodeService {
  readonly updatable = [] as const;

  constructor(
    private readonly clients: AzureClients,
    private readonly options: AzureOptions,
  ) {}

  async native(): Promise<unknown> {
    return this.clients.compute();
  }

  async create(spec: NodeSpec, ctx: ResourceContext): Promise<NodeState> {
    const rg = parseId(spec.network.id).resourceGroup;
    const name = ctx.name;
    const compute = await this.clients.compute();
    const get = () => this.getVm(rg, name, ctx);
    const existing = await get();
    if (existing) assertOwned(existing.tags, ctx, `virtual machine ${existing.id}`);
    else {
      const subnet = spec.network.subnets.find((s) => s.zone === spec.zone) ?? spec.network.subnets[0];
      if (!subnet)
        throw new InvalidConfigError([{ path: "zones", message: `no subnet serves zone ${spec.zone}` }]);
      const nicName = `${name}-nic`;
      // In a user's VNet the node rules are an NSG on the NIC: the node subnet's own NSG stays the user's.
      const nsg = inUserVnet(spec.network) ? spec.network.groups.nodes : undefined;
      const nic = await putNic(
        this.clients,
        rg,
        nicName,
        {
          location: ctx.region,
          tags: { ...ctx.tags },
          ...(nsg ? { networkSecurityGroup: { id: nsg } } : {}),
          ipConfigurations: [
            {
              name: "ipconfig1",
              subnet: { id: subnet.id },
              privateIPAllocationMethod: "Dynamic",
              primary: true,
            },
          ],
        },
        ctx,
      );
      const image = IMAGES[spec.image];
      const size = spec.instanceType ?? this.options.vmSize ?? vmSize(spec.size);
      if (!image || !size)
        throw new InvalidConfigError([
          {
            path: image ? "nodes.size" : "nodes.image",
            message: image
              ? "no VM size fits; set nodes.instanceType"
              : `unknown image '${spec.image}' on Azure; use ubuntu-24.04`,
          },
        ]);
      const identity = spec.network.nodeIdentity;
      // The user data, base64, as custom data: cloud-init runs it on first boot. It holds secrets, so it never
      // goes into a message.
      const customData = Buffer.from(spec.userData, "utf8").toString("base64");
      await azureCall(
        `Compute VirtualMachines_CreateOrUpdate (${name})`,
        ctx,
        (o) =>
          compute.virtualMachines
            .createOrUpdate(
              rg,
              name,
              {
                location: ctx.region,
                tags: { ...ctx.tags },
                zones: [spec.zone],
                ...(identity
                  ? { identity: { type: "UserAssigned", userAssignedIdentities: { [identity]: {} } } }
                  : {}),
                hardwareProfile: { vmSize: size },
                storageProfile: {
                  imageReference: image,
                  osDisk: {
                    createOption: "FromImage",
                    diskSizeGB: spec.diskGiB,
                    managedDisk: { storageAccountType: "Premium_LRS" },
                    deleteOption: "Delete",
                  },
                },
                osProfile: {
                  computerName: name,
                  adminUsername: ADMIN,
                  customData,
                  linuxConfiguration: {
                    disablePasswordAuthentication: true,
                    ssh: {
                      publicKeys: [
                        {
                          path: `/home/${ADMIN}/.ssh/authorized_keys`,
                          keyData: this.options.sshPublicKey ?? throwawayPublicKey(),
                        },
                      ],
                    },
                  },
                },
                networkProfile: {
                  networkInterfaces: [{ id: nic.id, primary: true, deleteOption: "Delete" }],
                },
                diagnosticsProfile: BOOT_DIAGNOSTICS,
              },
              o,
            )
            .submitted(),
        [customData, spec.userData],
      );
    }
    let vm = await waitSucceeded(`virtual machine ${name} to run`, get, ctx, 20 * MINUTE, (v) => {
      const p = powerOf(v);
      return p === "running" ? "Succeeded" : p === "failed" ? "Failed" : p;
    });
    // One adopted from a run that crashed after creating it, made by an earlier version: without boot diagnostics.
    if (!bootDiagnosticsOn(vm)) vm = await this.enableBootDiagnostics(rg, vm, ctx);
    return this.state(rg, vm, ctx);
  }

  async read(state: NodeState, ctx: ResourceContext): Promise<NodeState | undefined> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const vm = await this.getVm(rg, name, ctx);
    return vm ? this.state(rg, vm, ctx) : undefined;
  }

  /**
   * Repairs drift: boot diagnostics turned off outside k3sinfra (or never on: a VM made before k3sinfra enabled
   * it) is turned on again; a VM stopped or deallocated outside k3sinfra is started again.
   */
  async update(state: NodeState, _spec: NodeSpec, ctx: ResourceContext): Promise<NodeState> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const compute = await this.clients.compute();
    const vm = await this.getVm(rg, name, ctx);
    if (!vm) return state;
    await this.enableBootDiagnostics(rg, vm, ctx);
    if (powerOf(vm) !== "running") {
      await azureCall(`Compute VirtualMachines_Start (${name})`, ctx, (o) =>
        compute.virtualMachines.start(rg, name, o).submitted(),
      );
    }
    const running = await waitSucceeded(
      `virtual machine ${name} to run`,
      () => this.getVm(rg, name, ctx),
      ctx,
      20 * MINUTE,
      (v) => (powerOf(v) === "running" ? "Succeeded" : powerOf(v)),
    );
    return this.state(rg, running, ctx);
  }

  async delete(state: NodeState, ctx: ResourceContext): Promise<void> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const compute = await this.clients.compute();
    const net = await this.clients.network();
    const vm = await this.getVm(rg, name, ctx);
    if (vm) {
      assertOwned(vm.tags, ctx, `virtual machine ${vm.id}`);
      await azureCall(`Compute VirtualMachines_Delete (${name})`, ctx, (o) =>
        compute.virtualMachines.delete(rg, name, o).submitted(),
      );
      await waitGone(
        `virtual machine ${name} to be deleted`,
        () => this.getVm(rg, name, ctx),
        ctx,
        30 * MINUTE,
      );
    }
    // The NIC goes with the VM (deleteOption Delete); one left by a crash before the VM existed goes here.
    const nicName = `${name}-nic`;
    const nic = await getNic(this.clients, rg, nicName, ctx);
    if (nic) {
      assertOwned(nic.tags, ctx, `network interface ${nic.id}`);
      await azureCall(`Network NetworkInterfaces_Delete (${nicName})`, ctx, (o) =>
        net.networkInterfaces.delete(rg, nicName, o).submitted(),
      );
      await waitGone(
        `network interface ${nicName} to be deleted`,
        () => getNic(this.clients, rg, nicName, ctx),
        ctx,
        10 * MINUTE,
      );
    }
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<NodeState[]> {
    const rg = resourceGroupOf(this.options, ctx.cluster);
    const compute = await this.clients.compute();
    const vms = await orMissing(
      azureCall(`Compute VirtualMachines_List (${rg})`, ctx, () => collect(compute.virtualMachines.list(rg))),
    );
    const out: NodeState[] = [];
    for (const v of vms ?? []) {
      if (!hasTags(v.tags, tags) || !v.name) continue;
      const vm = await this.getVm(rg, v.name, ctx);
      if (vm) out.push(await this.state(rg, vm, ctx));
    }
    return out;
  }

  /** Writes the late values as VM tags `k3sinfra:<key>`, keeping every other tag (idempotent). */
  async publish(
    state: NodeState,
    values: Readonly<Record<string, string>>,
    ctx: ResourceContext,
  ): Promise<void> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const compute = await this.clients.compute();
    const vm = await this.getVm(rg, name, ctx);
    if (!vm) return;
    const tags = { ...(vm.tags ?? {}) };
    for (const [k, v] of Object.entries(values)) tags[`${PUBLISH_PREFIX}${k}`] = v;
    if (Object.entries(tags).every(([k, v]) => vm.tags?.[k] === v)) return;
    await azureCall(`Compute VirtualMachines_Update (${name}, tags)`, ctx, (o) =>
      compute.virtualMachines.update(rg, name, { tags }, o).submitted(),
    );
  }

  /**
   * The serial console log from boot diagnostics, or `undefined` before the VM wrote one. A SAS URI of the log
   * blob is asked for, read at once and dropped (boot-log.ts: it is a credential and goes nowhere else).
   * https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/retrieve-boot-diagnostics-data
   */
  async bootLog(state: NodeState, ctx: ResourceContext): Promise<string | undefined> {
    const { resourceGroup: rg, name } = parseId(state.id);
    const compute = await this.clients.compute();
    const data = await azureCall(`Compute VirtualMachines_RetrieveBootDiagnosticsData (${name})`, ctx, (o) =>
      compute.virtualMachines.retrieveBootDiagnosticsData(rg, name, {
        ...o,
        sasUriExpirationTimeInMinutes: SAS_MINUTES,
      }),
    ).catch((error: unknown) => {
      // Refused for a VM whose boot diagnostics is off (one made before k3sinfra enabled it).
      if (!hasAzureCode(error, "OperationNotAllowed")) throw error;
      throw new ProviderError(
        `boot diagnostics is off on virtual machine ${name}, so its serial log cannot be read; turn it on with \`az vm boot-diagnostics enable --ids ${state.id}\` (the provider's README says when up does it)`,
        { cause: error },
      );
    });
    const uri = data.serialConsoleLogBlobUri;
    return uri ? readSasBlob(uri, `serial console log of ${name}`, ctx, this.clients.trust()) : undefined;
  }

  /** Turns boot diagnostics on (managed storage) where it is off; the VM once it has taken it. */
  private async enableBootDiagnostics(
    rg: string,
    vm: VirtualMachine,
    ctx: ResourceContext,
  ): Promise<VirtualMachine> {
    const name = vm.name ?? "";
    if (bootDiagnosticsOn(vm)) return vm;
    ctx.report(`turning on boot diagnostics of ${name}`);
    const compute = await this.clients.compute();
    await azureCall(`Compute VirtualMachines_Update (${name}, boot diagnostics)`, ctx, (o) =>
      compute.virtualMachines.update(rg, name, { diagnosticsProfile: BOOT_DIAGNOSTICS }, o).submitted(),
    );
    return waitSucceeded(
      `virtual machine ${name} to take boot diagnostics`,
      () => this.getVm(rg, name, ctx),
      ctx,
      20 * MINUTE,
    );
  }

  private getVm(rg: string, name: string, ctx: ResourceContext): Promise<VirtualMachine | undefined> {
    return this.clients
      .compute()
      .then((c) =>
        orMissing(
          azureCall(`Compute VirtualMachines_Get (${name})`, ctx, (o) =>
            c.virtualMachines.get(rg, name, { ...o, expand: "instanceView" }),
          ),
        ),
      );
  }

  private async state(rg: string, vm: VirtualMachine, ctx: ResourceContext): Promise<AzureNodeState> {
    const nicId = vm.networkProfile?.networkInterfaces?.[0]?.id ?? "";
    const nicName = parseId(nicId).name;
    const nic = nicName ? await getNic(this.clients, rg, nicName, ctx) : undefined;
    return {
      id: vm.id ?? "",
      name: vm.name ?? "",
      zone: vm.zones?.[0] ?? "",
      privateIp: nic?.ipConfigurations?.[0]?.privateIPAddress ?? "",
      status: powerOf(vm),
      instanceType: vm.hardwareProfile?.vmSize ?? "",
      bootDiagnostics: bootDiagnosticsOn(vm),
    };
  }
}
