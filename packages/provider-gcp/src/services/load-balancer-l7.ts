import {
  type LoadBalancerSpec,
  type LoadBalancerState,
  ProviderError,
  type ResourceContext,
  type Tags,
} from "@k3sinfra/core";
import { gcpCall, ONE_ATTEMPT } from "../call.js";
import { GFE_RANGES } from "../capabilities.js";
import type { GcpClients } from "../clients.js";
import { describeOwned, hasLabels, markerLabels, toLabels } from "../labels.js";
import { ensureDeleted, ensureInserted, getOrUndefined, last, pathOf } from "./compute-util.js";
import type { GcpTargets } from "./load-balancer-targets.js";

export { GFE_RANGES };

/** Names of an L7 balancer's parts, from its physical name. */
export const l7Names = (base: string) => ({
  address: `${base}-ip`,
  healthCheck: `${base}-hc`,
  backendService: base,
  group: (zone: string) => `${base}-${zone}`,
  urlMap: base,
  certificate: `${base}-cert`,
  httpsProxy: `${base}-https`,
  redirectMap: `${base}-redirect`,
  httpProxy: `${base}-http`,
  rule: (port: number) => `${base}-${port}`,
});

/**
 * L7: the global external Application Load Balancer (EXTERNAL_MANAGED): TLS ends at Google's front ends with
 * the given certificate or a Google-managed one for the Rancher host name, plain HTTP to Traefik on 80, a
 * backend timeout of at least 1800 s for Rancher's websockets (the backend service timeout is also the
 * websocket limit: https://cloud.google.com/load-balancing/docs/https#websocket_proxy_support), and port 80
 * redirecting to HTTPS.
 */
export class GcpL7 {
  constructor(
    private readonly clients: GcpClients,
    private readonly targets: GcpTargets,
    private readonly hostname?: string,
  ) {}

  async create(spec: LoadBalancerSpec, ctx: ResourceContext): Promise<LoadBalancerState> {
    const project = await this.clients.project();
    const n = l7Names(ctx.name);
    const labels = toLabels(ctx.tags);
    const owned = (text: string) => describeOwned(text, ctx.tags);
    const addresses = await this.clients.compute("GlobalAddressesClient");
    const address = await ensureInserted(
      this.clients,
      ctx,
      `Compute globalAddresses.insert (${n.address})`,
      "address",
      () => addresses.get({ project, address: n.address }, ONE_ATTEMPT),
      (requestId) =>
        addresses.insert(
          { project, requestId, addressResource: { name: n.address, addressType: "EXTERNAL", labels } },
          ONE_ATTEMPT,
        ),
    );
    const hcs = await this.clients.compute("HealthChecksClient");
    const hc = spec.healthCheck;
    const healthCheck = await ensureInserted(
      this.clients,
      ctx,
      `Compute healthChecks.insert (${n.healthCheck})`,
      "health-check",
      () => hcs.get({ project, healthCheck: n.healthCheck }, ONE_ATTEMPT),
      (requestId) =>
        hcs.insert(
          {
            project,
            requestId,
            healthCheckResource: {
              name: n.healthCheck,
              description: owned("k3sinfra: Traefik answers"),
              type: "TCP",
              tcpHealthCheck: { port: 80 },
              checkIntervalSec: hc.intervalSeconds,
              timeoutSec: hc.timeoutSeconds,
              healthyThreshold: hc.healthyThreshold,
              unhealthyThreshold: hc.unhealthyThreshold,
            },
          },
          ONE_ATTEMPT,
        ),
    );
    const groups = await this.targets.ensureGroups(spec, ctx, n.group, [{ name: "http", port: 80 }]);
    const bss = await this.clients.compute("BackendServicesClient");
    const bs = await ensureInserted(
      this.clients,
      ctx,
      `Compute backendServices.insert (${n.backendService})`,
      "backend-service",
      () => bss.get({ project, backendService: n.backendService }, ONE_ATTEMPT),
      (requestId) =>
        bss.insert(
          {
            project,
            requestId,
            backendServiceResource: {
              name: n.backendService,
              description: owned("k3sinfra: Rancher L7"),
              loadBalancingScheme: "EXTERNAL_MANAGED",
              protocol: "HTTP",
              portName: "http",
              timeoutSec: Math.max(1800, spec.idleTimeoutSeconds),
              healthChecks: [healthCheck.selfLink ?? ""],
              backends: groups.map((group) => ({ group, balancingMode: "UTILIZATION", capacityScaler: 1 })),
            },
          },
          ONE_ATTEMPT,
        ),
    );
    const maps = await this.clients.compute("UrlMapsClient");
    const urlMap = await ensureInserted(
      this.clients,
      ctx,
      `Compute urlMaps.insert (${n.urlMap})`,
      "url-map",
      () => maps.get({ project, urlMap: n.urlMap }, ONE_ATTEMPT),
      (requestId) =>
        maps.insert(
          {
            project,
            requestId,
            urlMapResource: {
              name: n.urlMap,
              description: owned("k3sinfra: Rancher"),
              defaultService: bs.selfLink ?? "",
            },
          },
          ONE_ATTEMPT,
        ),
    );
    const certificate = await this.#certificate(
      spec,
      ctx,
      n.certificate,
      owned("k3sinfra: Rancher (Google-managed)"),
    );
    const https = await this.clients.compute("TargetHttpsProxiesClient");
    const httpsProxy = await ensureInserted(
      this.clients,
      ctx,
      `Compute targetHttpsProxies.insert (${n.httpsProxy})`,
      "https-proxy",
      () => https.get({ project, targetHttpsProxy: n.httpsProxy }, ONE_ATTEMPT),
      (requestId) =>
        https.insert(
          {
            project,
            requestId,
            targetHttpsProxyResource: {
              name: n.httpsProxy,
              description: owned("k3sinfra: Rancher HTTPS"),
              urlMap: urlMap.selfLink ?? "",
              sslCertificates: [certificate],
            },
          },
          ONE_ATTEMPT,
        ),
    );
    const redirect = await ensureInserted(
      this.clients,
      ctx,
      `Compute urlMaps.insert (${n.redirectMap})`,
      "redirect-map",
      () => maps.get({ project, urlMap: n.redirectMap }, ONE_ATTEMPT),
      (requestId) =>
        maps.insert(
          {
            project,
            requestId,
            urlMapResource: {
              name: n.redirectMap,
              description: owned("k3sinfra: HTTP to HTTPS"),
              defaultUrlRedirect: {
                httpsRedirect: true,
                redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
                stripQuery: false,
              },
            },
          },
          ONE_ATTEMPT,
        ),
    );
    const http = await this.clients.compute("TargetHttpProxiesClient");
    const httpProxy = await ensureInserted(
      this.clients,
      ctx,
      `Compute targetHttpProxies.insert (${n.httpProxy})`,
      "http-proxy",
      () => http.get({ project, targetHttpProxy: n.httpProxy }, ONE_ATTEMPT),
      (requestId) =>
        http.insert(
          {
            project,
            requestId,
            targetHttpProxyResource: {
              name: n.httpProxy,
              description: owned("k3sinfra: HTTP to HTTPS"),
              urlMap: redirect.selfLink ?? "",
            },
          },
          ONE_ATTEMPT,
        ),
    );
    const rules = await this.clients.compute("GlobalForwardingRulesClient");
    for (const [port, target] of [
      [443, httpsProxy.selfLink],
      [80, httpProxy.selfLink],
    ] as const)
      await ensureInserted(
        this.clients,
        ctx,
        `Compute globalForwardingRules.insert (${n.rule(port)})`,
        `rule-${port}`,
        () => rules.get({ project, forwardingRule: n.rule(port) }, ONE_ATTEMPT),
        (requestId) =>
          rules.insert(
            {
              project,
              requestId,
              forwardingRuleResource: {
                name: n.rule(port),
                IPAddress: address.selfLink ?? "",
                IPProtocol: "TCP",
                portRange: String(port),
                loadBalancingScheme: "EXTERNAL_MANAGED",
                target: target ?? "",
                labels,
              },
            },
            ONE_ATTEMPT,
          ),
      );
    const state = await this.read({ id: pathOf(bs.selfLink), name: ctx.name, mode: "l7", status: "" }, ctx);
    if (!state) throw new ProviderError(`load balancer ${ctx.name} vanished while being created`);
    return state;
  }

  /** The given certificate (a name or URL of an SSL certificate in the project), or a Google-managed one. */
  async #certificate(
    spec: LoadBalancerSpec,
    ctx: ResourceContext,
    name: string,
    description: string,
  ): Promise<string> {
    const project = await this.clients.project();
    const certs = await this.clients.compute("SslCertificatesClient");
    if (spec.certificate) {
      const given = last(spec.certificate);
      const found = await getOrUndefined(`Compute sslCertificates.get (${given})`, ctx, () =>
        certs.get({ project, sslCertificate: given }, ONE_ATTEMPT),
      );
      if (!found)
        throw new ProviderError(
          `loadBalancer.certificate: no SSL certificate '${given}' in project ${project}`,
        );
      return found.selfLink ?? "";
    }
    if (!this.hostname) throw new ProviderError("a Google-managed certificate needs rancher.hostname");
    // Google-managed: provisioned once the host name resolves to the balancer's address
    // (https://cloud.google.com/load-balancing/docs/ssl-certificates/google-managed-certs).
    const cert = await ensureInserted(
      this.clients,
      ctx,
      `Compute sslCertificates.insert (${name})`,
      "certificate",
      () => certs.get({ project, sslCertificate: name }, ONE_ATTEMPT),
      (requestId) =>
        certs.insert(
          {
            project,
            requestId,
            sslCertificateResource: {
              name,
              description,
              type: "MANAGED",
              managed: { domains: [this.hostname!] },
            },
          },
          ONE_ATTEMPT,
        ),
    );
    return cert.selfLink ?? "";
  }

  async read(state: LoadBalancerState, ctx: ResourceContext): Promise<LoadBalancerState | undefined> {
    const project = await this.clients.project();
    const n = l7Names(last(state.id));
    const bss = await this.clients.compute("BackendServicesClient");
    const bs = await getOrUndefined(`Compute backendServices.get (${n.backendService})`, ctx, () =>
      bss.get({ project, backendService: n.backendService }, ONE_ATTEMPT),
    );
    if (!bs) return undefined;
    const addresses = await this.clients.compute("GlobalAddressesClient");
    const address = await getOrUndefined(`Compute globalAddresses.get (${n.address})`, ctx, () =>
      addresses.get({ project, address: n.address }, ONE_ATTEMPT),
    );
    const rules = await this.clients.compute("GlobalForwardingRulesClient");
    const live = await Promise.all(
      [443, 80].map((port) =>
        getOrUndefined(`Compute globalForwardingRules.get (${n.rule(port)})`, ctx, () =>
          rules.get({ project, forwardingRule: n.rule(port) }, ONE_ATTEMPT),
        ),
      ),
    );
    return {
      id: pathOf(bs.selfLink),
      name: n.backendService,
      mode: "l7",
      ...(address?.address ? { ips: [address.address] } : {}),
      sourceCidrs: GFE_RANGES,
      status: live.every(Boolean) && address?.address ? "active" : "incomplete",
    };
  }

  async delete(state: LoadBalancerState, ctx: ResourceContext): Promise<void> {
    const project = await this.clients.project();
    const n = l7Names(last(state.id));
    const bss = await this.clients.compute("BackendServicesClient");
    const bs = await getOrUndefined(`Compute backendServices.get (${n.backendService})`, ctx, () =>
      bss.get({ project, backendService: n.backendService }, ONE_ATTEMPT),
    );
    if (bs && !hasLabels(markerLabels(bs.description), { "k3sinfra:cluster": ctx.cluster })) return;
    const del = (what: string, fn: () => Promise<unknown>) => ensureDeleted(this.clients, ctx, what, fn);
    const rules = await this.clients.compute("GlobalForwardingRulesClient");
    for (const port of [443, 80])
      await del(`Compute globalForwardingRules.delete (${n.rule(port)})`, () =>
        rules.delete({ project, forwardingRule: n.rule(port) }, ONE_ATTEMPT),
      );
    const https = await this.clients.compute("TargetHttpsProxiesClient");
    await del(`Compute targetHttpsProxies.delete (${n.httpsProxy})`, () =>
      https.delete({ project, targetHttpsProxy: n.httpsProxy }, ONE_ATTEMPT),
    );
    const http = await this.clients.compute("TargetHttpProxiesClient");
    await del(`Compute targetHttpProxies.delete (${n.httpProxy})`, () =>
      http.delete({ project, targetHttpProxy: n.httpProxy }, ONE_ATTEMPT),
    );
    const maps = await this.clients.compute("UrlMapsClient");
    for (const map of [n.urlMap, n.redirectMap])
      await del(`Compute urlMaps.delete (${map})`, () => maps.delete({ project, urlMap: map }, ONE_ATTEMPT));
    const certs = await this.clients.compute("SslCertificatesClient");
    await del(`Compute sslCertificates.delete (${n.certificate})`, () =>
      certs.delete({ project, sslCertificate: n.certificate }, ONE_ATTEMPT),
    );
    await del(`Compute backendServices.delete (${n.backendService})`, () =>
      bss.delete({ project, backendService: n.backendService }, ONE_ATTEMPT),
    );
    const hcs = await this.clients.compute("HealthChecksClient");
    await del(`Compute healthChecks.delete (${n.healthCheck})`, () =>
      hcs.delete({ project, healthCheck: n.healthCheck }, ONE_ATTEMPT),
    );
    await this.targets.deleteGroups(
      (bs?.backends ?? []).map((b) => b.group ?? ""),
      ctx,
    );
    const addresses = await this.clients.compute("GlobalAddressesClient");
    await del(`Compute globalAddresses.delete (${n.address})`, () =>
      addresses.delete({ project, address: n.address }, ONE_ATTEMPT),
    );
  }

  async findByTags(tags: Tags, ctx: ResourceContext): Promise<LoadBalancerState[]> {
    const project = await this.clients.project();
    const bss = await this.clients.compute("BackendServicesClient");
    const [list] = await gcpCall("Compute backendServices.list", ctx, () =>
      bss.list({ project }, ONE_ATTEMPT),
    );
    const out: LoadBalancerState[] = [];
    for (const bs of list) {
      if (!hasLabels(markerLabels(bs.description), tags)) continue;
      const state = await this.read(
        { id: pathOf(bs.selfLink), name: bs.name ?? "", mode: "l7", status: "" },
        ctx,
      );
      if (state) out.push(state);
    }
    return out;
  }
}
