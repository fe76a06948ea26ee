// Nodes on real sshd hosts: host keys verified, core's bootstrap applied over SSH and run by its unit until
// K3s (the lab's stand-in) answers, published values read at boot, and delete leaving each host as it was.
import { renderCloudInit, Secret } from "@k3sinfra/core";
import { createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOSTS_METADATA_READER, HostsNodeService } from "../src/nodes.js";
import { ctxFor, eventually, labHosts, labOptions } from "./helpers.js";
import { isRoot, type Lab, skipReason, startLab } from "./lab.js";

const DB = `k3s_nodes_${process.pid}`;
const SNAPSHOT =
  "find /etc/rancher /var/lib/rancher /var/lib/k3sinfra /usr/local/bin /usr/local/sbin /etc/systemd/system -printf '%p %m %s\\n' | sort";

describe.skipIf(!isRoot)(`hosts nodes over SSH (${isRoot ? "root" : skipReason})`, () => {
  let lab: Lab;
  const before: string[] = [];
  beforeAll(async () => {
    lab = await startLab(2);
    for (const h of lab.nodes) before.push(h.exec(SNAPSHOT));
  }, 120_000);
  afterAll(async () => {
    if (lab) {
      // The database and user server 0 made on the shared MariaDB (this test's names only).
      const c = await createConnection({
        host: lab.mysql.host,
        port: lab.mysql.port,
        user: lab.mysql.user,
        password: lab.mysql.password,
      });
      await c.query(`DROP DATABASE IF EXISTS \`${DB}\``);
      await c.query("DROP USER IF EXISTS ?@'%'", [DB]);
      await c.end();
    }
    await lab?.close();
  }, 60_000);

  it("refuses an unknown host key and a changed one, naming the presented fingerprint", async () => {
    const o = labOptions(lab);
    const h = labHosts({
      ...o,
      ssh: { ...o.ssh, knownHosts: `${lab.dir}/no_known_hosts` },
      nodes: [{ address: lab.nodes[0]!.ip }],
    });
    const ctx = ctxFor("lab", "node-0");
    await expect(h.with(h.node(0), ctx, async () => "in")).rejects.toThrow(
      `is unknown: it presented ${lab.nodes[0]!.fingerprint}`,
    );
    const wrong = labHosts({
      ...o,
      nodes: [{ address: lab.nodes[0]!.ip, hostKey: lab.nodes[1]!.fingerprint }],
    });
    await expect(wrong.with(wrong.node(0), ctx, async () => "in")).rejects.toThrow(
      `CHANGED: it presented ${lab.nodes[0]!.fingerprint}`,
    );
    // Trusted through known_hosts (no hostKey): the lab wrote every host's key there.
    const ok = labHosts({ ...o, nodes: [{ address: lab.nodes[0]!.ip }] });
    expect(await ok.with(ok.node(0), ctx, async (s) => (await s.run("id", "id -u")).trim())).toBe("0");
  });

  it("bootstraps both servers with core's script and uninstalls them without a trace", async () => {
    const o = labOptions(lab);
    const hosts = labHosts(o);
    // The datastore's CA (options.hosts.datastore.caFile): K3s verifies the server with it.
    const nodes = new HostsNodeService(
      hosts,
      async () => "-----BEGIN CERTIFICATE-----\nlab\n-----END CERTIFICATE-----\n",
    );
    const db = DB;
    const states = [];
    for (const index of [0, 1]) {
      const userData = renderCloudInit({
        index,
        k3sVersion: "v1.33.12+k3s1",
        hostname: "rancher.lab.example",
        loadBalancer: { mode: "l4" },
        metadataReader: HOSTS_METADATA_READER,
        token: new Secret("lab-token-0123456789abcdef"),
        datastore: {
          user: db,
          database: db,
          password: new Secret("labK3sPassw0rd"),
          admin: { user: lab.mysql.user, password: new Secret(lab.mysql.password) },
        },
      });
      const spec = {
        index,
        zone: `rack-${index}`,
        size: { vcpus: 1, memoryGiB: 1 },
        diskGiB: 30,
        image: "existing",
        userData,
        userDataHash: "h",
        network: {} as never,
      };
      const state = await nodes.create(spec, ctxFor("lab", `node-${index}`));
      expect(state).toMatchObject({
        id: `ssh://${lab.nodes[index]!.ip}:22`,
        privateIp: lab.nodes[index]!.ip,
        status: "running",
      });
      // Idempotent: a second create (a re-run after a crash) adopts.
      expect(await nodes.create(spec, ctxFor("lab", `node-${index}`))).toEqual(state);
      states.push(state);
    }
    // Secrets are in 0600 files only.
    expect(lab.nodes[0]!.exec("stat -c %a /etc/rancher/k3s/k3sinfra/config.yaml.tmpl").trim()).toBe("600");
    expect(lab.nodes[0]!.exec("stat -c %a /etc/rancher/k3s/datastore-ca.pem").trim()).toBe("644");
    const late = {
      "datastore-host": lab.mysql.host,
      "datastore-port": String(lab.mysql.port),
      "first-server-ip": states[0]!.privateIp,
    };
    for (const s of states) await nodes.publish(s, late, ctxFor("lab", "node-0"));
    for (const h of lab.nodes)
      await eventually(
        `bootstrap on ${h.name}`,
        () => h.exec("systemctl is-active k3sinfra-bootstrap || true").trim() === "active",
      );
    for (const h of lab.nodes) {
      const install = h.exec("cat /var/lib/rancher/k3s/standin/install.log");
      expect(install).toContain("args=server");
      expect(install).toContain("version=v1.33.12+k3s1");
      const config = h.exec("cat /var/lib/rancher/k3s/standin/config.yaml");
      expect(config).toContain(`tcp(${lab.mysql.host}:${lab.mysql.port})/${db}`);
      expect(config).toContain(`node-ip: "${h.ip}"`);
      expect(config).toMatch(/^datastore-cafile: "\/.+"$/m);
    }
    // Server 0 prepared the database as the admin: the K3s user can log in to it.
    expect(
      (
        await lab.nodes[0]!.run(
          `MYSQL_PWD=labK3sPassw0rd mariadb --no-defaults -h ${lab.mysql.host} -P ${lab.mysql.port} -u ${db} -D ${db} -N -e 'SELECT 1'`,
        )
      ).trim(),
    ).toBe("1");
    expect(
      (await nodes.findByTags({ "k3sinfra:cluster": "lab" }, ctxFor("lab", "node-0")))
        .map((s) => s.id)
        .sort(),
    ).toEqual(states.map((s) => s.id).sort());
    for (const [i, s] of states.entries()) {
      await nodes.delete(s, ctxFor("lab", `node-${i}`));
      await nodes.delete(s, ctxFor("lab", `node-${i}`));
      expect(await nodes.read(s, ctxFor("lab", `node-${i}`))).toBeUndefined();
    }
    for (const [i, h] of lab.nodes.entries()) expect(h.exec(SNAPSHOT)).toBe(before[i]);
  }, 600_000);

  it("refuses a host whose key changed since known_hosts recorded it", async () => {
    const o = labOptions(lab);
    const h = labHosts({ ...o, nodes: [{ address: lab.nodes[1]!.ip }] });
    await lab.rekey(lab.nodes[1]!);
    await expect(h.with(h.node(0), ctxFor("lab", "node-0"), async () => "in")).rejects.toThrow(
      `CHANGED: it presented ${lab.nodes[1]!.fingerprint}`,
    );
  });
});
