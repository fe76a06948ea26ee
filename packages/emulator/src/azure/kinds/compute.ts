/**
 * Microsoft.Compute virtual machines (swagger: compute/2025-04-01/virtualMachine.json and computeRPCommon.json;
 * arm-compute 25 sends 2026-04-01): hardware, image, OS profile with custom data and SSH keys only, NICs,
 * zones and user-assigned identities; power actions; the instance view.
 */
import { armErrors } from "../arm.js";
import { arr, type Body, location, obj, ref, str, tags } from "../check.js";
import type { Kind, KindCtx, Res } from "../model.js";
import { VM } from "./interfaces.js";
import { NIC } from "./network.js";

// Linux admin user names Azure refuses (OSProfile.adminUsername).
// https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/create-or-update#osprofile
const RESERVED_USERS = new Set(
  "administrator admin user user1 test user2 test1 user3 admin1 1 123 a actuser adm admin2 aspnet backup console david guest john owner root server sql support support_388945a0 sys test2 test3 user4 user5".split(
    " ",
  ),
);

/** VM names: 1-64 characters, none of `\/"[]:|<>+=;,?*@&`, not starting with `_`, not ending with `.` or `-`. */
const vmName = (name: string): string | undefined =>
  name.length < 1 || name.length > 64
    ? "the length must be between 1 and 64"
    : /[\\/"[\]:|<>+=;,?*@&\s]/.test(name) || name.startsWith("_") || /[.-]$/.test(name)
      ? 'do not use \\/"[]:|<>+=;,?*@& or spaces, do not begin with an underscore, and do not end with a period or hyphen'
      : undefined;

/** Provisioning a VM to `running`, at time scale 1. */
const CREATE_MS = 45_000;

/** Changing these after creation is refused (`PropertyChangeNotAllowed`). */
const IMMUTABLE = ["osProfile.computerName", "osProfile.adminUsername", "osProfile.customData"] as const;

export const virtualMachines: Kind = {
  type: VM,
  createMs: CREATE_MS,
  deleteMs: 30_000,
  putStyle: "async",
  deleteStyle: "async",
  nameRule: vmName,
  put(body, ctx, existing) {
    const p = obj(body, "properties");
    const size = str(p, "hardwareProfile.vmSize");
    const image = obj(p, "storageProfile.imageReference");
    if (!image.id) for (const k of ["publisher", "offer", "sku"]) str(image, k);
    const os = obj(p, "osProfile");
    const computerName = str(os, "computerName", true) ?? ctx.path.names.at(-1)!;
    if (computerName.length > 64 || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(computerName))
      throw armErrors.invalid(
        `Computer name '${computerName}' is invalid for Linux: 1-64 letters, digits and hyphens.`,
        "osProfile.computerName",
        "InvalidParameter",
      );
    const user = str(os, "adminUsername");
    if (RESERVED_USERS.has(user.toLowerCase()) || user.length > 64)
      throw armErrors.invalid(
        `The Admin Username specified is not allowed.`,
        "adminUsername",
        "InvalidParameter",
      );
    const linux = obj(os, "linuxConfiguration");
    const keys = arr(linux, "ssh.publicKeys");
    if (linux.disablePasswordAuthentication === true && keys.length === 0)
      throw armErrors.invalid(
        "Authentication using either SSH or by user name and password must be enabled in Linux profile.",
        "linuxConfiguration",
        "InvalidParameter",
      );
    if (os.adminPassword === undefined && keys.length === 0)
      throw armErrors.invalid(
        "Required parameter 'adminPassword' is missing (null).",
        "adminPassword",
        "InvalidParameter",
      );
    const customData = str(os, "customData", true) ?? (existing?.hidden?.customData as string | undefined);
    if (customData !== undefined) {
      // Custom data is base64 of at most 64 KB (https://learn.microsoft.com/en-us/azure/virtual-machines/custom-data).
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(customData) || customData.length % 4 !== 0)
        throw armErrors.invalid(
          "Custom data in OSProfile must be in Base64 encoding.",
          "customData",
          "InvalidParameter",
        );
      if (Buffer.from(customData, "base64").length > 65_535)
        throw armErrors.invalid(
          "Custom data in OSProfile must be at most 64 KB.",
          "customData",
          "InvalidParameter",
        );
    }
    if (existing) {
      const before: Record<string, unknown> = {
        "osProfile.computerName": (existing.properties.osProfile as Body).computerName,
        "osProfile.adminUsername": (existing.properties.osProfile as Body).adminUsername,
        "osProfile.customData": existing.hidden?.customData,
      };
      const after: Record<string, unknown> = {
        "osProfile.computerName": computerName,
        "osProfile.adminUsername": user,
        "osProfile.customData": customData,
      };
      for (const k of IMMUTABLE)
        if (before[k] !== after[k])
          throw armErrors.invalid(`Changing property '${k}' is not allowed.`, k, "PropertyChangeNotAllowed");
    }
    const nics = arr(p, "networkProfile.networkInterfaces").map((n, i) => ({
      id: ref({ n }, "n", NIC, ctx.get)!,
      properties: {
        primary: obj(n, "properties").primary ?? i === 0,
        deleteOption: obj(n, "properties").deleteOption ?? "Detach",
      },
    }));
    if (nics.length === 0)
      throw armErrors.invalid(
        "At least one network interface is required.",
        "networkProfile",
        "InvalidParameter",
      );
    const zones = body.zones as string[] | undefined;
    if (zones && (zones.length !== 1 || !["1", "2", "3"].includes(zones[0]!)))
      throw armErrors.invalid(
        `The zones '${zones.join(",")}' are invalid: give one of 1, 2, 3.`,
        "zones",
        "InvalidAvailabilityZone",
      );
    if (existing && JSON.stringify(existing.zones ?? []) !== JSON.stringify(zones ?? []))
      throw armErrors.invalid(
        "Changing property 'zones' is not allowed.",
        "zones",
        "PropertyChangeNotAllowed",
      );
    const identity = obj(body, "identity");
    for (const id of Object.keys(obj(identity, "userAssignedIdentities")))
      if (!ctx.get(id))
        throw armErrors.invalid(`The identity ${id} was not found.`, "identity", "FailedIdentityOperation");
    const osDisk = obj(p, "storageProfile.osDisk");
    const diagnostics = bootDiagnostics(p);
    return {
      location: location(body),
      tags: tags(body),
      zones,
      ...(Object.keys(identity).length
        ? {
            identity: {
              type: identity.type ?? "UserAssigned",
              userAssignedIdentities: Object.fromEntries(
                Object.keys(obj(identity, "userAssignedIdentities")).map((k) => [
                  k,
                  {
                    principalId: ctx.get(k)?.properties.principalId,
                    clientId: ctx.get(k)?.properties.clientId,
                  },
                ]),
              ),
            },
          }
        : {}),
      properties: {
        vmId: (existing?.properties.vmId as string | undefined) ?? ctx.rng.uuid(),
        hardwareProfile: { vmSize: size },
        storageProfile: {
          imageReference: image,
          osDisk: {
            osType: "Linux",
            name: `${ctx.path.names.at(-1)}_OsDisk`,
            createOption: osDisk.createOption ?? "FromImage",
            diskSizeGB: osDisk.diskSizeGB ?? 30,
            managedDisk: osDisk.managedDisk ?? { storageAccountType: "Premium_LRS" },
            deleteOption: osDisk.deleteOption ?? "Detach",
          },
        },
        // customData is never returned (https://learn.microsoft.com/en-us/azure/virtual-machines/custom-data).
        osProfile: {
          computerName,
          adminUsername: user,
          linuxConfiguration: {
            disablePasswordAuthentication: linux.disablePasswordAuthentication ?? false,
            ssh: { publicKeys: keys },
          },
          allowExtensionOperations: true,
        },
        networkProfile: { networkInterfaces: nics },
        ...(diagnostics ? { diagnosticsProfile: { bootDiagnostics: diagnostics } } : {}),
      },
      hidden: {
        customData,
        power: (existing?.hidden?.power as string | undefined) ?? "running",
        // The boot the serial log and the probes follow (boot.ts): an update keeps the VM running.
        bootAt: existing ? bootAt(existing) : ctx.now + CREATE_MS * ctx.scale,
        ...(existing?.hidden?.downAt !== undefined ? { downAt: existing.hidden.downAt } : {}),
      },
    };
  },
  view: (r, ctx) => (ctx.apiVersion && ctx.path ? { instanceView: instanceView(r, ctx.now) } : {}),
  afterDelete(r, ctx) {
    // Resources created with deleteOption Delete go with the VM (its OS disk is not modelled; NICs are).
    const nics = (obj(r.properties, "networkProfile").networkInterfaces as Body[] | undefined) ?? [];
    for (const n of nics) {
      const nic = ctx.get(String(n.id));
      if (nic && obj(n, "properties").deleteOption === "Delete") nic.deleteAt = r.deleteAt;
    }
  },
  actions: {
    start: (r, _b, ctx) => power(r, "running", 20_000, ctx, false),
    restart: (r, _b, ctx) => power(r, "running", 20_000, ctx, true),
    poweroff: (r, _b, ctx) => power(r, "stopped", 15_000, ctx, false),
    deallocate: (r, _b, ctx) => power(r, "deallocated", 30_000, ctx, false),
  },
};

/**
 * A start of a VM that is not running, or a restart, boots it again once the action completes (its console
 * starts over); a stop ends the boot now. Starting a running VM changes nothing.
 */
function power(r: Res, to: string, ms: number, ctx: KindCtx, reboot: boolean) {
  const { downAt: _d, ...rest } = r.hidden ?? {};
  const wasRunning = r.hidden?.power === "running";
  const boot = to === "running" && (reboot || !wasRunning) ? ctx.now + ms * ctx.scale : bootAt(r);
  r.hidden = {
    ...rest,
    power: to,
    powerAt: undefined,
    bootAt: boot,
    ...(to === "running" ? {} : { downAt: ctx.now }),
  };
  return { ms };
}

/** When the VM's current boot began (it left provisioning, or its last start completed). */
export const bootAt = (r: Res): number => (r.hidden?.bootAt as number | undefined) ?? r.readyAt;

/** Boot diagnostics as the body sets it (`properties.diagnosticsProfile.bootDiagnostics`), if it does. */
function bootDiagnostics(p: Body): Body | undefined {
  const d = obj(p, "diagnosticsProfile.bootDiagnostics");
  if (Object.keys(d).length === 0) return undefined;
  if (typeof d.enabled !== "boolean")
    throw armErrors.invalid(
      "'diagnosticsProfile.bootDiagnostics.enabled' must be a boolean.",
      "diagnosticsProfile.bootDiagnostics.enabled",
      "InvalidParameter",
    );
  const storageUri = str(d, "storageUri", true);
  // Without storageUri the logs go to a managed storage account (api-version 2020-06-01 and later).
  // https://learn.microsoft.com/en-us/azure/virtual-machines/boot-diagnostics
  return { enabled: d.enabled, ...(storageUri ? { storageUri } : {}) };
}

/** Whether boot diagnostics is on (retrieveBootDiagnosticsData refuses it otherwise). */
export const bootDiagnosticsOn = (r: Res): boolean =>
  (obj(r.properties, "diagnosticsProfile.bootDiagnostics") as { enabled?: unknown }).enabled === true;

/** Provisioning and power state as `$expand=instanceView` shows them; an update leaves the VM running. */
export function instanceView(r: Res, now: number): Body {
  const ready = now >= r.readyAt;
  const updating = !ready && r.hidden?.updated === true;
  const power = String(r.hidden?.power ?? "running");
  const code = !ready && !updating ? "starting" : power;
  const prov = ready ? "succeeded" : updating ? "updating" : "creating";
  return {
    computerName: (r.properties.osProfile as Body).computerName,
    osName: "ubuntu",
    statuses: [
      {
        code: `ProvisioningState/${prov}`,
        level: "Info",
        displayStatus: ready ? "Provisioning succeeded" : updating ? "Updating" : "Creating",
      },
      { code: `PowerState/${code}`, level: "Info", displayStatus: `VM ${code}` },
    ],
  };
}
