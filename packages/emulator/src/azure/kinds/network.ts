/**
 * Microsoft.Network virtual networks with their subnets, and network security groups with their rules
 * (swagger: network/2026-01-01/virtualNetwork.json, networkSecurityGroup.json). A parent's PUT replaces its
 * children: subnets or rules left out are deleted, and a subnet still in use refuses.
 */
import { armErrors } from "../arm.js";
import { arr, type Body, location, networkName, obj, oneOf, ref, str, tags } from "../check.js";
import { contains, overlaps, parseCidr } from "../cidr.js";
import type { Built, Kind, KindCtx, Res } from "../model.js";

const NET = "Microsoft.Network";
export const VNET = `${NET}/virtualNetworks`;
export const SUBNET = `${VNET}/subnets`;
export const NSG = `${NET}/networkSecurityGroups`;
export const RULE = `${NSG}/securityRules`;
export const NIC = `${NET}/networkInterfaces`;

const lower = (s: string) => s.toLowerCase();

/** A child stored beside its parent (created by the parent's PUT). */
function putChild(ctx: KindCtx, parent: string, type: string, name: string, built: Built): void {
  const id = `${parent}/${type.split("/").at(-1)}/${name}`;
  const existing = ctx.get(id);
  ctx.state.resources[lower(id)] = {
    id: existing?.id ?? id,
    type,
    name: existing?.name ?? name,
    resourceGroup: ctx.path.resourceGroup,
    ...built,
    createdAt: existing?.createdAt ?? ctx.now,
    readyAt: ctx.now,
    etag: ctx.rng.uuid(),
  };
}

/** Replaces a parent's children with `items`; a child left out is deleted (when `inUse` allows). */
function syncChildren(
  ctx: KindCtx,
  parent: string,
  type: string,
  items: Body[],
  build: (item: Body, existing: Res | undefined) => Built,
  inUse: (child: Res) => string | undefined,
): void {
  const keep = new Set<string>();
  for (const item of items) {
    const name = str(item, "name");
    keep.add(lower(name));
    putChild(ctx, parent, type, name, build(item, ctx.get(`${parent}/${type.split("/").at(-1)}/${name}`)));
  }
  for (const child of ctx.list(type, parent)) {
    if (keep.has(lower(child.name))) continue;
    const why = inUse(child);
    if (why)
      throw why.startsWith("!")
        ? armErrors.inUse("InUseSubnetCannotBeDeleted", why.slice(1))
        : armErrors.invalid(why);
    delete ctx.state.resources[lower(child.id)];
  }
}

/** A child shown inside its parent: `{ id, name, etag, type, properties }`. */
const childView = (ctx: KindCtx, type: string, parent: string) =>
  ctx.list(type, parent).map((c) => {
    const { location: _l, tags: _t, ...rest } = ctx.render(c);
    return rest;
  });

/** What uses a subnet: NIC IP configurations and VNet-integrated MySQL servers. */
export function subnetUsers(ctx: KindCtx, subnetId: string): string[] {
  const users: string[] = [];
  for (const nic of ctx.list(NIC)) {
    for (const ip of (nic.properties.ipConfigurations as Body[] | undefined) ?? []) {
      if (
        lower(
          String((ip.properties as Body | undefined)?.subnet && ((ip.properties as Body).subnet as Body).id),
        ) === lower(subnetId)
      )
        users.push(`${nic.id}/ipConfigurations/${String(ip.name)}`);
    }
  }
  for (const db of ctx.list("Microsoft.DBforMySQL/flexibleServers")) {
    const sub = (db.properties.network as Body | undefined)?.delegatedSubnetResourceId;
    if (typeof sub === "string" && lower(sub) === lower(subnetId)) users.push(db.id);
  }
  return users;
}

const subnetInUse = (ctx: KindCtx) => (s: Res) => {
  const users = subnetUsers(ctx, s.id);
  return users.length
    ? `!Subnet ${s.name} is in use by ${users[0]} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.`
    : undefined;
};

/** A subnet's stored form; its prefix must lie inside the VNet's address space and overlap no sibling. */
function buildSubnet(item: Body, ctx: KindCtx, vnetId: string, space: readonly string[]): Built {
  const props = obj(item, "properties");
  const prefix = str(props, "addressPrefix");
  if (!parseCidr(prefix))
    throw armErrors.invalid(
      `Subnet address prefix ${prefix} is not valid.`,
      "addressPrefix",
      "InvalidAddressPrefixFormat",
    );
  if (!space.some((s) => contains(s, prefix)))
    throw armErrors.invalid(
      `Subnet '${String(item.name)}' is not valid because its IP address range is outside the IP address range of virtual network.`,
      "addressPrefix",
      "NetcfgSubnetRangeOutsideVnet",
    );
  const name = lower(str(item, "name"));
  for (const sib of ctx.list(SUBNET, vnetId)) {
    if (lower(sib.name) !== name && overlaps(String(sib.properties.addressPrefix), prefix))
      throw armErrors.invalid(
        `Subnet '${name}' overlaps subnet '${sib.name}'.`,
        "addressPrefix",
        "NetcfgInvalidSubnet",
      );
  }
  const nsg = ref(props, "networkSecurityGroup", NSG, ctx.get, true);
  const delegations = arr(props, "delegations").map((d) => ({
    name: str(d, "name"),
    properties: { serviceName: str(d, "properties.serviceName") },
  }));
  return {
    properties: {
      addressPrefix: prefix,
      ...(nsg ? { networkSecurityGroup: { id: nsg } } : {}),
      delegations,
      privateEndpointNetworkPolicies: "Disabled",
      privateLinkServiceNetworkPolicies: "Enabled",
    },
  };
}

const subnetView = (r: Res, ctx: KindCtx) => ({
  ipConfigurations: subnetUsers(ctx, r.id)
    .filter((u) => u.includes("/ipConfigurations/"))
    .map((id) => ({ id })),
});

export const virtualNetworks: Kind = {
  type: VNET,
  createMs: 4_000,
  deleteMs: 6_000,
  putStyle: "async",
  deleteStyle: "async",
  nameRule: networkName(2, 64),
  put(body, ctx) {
    const props = obj(body, "properties");
    const space = (obj(props, "addressSpace").addressPrefixes as unknown[] | undefined) ?? [];
    if (
      !Array.isArray(space) ||
      space.length === 0 ||
      !space.every((s) => typeof s === "string" && parseCidr(s))
    )
      throw armErrors.invalid(
        "'properties.addressSpace.addressPrefixes' must hold at least one valid prefix.",
        "addressSpace",
      );
    const id = ctx.path.id;
    syncChildren(
      ctx,
      id,
      SUBNET,
      arr(props, "subnets"),
      (item) => buildSubnet(item, ctx, id, space as string[]),
      subnetInUse(ctx),
    );
    return {
      location: location(body),
      tags: tags(body),
      properties: { addressSpace: { addressPrefixes: space } },
    };
  },
  view: (r, ctx) => ({ subnets: childView(ctx, SUBNET, r.id) }),
  beforeDelete(r, ctx) {
    for (const s of ctx.list(SUBNET, r.id)) {
      const why = subnetInUse(ctx)(s);
      if (why) throw armErrors.inUse("InUseSubnetCannotBeDeleted", why.slice(1));
    }
  },
};

export const subnets: Kind = {
  type: SUBNET,
  createMs: 2_000,
  deleteMs: 2_000,
  putStyle: "async",
  deleteStyle: "async",
  nameRule: networkName(1, 80),
  put(body, ctx) {
    const vnet = ctx.get(ctx.path.id.split("/").slice(0, -2).join("/"));
    const space =
      ((vnet?.properties.addressSpace as Body | undefined)?.addressPrefixes as string[] | undefined) ?? [];
    return buildSubnet({ ...body, name: ctx.path.names.at(-1) }, ctx, vnet?.id ?? "", space);
  },
  view: subnetView,
  beforeDelete(r, ctx) {
    const why = subnetInUse(ctx)(r);
    if (why) throw armErrors.inUse("InUseSubnetCannotBeDeleted", why.slice(1));
  },
};

const PROTOCOLS = ["Tcp", "Udp", "Icmp", "Esp", "*", "Ah"] as const;

/** A security rule's stored form (SecurityRulePropertiesFormat: protocol, access, direction, priority required). */
function buildRule(item: Body): Built {
  const p = obj(item, "properties");
  const priority = p.priority;
  if (typeof priority !== "number" || priority < 100 || priority > 4096)
    throw armErrors.invalid(
      "Security rule priority must be between 100 and 4096.",
      "priority",
      "SecurityRuleInvalidPriority",
    );
  const props: Body = {
    protocol: oneOf(p, "protocol", PROTOCOLS, true),
    access: oneOf(p, "access", ["Allow", "Deny"], true),
    direction: oneOf(p, "direction", ["Inbound", "Outbound"], true),
    priority,
  };
  for (const k of [
    "description",
    "sourcePortRange",
    "destinationPortRange",
    "sourceAddressPrefix",
    "destinationAddressPrefix",
  ]) {
    const v = str(p, k, true);
    if (v !== undefined) props[k] = v;
  }
  for (const k of [
    "sourceAddressPrefixes",
    "destinationAddressPrefixes",
    "sourcePortRanges",
    "destinationPortRanges",
  ]) {
    const v = p[k];
    if (Array.isArray(v) && v.length > 0) props[k] = v.map(String);
  }
  return { properties: props };
}

/** Rules with the same priority and direction are refused, as NSGs refuse them. */
function checkPriorities(rules: readonly Built[]): void {
  const seen = new Set<string>();
  for (const r of rules) {
    const key = `${String(r.properties.direction)}:${String(r.properties.priority)}`;
    if (seen.has(key))
      throw armErrors.invalid(
        `Security rules have the same priority ${String(r.properties.priority)} in the same direction.`,
        "securityRules",
        "SecurityRuleConflict",
      );
    seen.add(key);
  }
}

// The six default rules every NSG carries (https://learn.microsoft.com/en-us/azure/virtual-network/network-security-groups-overview#default-security-rules).
const DEFAULT_RULES = [
  ["AllowVnetInBound", "Inbound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"],
  ["AllowAzureLoadBalancerInBound", "Inbound", 65001, "AzureLoadBalancer", "*", "Allow"],
  ["DenyAllInBound", "Inbound", 65500, "*", "*", "Deny"],
  ["AllowVnetOutBound", "Outbound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"],
  ["AllowInternetOutBound", "Outbound", 65001, "*", "Internet", "Allow"],
  ["DenyAllOutBound", "Outbound", 65500, "*", "*", "Deny"],
] as const;

/** The subnets or NICs (NIC-level NSG) that carry an NSG. */
const nsgUsers = (ctx: KindCtx, type: string, nsgId: string): Res[] =>
  ctx
    .list(type)
    .filter(
      (u) =>
        lower(String((u.properties.networkSecurityGroup as Body | undefined)?.id ?? "")) === lower(nsgId),
    );

export const networkSecurityGroups: Kind = {
  type: NSG,
  createMs: 3_000,
  deleteMs: 4_000,
  putStyle: "async",
  deleteStyle: "async",
  nameRule: networkName(1, 80),
  put(body, ctx) {
    const items = arr(body, "properties.securityRules");
    checkPriorities(items.map(buildRule));
    syncChildren(ctx, ctx.path.id, RULE, items, buildRule, () => undefined);
    return { location: location(body), tags: tags(body), properties: {} };
  },
  view: (r, ctx) => ({
    securityRules: childView(ctx, RULE, r.id),
    defaultSecurityRules: DEFAULT_RULES.map(([name, direction, priority, src, dst, access]) => ({
      id: `${r.id}/defaultSecurityRules/${name}`,
      name,
      properties: {
        protocol: "*",
        sourcePortRange: "*",
        destinationPortRange: "*",
        sourceAddressPrefix: src,
        destinationAddressPrefix: dst,
        access,
        priority,
        direction,
        provisioningState: "Succeeded",
      },
    })),
    subnets: nsgUsers(ctx, SUBNET, r.id).map((s) => ({ id: s.id })),
    networkInterfaces: nsgUsers(ctx, NIC, r.id).map((n) => ({ id: n.id })),
  }),
  beforeDelete(r, ctx) {
    // Held by a subnet or a NIC, an NSG refuses deletion (Azure answers InUseNetworkSecurityGroupCannotBeDeleted).
    const user = nsgUsers(ctx, SUBNET, r.id)[0] ?? nsgUsers(ctx, NIC, r.id)[0];
    if (user)
      throw armErrors.inUse(
        "InUseNetworkSecurityGroupCannotBeDeleted",
        `Network security group ${r.id} cannot be deleted because it is in use by the following resources: ${user.id}.`,
      );
  },
};

export const securityRules: Kind = {
  type: RULE,
  createMs: 1_000,
  deleteMs: 1_000,
  putStyle: "async",
  deleteStyle: "async",
  nameRule: networkName(1, 80),
  put(body, ctx) {
    const built = buildRule(body);
    const nsgId = ctx.path.id.split("/").slice(0, -2).join("/");
    const siblings = ctx.list(RULE, nsgId).filter((s) => lower(s.id) !== lower(ctx.path.id));
    checkPriorities([built, ...siblings.map((s) => ({ properties: s.properties }))]);
    return built;
  },
};
