import { describe, expect, it } from "vitest";
import { userDataLoadBalancer } from "../src/orchestrator/user-data.js";
import type { NetworkState } from "../src/resources/network.js";
import { memoryConfig, validConfig } from "./helpers.js";

// Traefik trusts X-Forwarded-* from where the L7 balancer connects: the cluster's subnets on a regional
// balancer, the provider's front-end ranges (`capabilities.l7SourceCidrs`) on a global one.
describe("the L7 balancer's source ranges in the user data", () => {
  const l7 = validConfig(
    memoryConfig({
      rancher: { hostname: "rancher.example.com" },
      loadBalancer: { mode: "l7", certificate: "c" },
    }),
  );
  const network = {
    id: "net-1",
    subnets: [
      { id: "s1", zone: "a", cidr: "10.0.1.0/24" },
      { id: "s2", zone: "b", cidr: "10.0.2.0/24" },
    ],
  } as unknown as NetworkState;

  it("are the network's subnets when the provider declares none", () => {
    expect(userDataLoadBalancer(l7, network)).toEqual({
      mode: "l7",
      sourceCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
    });
  });

  it("are the provider's front-end ranges when it declares them", () => {
    expect(userDataLoadBalancer(l7, network, ["35.191.0.0/16", "130.211.0.0/22"])).toEqual({
      mode: "l7",
      sourceCidrs: ["35.191.0.0/16", "130.211.0.0/22"],
    });
  });

  it("are not written on L4, where TLS ends on the nodes", () => {
    const l4 = validConfig(memoryConfig({ rancher: { hostname: "rancher.example.com" } }));
    expect(userDataLoadBalancer(l4, network, ["35.191.0.0/16"])).toEqual({ mode: "l4" });
  });
});
