// The NGINX load balancer on a real nginx host: stream config written, checked and reloaded over SSH,
// traffic through it to both nodes, passive failover, targets rewritten, and delete restoring /etc/nginx.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { LoadBalancerSpec, NodeState } from "@k3sinfra/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostsLoadBalancerService } from "../src/load-balancer.js";
import { ctxFor, eventually, labHosts, labOptions } from "./helpers.js";
import { isRoot, type Lab, skipReason, startLab } from "./lab.js";

const NGINX_SNAPSHOT =
  "find /etc/nginx /var/lib/k3sinfra -printf '%p %m %s\\n' | sort; md5sum /etc/nginx/nginx.conf";
const curl = (url: string): string | undefined => {
  try {
    return execFileSync("curl", ["-sk", "-m", "20", url], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  } catch {
    return undefined;
  }
};

describe.skipIf(!isRoot)(`hosts NGINX load balancer (${isRoot ? "root" : skipReason})`, () => {
  let lab: Lab;
  let before = "";
  beforeAll(async () => {
    lab = await startLab(2);
    before = lab.lb.exec(NGINX_SNAPSHOT);
    // The nodes' "Traefik": the K3s stand-in's responder, started by hand here (no bootstrap in this file).
    for (const h of lab.nodes)
      h.exec(
        `mkdir -p /var/lib/rancher/k3s/standin && setsid ${process.execPath} ${join(import.meta.dirname, "fixtures", "responder.mjs")} ${lab.dir} </dev/null >/dev/null 2>&1 &`,
      );
    for (const h of lab.nodes)
      await eventually(`responder on ${h.name}`, () => curl(`http://${h.ip}/`) !== undefined);
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  }, 60_000);

  it("passes 80 and 443 to every node, fails over, rewrites targets, and deletes only its own file", async () => {
    const o = labOptions(lab);
    const lbs = new HostsLoadBalancerService(labHosts(o), undefined);
    const ctx = ctxFor("lab", "load-balancer");
    const spec: LoadBalancerSpec = {
      mode: "l4",
      zones: ["rack-0", "rack-1"],
      healthCheck: {
        protocol: "tcp",
        port: 80,
        intervalSeconds: 10,
        timeoutSeconds: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      idleTimeoutSeconds: 1800,
      crossZone: true,
      network: {} as never,
    };
    // Debian's default site listens on 80: refused, naming the file, before any configuration is written.
    await expect(lbs.create(spec, ctx)).rejects.toThrow("/etc/nginx/sites-enabled/default (listen 80)");
    expect(lab.lb.exec("ls /etc/nginx")).not.toContain("k3sinfra");
    lab.lb.exec(`mv /etc/nginx/sites-enabled/default ${lab.lb.dir}/default-site && nginx -s reload`);
    const lb = await lbs.create(spec, ctx);
    expect(lb).toMatchObject({ mode: "l4", ips: [lab.lb.ip], status: "active" });
    expect(await lbs.create(spec, ctx)).toEqual(lb);
    expect((await lbs.findByTags({ "k3sinfra:cluster": "lab" }, ctx)).map((l) => l.id)).toEqual([lb.id]);
    const nodes: NodeState[] = lab.nodes.map((h, i) => ({
      id: `ssh://${h.ip}:22`,
      name: h.name,
      zone: `rack-${i}`,
      privateIp: h.ip,
      status: "running",
      instanceType: "x",
    }));
    expect((await lbs.setTargets(lb, nodes, ctx)).nodeIds).toEqual(nodes.map((n) => n.id));
    expect((await lbs.getTargets(lb, ctx))?.nodeIds).toEqual(nodes.map((n) => n.id));
    const conf = lab.lb.exec("cat /etc/nginx/k3sinfra/streams/lab.conf");
    expect(conf).toContain("proxy_protocol off;");
    expect(conf).toContain("max_fails=3 fail_timeout=30s");
    expect(conf).toContain("proxy_timeout 1800s;");
    // Both nodes serve through the balancer, on 80 and (TLS passed through) on 443.
    const seen = new Set<string>();
    await eventually("both nodes behind NGINX", () => {
      for (const url of [`http://${lab.lb.ip}/`, `https://${lab.lb.ip}/`]) {
        const body = curl(url);
        if (body) seen.add(body.trim());
      }
      return seen.size === 2;
    });
    expect([...seen].sort()).toEqual(lab.nodes.map((h) => `served-by=${h.ip}`).sort());
    // Node 0's responder stops: every request still succeeds, through node 1.
    // Gone before the first request: a responder still dying could accept a connection and drop it, which is
    // not the failover under test (a node that refuses connections, which NGINX passes over).
    lab.nodes[0]!.exec(
      "pid=$(cat /var/lib/rancher/k3s/standin/pid); kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.05; done",
    );
    for (let i = 0; i < 6; i++) {
      expect(curl(`http://${lab.lb.ip}/`)?.trim()).toBe(`served-by=${lab.nodes[1]!.ip}`);
      expect(curl(`https://${lab.lb.ip}/`)?.trim()).toBe(`served-by=${lab.nodes[1]!.ip}`);
    }
    expect((await lbs.setTargets(lb, [nodes[1]!], ctx)).nodeIds).toEqual([nodes[1]!.id]);
    expect(lab.lb.exec("cat /etc/nginx/k3sinfra/streams/lab.conf")).not.toContain(`${lab.nodes[0]!.ip}:80`);
    expect((await lbs.setTargets(lb, [], ctx)).nodeIds).toEqual([]);
    expect((await lbs.getTargets(lb, ctx))?.nodeIds).toEqual([]);
    await lbs.delete(lb, ctx);
    await lbs.delete(lb, ctx);
    expect(await lbs.read(lb, ctx)).toBeUndefined();
    expect(await lbs.getTargets(lb, ctx)).toBeUndefined();
    lab.lb.exec(`mv ${lab.lb.dir}/default-site /etc/nginx/sites-enabled/default`);
    expect(lab.lb.exec(NGINX_SNAPSHOT)).toBe(before);
  }, 300_000);
});
