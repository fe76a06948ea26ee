// The whole path through core's API on the lab: `up` interrupted in the middle and run again, traffic through
// NGINX to both nodes, failover when one node's "Traefik" stops, a changed host key refused, and `destroy`
// leaving the hosts, NGINX and MariaDB as they were (files, users, databases compared).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { destroy, K3sinfraError, type ProgressEvent, up } from "@k3sinfra/core";
import { createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hosts } from "../src/index.js";
import { eventually } from "./helpers.js";
import { isRoot, type Lab, skipReason, startLab } from "./lab.js";

const HOST_SNAPSHOT =
  "find /etc/rancher /var/lib/rancher /var/lib/k3sinfra /usr/local/bin /usr/local/sbin /etc/systemd/system -printf '%p %m %s\\n' | sort";
const NGINX_SNAPSHOT =
  "find /etc/nginx /var/lib/k3sinfra -printf '%p %m %s\\n' | sort; md5sum /etc/nginx/nginx.conf";
const curl = (url: string): string | undefined => {
  try {
    return execFileSync("curl", ["-sk", "-m", "20", url], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
};

describe.skipIf(!isRoot)(`hosts: up, traffic, failover, destroy (${isRoot ? "root" : skipReason})`, () => {
  let lab: Lab;
  const id = process.pid % 100000;
  const mysqlInventory = async () => {
    const c = await createConnection({
      host: lab.mysql.host,
      port: lab.mysql.port,
      user: lab.mysql.user,
      password: lab.mysql.password,
    });
    // This cluster's names only: other tests share the server.
    const [users] = await c.query(
      "SELECT User, Host FROM mysql.user WHERE User IN (?, ?) ORDER BY User, Host",
      [`k3a${id}`, `k3c${id}`],
    );
    const [dbs] = await c.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [
      `k3s_cyc_${id}`,
    ]);
    await c.end();
    return JSON.stringify([users, dbs]);
  };
  beforeAll(async () => {
    lab = await startLab(2, undefined, { defaultSite: false });
  }, 120_000);
  afterAll(async () => {
    // A failed run leaves its database and users on the shared server: this cluster's names only.
    if (lab) {
      const c = await createConnection({
        host: lab.mysql.host,
        port: lab.mysql.port,
        user: lab.mysql.user,
        password: lab.mysql.password,
      });
      await c.query("DROP DATABASE IF EXISTS ??", [`k3s_cyc_${id}`]);
      await c.query("DROP USER IF EXISTS ?@'%', ?@'%'", [`k3a${id}`, `k3c${id}`]);
      await c.end();
    }
    await lab?.close();
  }, 60_000);

  it("comes up after an interrupted run, serves through NGINX, fails over, and destroys without a trace", async () => {
    const before = {
      nodes: lab.nodes.map((h) => h.exec(HOST_SNAPSHOT)),
      lb: lab.lb.exec(NGINX_SNAPSHOT),
      db: await mysqlInventory(),
    };
    const options = (nodeKeys = lab.nodes.map((h) => h.fingerprint)) => ({
      ssh: { user: "root", privateKeyFile: lab.privateKeyFile },
      nodes: lab.nodes.map((h, i) => ({ address: h.ip, hostKey: nodeKeys[i], zone: `rack-${i}` })),
      loadBalancer: { address: lab.lb.ip, hostKey: lab.lb.fingerprint },
      datastore: {
        host: lab.mysql.host,
        port: lab.mysql.port,
        adminUser: lab.mysql.user,
        passwordEnv: "LAB_MYSQL_PASSWORD",
      },
    });
    const spec = (nodeKeys?: string[]) => ({
      name: "labcycle",
      provider: hosts,
      region: "lab",
      zones: ["rack-0", "rack-1"],
      datastore: {
        databaseName: `k3s_cyc_${id}`,
        k3sUsername: `k3c${id}`,
        username: `k3a${id}`,
        deletionProtection: true,
      },
      dns: { zone: "lab.example" },
      rancher: { hostname: "rancher.lab.example", install: false },
      options: { hosts: options(nodeKeys) },
    });
    const events: ProgressEvent[] = [];
    const common = {
      baseDir: lab.dir,
      env: { LAB_MYSQL_PASSWORD: lab.mysql.password },
      poll: { minDelayMs: 200, maxDelayMs: 2000 },
      onEvent: (e: ProgressEvent) => events.push(e),
    };

    // A run stopped in the middle, once the first node is bootstrapping: what finished stays in the state.
    const crash = new AbortController();
    const interrupted = up(spec(), {
      ...common,
      signal: crash.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "resource" && e.resource === "node-0" && e.phase === "done")
          crash.abort(new Error("crash"));
      },
    });
    const stopped = await interrupted.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(K3sinfraError.is(stopped, "Aborted"), String(stopped)).toBe(true);
    const recorded = JSON.parse(readFileSync(`${lab.dir}/.k3sinfra/labcycle.state.json`, "utf8")) as {
      resources: Record<string, unknown>;
    };
    expect(Object.keys(recorded.resources)).toContain("node-0");
    expect(lab.nodes[0]!.exec("cat /var/lib/k3sinfra/owner-node.json")).toContain(
      '"k3sinfra:cluster":"labcycle"',
    );
    // The re-run adopts what the first made and finishes; `up` waits until both nodes answer behind NGINX.
    const result = await up(spec(), common);
    expect(result.outputs.loadBalancer.ips).toEqual([lab.lb.ip]);
    const messages = events.map((e) => ("message" in e ? e.message : "")).join("\n");
    expect(messages).toContain(`rancher.lab.example. 300 IN A ${lab.lb.ip}`);
    // The provider checked the server itself; core's own check (which reads mysql.*) is skipped under `auto`.
    expect(messages).toContain(
      "Datastore check skipped: the hosts provider checked the server when it created the database.",
    );

    // Both nodes serve through NGINX, on 80 and, TLS passed through, on 443.
    const seen = new Set<string>();
    await eventually("both nodes behind NGINX", () => {
      for (const url of [`http://${lab.lb.ip}/`, `https://${lab.lb.ip}/`]) {
        const body = curl(url);
        if (body) seen.add(body);
      }
      return seen.size === 2;
    });
    expect([...seen].sort()).toEqual(lab.nodes.map((h) => `served-by=${h.ip}`).sort());
    // The K3s installer was asked for the pinned version, as a server, with the datastore through the forwarder.
    for (const h of lab.nodes) {
      expect(h.exec("cat /var/lib/rancher/k3s/standin/install.log")).toContain("args=server");
      expect(h.exec("cat /var/lib/rancher/k3s/standin/config.yaml")).toContain(
        `@tcp(${lab.mysql.host}:${lab.mysql.port})/k3s_cyc_${id}`,
      );
    }

    // The database, the cluster's admin and the K3s user (made by server 0) exist now.
    expect(await mysqlInventory()).toBe(
      JSON.stringify([
        [
          { User: `k3a${id}`, Host: "%" },
          { User: `k3c${id}`, Host: "%" },
        ],
        [{ SCHEMA_NAME: `k3s_cyc_${id}` }],
      ]),
    );

    // Node 0's "Traefik" stops: traffic goes on through node 1.
    // Gone before the first request: a responder still dying could accept a connection and drop it, which is
    // not the failover under test (a node that refuses connections, which NGINX passes over).
    lab.nodes[0]!.exec(
      "pid=$(cat /var/lib/rancher/k3s/standin/pid); kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.05; done",
    );
    for (let i = 0; i < 6; i++) {
      expect(curl(`http://${lab.lb.ip}/`)).toBe(`served-by=${lab.nodes[1]!.ip}`);
      expect(curl(`https://${lab.lb.ip}/`)).toBe(`served-by=${lab.nodes[1]!.ip}`);
    }

    // Node 1 is reinstalled behind our back (a new host key): the next run stops, naming the key to check.
    const old = lab.nodes.map((h) => h.fingerprint);
    await lab.rekey(lab.nodes[1]!);
    await expect(up(spec(old), common)).rejects.toThrow(`CHANGED: it presented ${lab.nodes[1]!.fingerprint}`);

    // Once the operator has checked and pinned the new key, destroy (the datastore is protected) cleans up.
    const keys = lab.nodes.map((h) => h.fingerprint);
    await expect(destroy(spec(keys), common)).rejects.toThrow(/deletion protection/);
    await destroy(spec(keys), { ...common, allowProtected: true });
    lab.nodes.forEach((h, i) => {
      expect(h.exec(HOST_SNAPSHOT)).toBe(before.nodes[i]);
    });
    expect(lab.lb.exec(NGINX_SNAPSHOT)).toBe(before.lb);
    expect(await mysqlInventory()).toBe(before.db);
  }, 900_000);
});
