/**
 * Microsoft.Network load balancers (swagger: network/2026-01-01/loadBalancer.json): frontends on public IPs,
 * backend pools that NIC IP configurations join, probes, load-balancing and outbound rules, and the per-rule
 * health API. A backend answers its probe once its VM runs and, for a k3sinfra server, once K3s is ready.
 * https://learn.microsoft.com/en-us/azure/load-balancer/load-balancer-custom-probe-overview
 */
import { armErrors } from "../arm.js";
import { arr, type Body, location, networkName, num, obj, oneOf, ref, str, tags } from "../check.js";
import type { ActionResult, Kind, KindCtx, Res } from "../model.js";
import { bootAt } from "./compute.js";
import { LOAD_BALANCER, nicOwner, PUBLIC_IP } from "./interfaces.js";
import { NIC } from "./network.js";

const lower = (s: string) => s.toLowerCase();
const idOf = (v: unknown) => String((v as Body | undefined)?.id ?? "");

/** Sub-resources get ids under the load balancer; references to them must resolve. */
function subs(body: Body, lbId: string, collection: string) {
  return arr(body, `properties.${collection}`).map((item) => {
    const name = str(item, "name");
    return {
      name,
      id: `${lbId}/${collection}/${name}`,
      properties: { ...obj(item, "properties"), provisioningState: "Succeeded" } as Body,
    };
  });
}

/** The NIC IP configurations in a backend pool. */
export function poolMembers(ctx: KindCtx, poolId: string): { nic: Res; ipConfig: string; ip: string }[] {
  const out: { nic: Res; ipConfig: string; ip: string }[] = [];
  for (const nic of ctx.list(NIC))
    for (const c of (nic.properties.ipConfigurations as Body[] | undefined) ?? []) {
      const p = c.properties as Body;
      if (
        ((p.loadBalancerBackendAddressPools as Body[] | undefined) ?? []).some(
          (b) => lower(idOf(b)) === lower(poolId),
        )
      )
        out.push({
          nic,
          ipConfig: `${nic.id}/ipConfigurations/${String(c.name)}`,
          ip: String(p.privateIPAddress),
        });
    }
  return out;
}

export const loadBalancers: Kind = {
  type: LOAD_BALANCER,
  createMs: 10_000,
  deleteMs: 10_000,
  putStyle: "async",
  deleteStyle: "async",
  nameRule: networkName(1, 80),
  put(body, ctx) {
    const id = ctx.path.id;
    const sku = oneOf(body, "sku.name", ["Basic", "Standard", "Gateway"]) ?? "Basic";
    const fes = subs(body, id, "frontendIPConfigurations");
    const pools = subs(body, id, "backendAddressPools");
    const probes = subs(body, id, "probes");
    const rules = subs(body, id, "loadBalancingRules");
    const outbound = subs(body, id, "outboundRules");
    const has = (list: { id: string }[], ref: string, what: string) => {
      if (!list.some((x) => lower(x.id) === lower(ref)))
        throw armErrors.invalid(
          `Reference ${ref} to a ${what} of load balancer ${ctx.path.names.at(-1)} does not resolve.`,
          what,
          "InvalidResourceReference",
        );
    };
    for (const fe of fes) {
      const pip = ref(fe.properties, "publicIPAddress", PUBLIC_IP, ctx.get, true);
      const ip = pip ? ctx.get(pip) : undefined;
      if (ip && (ip.sku as Body | undefined)?.name !== sku)
        throw armErrors.invalid(
          `The SKU of public IP ${pip} must match the load balancer's (${sku}).`,
          "publicIPAddress",
          "LoadBalancerAndPublicIpSkuMismatch",
        );
    }
    for (const p of probes) {
      oneOf(p.properties, "protocol", ["Http", "Tcp", "Https"], true);
      const port = num(p.properties, "port");
      if (port === undefined || port < 1 || port > 65535)
        throw armErrors.invalid("A probe port is 1 to 65535.", "port", "InvalidProbePort");
      p.properties.intervalInSeconds ??= 15;
      p.properties.numberOfProbes ??= 2;
    }
    const snatPools = new Set(outbound.map((o) => lower(idOf(o.properties.backendAddressPool))));
    for (const r of rules) {
      has(fes, idOf(r.properties.frontendIPConfiguration), "frontendIPConfiguration");
      has(pools, idOf(r.properties.backendAddressPool), "backendAddressPool");
      if (r.properties.probe) has(probes, idOf(r.properties.probe), "probe");
      oneOf(r.properties, "protocol", ["Tcp", "Udp", "All"], true);
      const idle = num(r.properties, "idleTimeoutInMinutes", true) ?? 4;
      // TCP idle timeout: 4 to 100 minutes (https://learn.microsoft.com/en-us/azure/load-balancer/load-balancer-tcp-idle-timeout).
      if (idle < 4 || idle > 100)
        throw armErrors.invalid(
          "The idle timeout must be between 4 and 100 minutes.",
          "idleTimeoutInMinutes",
          "InvalidIdleTimeout",
        );
      // A rule's pool used by an outbound rule must not also do SNAT (https://learn.microsoft.com/en-us/azure/load-balancer/outbound-rules).
      if (
        snatPools.has(lower(idOf(r.properties.backendAddressPool))) &&
        r.properties.disableOutboundSnat !== true
      )
        throw armErrors.invalid(
          `Load balancing rule ${r.name} must disable outbound SNAT: its backend pool is used by an outbound rule.`,
          "disableOutboundSnat",
          "LoadBalancingRuleMustDisableSNATSinceSameFrontendIPConfigurationIsReferencedByOutboundRule",
        );
    }
    for (const o of outbound) {
      has(pools, idOf(o.properties.backendAddressPool), "backendAddressPool");
      for (const f of (o.properties.frontendIPConfigurations as Body[] | undefined) ?? [])
        has(fes, idOf(f), "frontendIPConfiguration");
    }
    return {
      location: location(body),
      tags: tags(body),
      sku: { name: sku, tier: "Regional" },
      properties: {
        frontendIPConfigurations: fes,
        backendAddressPools: pools,
        probes,
        loadBalancingRules: rules,
        outboundRules: outbound,
      },
    };
  },
  view: (r, ctx) => ({
    backendAddressPools: ((r.properties.backendAddressPools as Body[] | undefined) ?? []).map((p) => ({
      ...p,
      properties: {
        ...(p.properties as Body),
        backendIPConfigurations: poolMembers(ctx, String(p.id)).map((m) => ({ id: m.ipConfig })),
      },
    })),
  }),
  beforeDelete(r, ctx) {
    for (const p of (r.properties.backendAddressPools as Body[] | undefined) ?? []) {
      const m = poolMembers(ctx, String(p.id))[0];
      if (m)
        throw armErrors.inUse(
          "LoadBalancerInUseByVirtualMachineScaleSet",
          `Load balancer ${r.id} cannot be deleted: backend pool ${String(p.name)} is referenced by ${m.ipConfig}.`,
        );
    }
  },
};

/**
 * POST …/loadBalancingRules/{rule}/health: each backend's probe state now. A backend is up once its VM runs,
 * `servingFrom` it answers (a k3sinfra server once its boot passed `k3s-ready`: ../boot.ts) and the probe has
 * seen it answer `numberOfProbes` times, unless the `setTargetHealth` back door marks it unhealthy.
 */
export function ruleHealth(
  lb: Res,
  rule: string,
  ctx: KindCtx,
  unhealthy: ReadonlySet<string>,
  servingFrom: (vm: Res) => number,
): ActionResult {
  const r = ((lb.properties.loadBalancingRules as Body[] | undefined) ?? []).find(
    (x) => lower(String(x.name)) === lower(rule),
  );
  if (!r)
    throw armErrors.resourceNotFound(
      `${LOAD_BALANCER}/loadBalancingRules`,
      rule,
      ctx.path.resourceGroup ?? "",
    );
  const props = r.properties as Body;
  const probe = ((lb.properties.probes as Body[] | undefined) ?? []).find(
    (p) => lower(String(p.id)) === lower(idOf(props.probe)),
  );
  const pp = (probe?.properties as Body | undefined) ?? {};
  const checks = Number(pp.intervalInSeconds ?? 15) * Number(pp.numberOfProbes ?? 2) * 1000 * ctx.scale;
  const addresses = poolMembers(ctx, idOf(props.backendAddressPool)).map((m) => {
    const vm = nicOwner(ctx, m.nic.id);
    const running = vm !== undefined && vm.hidden?.power === "running" && ctx.now >= bootAt(vm);
    const up = running && ctx.now >= servingFrom(vm) + checks && !unhealthy.has(lower(vm.id));
    return {
      ipAddress: m.ip,
      networkInterfaceIPConfigurationId: m.ipConfig,
      state: up ? "Up" : "Down",
      reason: up ? "Up" : "Probe failed",
    };
  });
  const up = addresses.filter((a) => a.state === "Up").length;
  return { ms: 0, result: { up, down: addresses.length - up, loadBalancerBackendAddresses: addresses } };
}
