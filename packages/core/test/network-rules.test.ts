import { describe, expect, it } from "vitest";
import { type FirewallRule, firewallRules } from "../src/index.js";

const open = (rules: FirewallRule[], group: string, port: number) =>
  rules
    .filter((r) => r.group === group && r.port === port)
    .map((r) => ("group" in r.from ? `group:${r.from.group}` : r.from.cidrs.join(",")));

describe("the K3s port matrix", () => {
  const combos = [
    { mode: "l4" as const, lbGroupAdmitsClients: false },
    { mode: "l4" as const, lbGroupAdmitsClients: true },
    { mode: "l7" as const, lbGroupAdmitsClients: false },
  ];
  it.each(combos)("never opens 8472/udp, 10250 or 3306 to address ranges (%o)", (c) => {
    const rules = firewallRules({
      ...c,
      clientCidrs: ["0.0.0.0/0"],
      adminCidrs: ["203.0.113.0/24"],
      ssh: true,
    });
    for (const r of rules.filter((x) => [8472, 10250, 3306].includes(x.port)))
      expect("group" in r.from).toBe(true);
    expect(open(rules, "datastore", 3306)).toEqual(["group:nodes"]);
    expect(open(rules, "nodes", 8472)).toEqual(["group:nodes"]);
    expect(open(rules, "nodes", 6443)).toEqual(["group:nodes", "203.0.113.0/24"]);
    expect(open(rules, "nodes", 22)).toEqual(["203.0.113.0/24"]);
  });

  it("admits clients on the nodes only where the balancer's own group cannot", () => {
    const passthrough = firewallRules({ mode: "l4", clientCidrs: ["0.0.0.0/0"], adminCidrs: [], ssh: false });
    expect(open(passthrough, "nodes", 443)).toEqual(["group:loadBalancer", "0.0.0.0/0"]);
    const grouped = firewallRules({
      mode: "l4",
      clientCidrs: ["0.0.0.0/0"],
      adminCidrs: [],
      ssh: false,
      lbGroupAdmitsClients: true,
    });
    expect(open(grouped, "nodes", 443)).toEqual(["group:loadBalancer"]);
    expect(open(grouped, "loadBalancer", 443)).toEqual(["0.0.0.0/0"]);
  });

  it("on L7 lets only the balancer reach plain HTTP on the nodes, and nothing reach 443 on them", () => {
    const rules = firewallRules({ mode: "l7", clientCidrs: ["0.0.0.0/0"], adminCidrs: [], ssh: false });
    expect(open(rules, "nodes", 80)).toEqual(["group:loadBalancer"]);
    expect(open(rules, "nodes", 443)).toEqual([]);
    expect(open(rules, "nodes", 22)).toEqual([]);
    expect(open(rules, "nodes", 6443)).toEqual(["group:nodes"]);
  });
});
