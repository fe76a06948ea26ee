// core's conformance suite on the hosts provider, against the lab's real sshd hosts, real nginx and a real MariaDB of the lab's own. Back doors read the hosts directly (nsenter into their namespaces), NGINX's own configuration and
// MariaDB's own tables, never through the provider. DNS is manual (nothing to read back) and there is no
// firewall to drift, so those toggles are off.
import type { Tags } from "@k3sinfra/core";
import { runProviderContract } from "@k3sinfra/core/testing";
import { createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, it } from "vitest";
import { hosts } from "../src/index.js";
import { isRoot, type Lab, type LabHost, planLab, skipReason, startLab } from "./lab.js";

const PASSWORD_ENV = "HOSTS_CONTRACT_MYSQL_PASSWORD";
const ROLES = { node: "node", network: "network", "load-balancer": "load-balancer" } as const;

if (!isRoot) {
  describe("provider contract: hosts", () => {
    it.skip(skipReason, () => undefined);
  });
} else {
  const plan = planLab(2);
  let lab: Lab | undefined;
  const started = (): Lab => {
    if (!lab) throw new Error("the lab did not start");
    return lab;
  };
  // The suite's config uses the default names (database k3s, users k3sadmin and k3s): a MariaDB of the lab's
  // own (real mariadbd, on the bridge) keeps them apart from every other test's.
  const db = () => {
    const m = started().privateMysql;
    if (!m) throw new Error("the lab has no private MariaDB");
    return m;
  };
  const mysql = () => {
    const m = db();
    return createConnection({ host: m.host, port: m.port, user: m.user, password: m.password });
  };
  // MariaDB's view: the ownership row in the suite's database (`k3s`, the config's default).
  const datastoreOwner = async (): Promise<Tags | undefined> => {
    const c = await mysql();
    try {
      const [t] = await c.query(
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'k3s' AND TABLE_NAME = 'k3sinfra_owner'",
      );
      if ((t as unknown[]).length === 0) return undefined;
      const [rows] = await c.query("SELECT tags FROM k3s.k3sinfra_owner LIMIT 1");
      const row = (rows as { tags: string }[])[0];
      return row ? (JSON.parse(row.tags) as Tags) : undefined;
    } finally {
      await c.end();
    }
  };
  const ownerOf = (h: LabHost, role: string): Tags | undefined => {
    const text = h.exec(`cat /var/lib/k3sinfra/owner-${role}.json 2>/dev/null || true`);
    return text.trim() === "" ? undefined : (JSON.parse(text) as { tags: Tags }).tags;
  };
  const matches = (have: Tags | undefined, want: Tags) =>
    have !== undefined && Object.entries(want).every(([k, v]) => have[k] === v);

  beforeAll(async () => {
    lab = await startLab(2, plan, { defaultSite: false, privateDatabase: true });
  }, 180_000);
  afterAll(async () => {
    await lab?.close();
  }, 60_000);

  runProviderContract({
    describe,
    it,
    beforeAll,
    afterAll,
    provider: hosts,
    region: "lab",
    zones: ["rack-0", "rack-1"],
    env: () => ({ [PASSWORD_ENV]: db().password }),
    options: {
      ssh: { user: "root", privateKeyFile: `${plan.dir}/client_key`, knownHosts: `${plan.dir}/known_hosts` },
      nodes: plan.nodeIps.map((address, i) => ({ address, zone: `rack-${i}` })),
      loadBalancer: { address: plan.lbIp },
      datastore: { host: plan.gateway, port: 3307, adminUser: "lab_admin", passwordEnv: PASSWORD_ENV },
    },
    toggles: { dns: false, repairsDrift: false },
    timeoutMs: 300_000,
    async owned(tags) {
      const l = started();
      const ids: string[] = [];
      for (const h of l.nodes) {
        if (matches(ownerOf(h, ROLES.node), tags)) ids.push(`ssh://${h.ip}:22`);
        const net = ownerOf(h, ROLES.network);
        if (matches(net, tags)) ids.push(`hosts:${net?.["k3sinfra:cluster"]}`);
      }
      if (matches(ownerOf(l.lb, ROLES["load-balancer"]), tags)) ids.push(`nginx://${l.lb.ip}:22`);
      if (matches(await datastoreOwner(), tags)) ids.push(`mysql://${plan.gateway}:3307/k3s`);
      return [...new Set(ids)].sort();
    },
    async status(id) {
      const l = started();
      const node = l.nodes.find((h) => id === `ssh://${h.ip}:22`);
      if (node) return ownerOf(node, ROLES.node) ? "running" : undefined;
      if (id === `nginx://${l.lb.ip}:22`)
        return ownerOf(l.lb, ROLES["load-balancer"]) &&
          l.lb.exec("kill -0 $(cat /run/nginx.pid) && echo up").trim() === "up"
          ? "active"
          : undefined;
      if (id.startsWith("mysql://")) return (await datastoreOwner()) ? "available" : undefined;
      return undefined;
    },
    async targets(lb) {
      // NGINX's own configuration: the upstream servers on port 80, as node ids.
      const l = started();
      const cluster = lb.name.split("-")[1] ?? "";
      const conf = l.lb.exec(`cat /etc/nginx/k3sinfra/streams/${cluster}.conf 2>/dev/null || true`);
      return [...conf.matchAll(/^\s+server (\S+):80 /gm)].map((m) => `ssh://${m[1]}:22`).sort();
    },
    async published(node) {
      const l = started();
      const h = l.nodes.find((x) => node.id === `ssh://${x.ip}:22`);
      if (!h) return {};
      const out = h.exec(
        'cd /var/lib/k3sinfra/metadata 2>/dev/null && for f in *; do printf \'%s=%s\\n\' "$f" "$(cat "$f")"; done || true',
      );
      return Object.fromEntries(
        out
          .split("\n")
          .filter((l2) => l2.includes("="))
          .map((l2) => [l2.slice(0, l2.indexOf("=")), l2.slice(l2.indexOf("=") + 1)]),
      );
    },
  });
}
