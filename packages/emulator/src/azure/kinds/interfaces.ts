/**
 * Microsoft.Network public IP addresses and network interfaces (swagger: network/2026-01-01/publicIpAddress.json,
 * networkInterface.json). Addresses are allocated at PUT; an address or interface still attached to something
 * refuses deletion, as Azure does.
 */
import { armErrors } from "../arm.js";
import { arr, type Body, location, networkName, obj, oneOf, ref, str, tags } from "../check.js";
import { hostAt, sizeOf } from "../cidr.js";
import type { Kind, KindCtx, Res } from "../model.js";
import { NIC, SUBNET } from "./network.js";

export const PUBLIC_IP = "Microsoft.Network/publicIPAddresses";
export const LOAD_BALANCER = "Microsoft.Network/loadBalancers";
export const VM = "Microsoft.Compute/virtualMachines";

const lower = (s: string) => s.toLowerCase();
const refId = (v: unknown): string => lower(String((v as Body | undefined)?.id ?? ""));

/** The LB frontend or NIC IP configuration a public IP is attached to. */
function publicIpUser(ctx: KindCtx, ipId: string): string | undefined {
  for (const lb of ctx.list(LOAD_BALANCER))
    for (const fe of (lb.properties.frontendIPConfigurations as Body[] | undefined) ?? [])
      if (refId((fe.properties as Body | undefined)?.publicIPAddress) === lower(ipId))
        return `${lb.id}/frontendIPConfigurations/${String(fe.name)}`;
  for (const nic of ctx.list(NIC))
    for (const ip of (nic.properties.ipConfigurations as Body[] | undefined) ?? [])
      if (refId((ip.properties as Body | undefined)?.publicIPAddress) === lower(ipId))
        return `${nic.id}/ipConfigurations/${String(ip.name)}`;
  return undefined;
}

export const publicIPAddresses: Kind = {
  type: PUBLIC_IP,
  createMs: 3_000,
  deleteMs: 3_000,
  putStyle: "async",
  deleteStyle: "async",
  nameRule: networkName(1, 80),
  put(body, ctx, existing) {
    const sku = oneOf(body, "sku.name", ["Basic", "Standard", "StandardV2"]) ?? "Basic";
    const tier = oneOf(body, "sku.tier", ["Regional", "Global"]) ?? "Regional";
    const method = oneOf(body, "properties.publicIPAllocationMethod", ["Static", "Dynamic"]) ?? "Dynamic";
    // Standard SKU public IPs are static only (https://learn.microsoft.com/en-us/azure/virtual-network/ip-services/public-ip-addresses#sku).
    if (sku === "Standard" && method !== "Static")
      throw armErrors.invalid(
        "Standard sku publicIp must have AllocationMethod set to Static.",
        "publicIPAllocationMethod",
        "StandardSkuPublicIPAddressesMustBeStatic",
      );
    const zones = (body.zones as string[] | undefined) ?? undefined;
    if (zones && !zones.every((z) => ["1", "2", "3"].includes(z)))
      throw armErrors.invalid(
        `Zones ${zones.join(",")} are not valid; use 1, 2 or 3.`,
        "zones",
        "InvalidAvailabilityZone",
      );
    if (existing && JSON.stringify(existing.zones ?? []) !== JSON.stringify(zones ?? []))
      throw armErrors.invalid(
        "Changing property 'zones' is not allowed.",
        "zones",
        "PropertyChangeNotAllowed",
      );
    const address =
      (existing?.properties.ipAddress as string | undefined) ??
      `20.${50 + ctx.rng.int(150)}.${ctx.rng.int(256)}.${1 + ctx.rng.int(254)}`;
    return {
      location: location(body),
      tags: tags(body),
      sku: { name: sku, tier },
      zones,
      properties: {
        publicIPAllocationMethod: method,
        publicIPAddressVersion: oneOf(body, "properties.publicIPAddressVersion", ["IPv4", "IPv6"]) ?? "IPv4",
        idleTimeoutInMinutes: obj(body, "properties").idleTimeoutInMinutes ?? 4,
        ipAddress: address,
      },
    };
  },
  view: (r, ctx) => {
    const user = publicIpUser(ctx, r.id);
    return user ? { ipConfiguration: { id: user } } : {};
  },
  beforeDelete(r, ctx) {
    const user = publicIpUser(ctx, r.id);
    if (user)
      throw armErrors.inUse(
        "PublicIPAddressCannotBeDeleted",
        `Public IP address ${r.id} can not be deleted since it is still allocated to resource ${user}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.`,
      );
  },
};

/** The VM a NIC is attached to. */
export const nicOwner = (ctx: KindCtx, nicId: string): Res | undefined =>
  // A VM still deleting holds its NIC until the deletion completes.
  Object.values(ctx.state.resources)
    .filter((r) => lower(r.type) === lower(VM) && (r.deleteAt === undefined || r.deleteAt > ctx.now))
    .find((vm) =>
      ((obj(vm.properties, "networkProfile").networkInterfaces as Body[] | undefined) ?? []).some(
        (n) => refId(n) === lower(nicId),
      ),
    );

/** The next free address of a subnet: Azure keeps the first four and the last one. */
function allocate(ctx: KindCtx, subnet: Res): string {
  const prefix = String(subnet.properties.addressPrefix);
  const key = lower(subnet.id);
  const used = new Set(
    ctx
      .list(NIC)
      .flatMap((n) =>
        ((n.properties.ipConfigurations as Body[] | undefined) ?? []).map((c) =>
          String((c.properties as Body).privateIPAddress),
        ),
      ),
  );
  for (let i = 0; i < sizeOf(prefix) - 5; i++) {
    const offset = 4 + (((ctx.state.nextIp[key] ?? 0) + i) % (sizeOf(prefix) - 5));
    const ip = hostAt(prefix, offset);
    if (!used.has(ip)) {
      ctx.state.nextIp[key] = offset - 3;
      return ip;
    }
  }
  throw armErrors.invalid(`Subnet ${subnet.name} has no free address.`, "subnet", "SubnetIsFull");
}

export const networkInterfaces: Kind = {
  type: NIC,
  createMs: 2_000,
  deleteMs: 2_000,
  putStyle: "async",
  deleteStyle: "async",
  nameRule: networkName(1, 80),
  put(body, ctx, existing) {
    const configs = arr(body, "properties.ipConfigurations");
    if (configs.length === 0)
      throw armErrors.invalid(
        "A network interface needs at least one IP configuration.",
        "ipConfigurations",
        "MissingRequiredParameter",
      );
    const before = (existing?.properties.ipConfigurations as Body[] | undefined) ?? [];
    const out = configs.map((c) => {
      const p = obj(c, "properties");
      const subnetId = ref(p, "subnet", SUBNET, ctx.get)!;
      const subnet = ctx.get(subnetId)!;
      if (((subnet.properties.delegations as Body[] | undefined) ?? []).length > 0)
        throw armErrors.invalid(
          `Subnet ${subnet.name} is delegated to a service and cannot hold network interfaces.`,
          "subnet",
          "SubnetDelegatedCannotBeUsed",
        );
      const old = before.find((b) => lower(String(b.name)) === lower(str(c, "name")));
      const oldProps = (old?.properties as Body | undefined) ?? {};
      const pools = arr(p, "loadBalancerBackendAddressPools").map((pool) => {
        const id = String(pool.id ?? "");
        const lbId = id.split("/").slice(0, -2).join("/");
        const lb = ctx.get(lbId);
        const known = ((lb?.properties.backendAddressPools as Body[] | undefined) ?? []).some(
          (bp) => lower(`${lb?.id}/backendAddressPools/${String(bp.name)}`) === lower(id),
        );
        if (!known)
          throw armErrors.invalid(
            `Resource ${id} referenced by the IP configuration was not found.`,
            "loadBalancerBackendAddressPools",
            "InvalidResourceReference",
          );
        return { id };
      });
      const publicIp = ref(p, "publicIPAddress", PUBLIC_IP, ctx.get, true);
      const sameSubnet = lower(String((oldProps.subnet as Body | undefined)?.id ?? "")) === lower(subnetId);
      return {
        name: str(c, "name"),
        id: `${ctx.path.id}/ipConfigurations/${str(c, "name")}`,
        properties: {
          subnet: { id: subnetId },
          privateIPAllocationMethod:
            oneOf(p, "privateIPAllocationMethod", ["Static", "Dynamic"]) ?? "Dynamic",
          privateIPAddress: sameSubnet ? oldProps.privateIPAddress : allocate(ctx, subnet),
          privateIPAddressVersion: "IPv4",
          primary: p.primary ?? true,
          loadBalancerBackendAddressPools: pools,
          ...(publicIp ? { publicIPAddress: { id: publicIp } } : {}),
          provisioningState: "Succeeded",
        },
      };
    });
    const nsg = ref(
      obj(body, "properties"),
      "networkSecurityGroup",
      "Microsoft.Network/networkSecurityGroups",
      ctx.get,
      true,
    );
    return {
      location: location(body),
      tags: tags(body),
      properties: {
        ipConfigurations: out,
        ...(nsg ? { networkSecurityGroup: { id: nsg } } : {}),
        enableAcceleratedNetworking: obj(body, "properties").enableAcceleratedNetworking ?? false,
      },
    };
  },
  view: (r, ctx) => {
    const vm = nicOwner(ctx, r.id);
    return vm ? { virtualMachine: { id: vm.id }, primary: true } : {};
  },
  beforeDelete(r, ctx) {
    const vm = nicOwner(ctx, r.id);
    if (vm)
      throw armErrors.inUse(
        "NicInUse",
        `Network Interface ${r.id} is used by existing resource ${vm.id}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.`,
      );
  },
};
