// The descriptor without hosts: options, validation, the example config, NGINX's rendered stream block and
// known_hosts matching (plain and hashed names, ports).
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "@k3sinfra/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { hosts, parseHostsOptions, renderStreamConf } from "../src/index.js";
import { checkHostKey, fingerprint } from "../src/ssh/host-key.js";

const example = parse(readFileSync(join(import.meta.dirname, "../../../examples/hosts.yaml"), "utf8"));

describe("hosts provider descriptor", () => {
  it("accepts examples/hosts.yaml", () => {
    const parsed = parseConfig({ ...example, provider: "hosts" });
    expect(parsed.issues).toEqual([]);
    const options = parseHostsOptions(example.options.hosts);
    expect(options.ok).toBe(true);
    if (!options.ok) return;
    expect(
      hosts.validate?.(parsed.config, options.value, ["network", "nodes", "datastore", "loadBalancer"]),
    ).toEqual([]);
  });

  it("names the config path of each bad option, before anything connects", () => {
    const r = parseHostsOptions({
      ssh: { port: 0 },
      nodes: [{ address: "a b" }, { address: "10.0.0.1", hostKey: "md5:xx" }, { address: "10.0.0.1" }],
      datastore: { host: "db", passwordEnv: "not-a-var" },
      extra: true,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path).sort()).toEqual(
      [
        "datastore.adminUser",
        "datastore.passwordEnv",
        "extra",
        "nodes[0].address",
        "nodes[1].hostKey",
        "nodes[2].address",
        "ssh.port",
      ].sort(),
    );
  });

  it("refuses a node count that differs from the hosts listed and L7; checks the datastore itself", () => {
    const parsed = parseConfig({
      ...example,
      provider: "hosts",
      nodes: { count: 3 },
      datastore: { ...example.datastore, check: "auto" },
      loadBalancer: { mode: "l7", certificate: "x" },
    });
    const options = parseHostsOptions(example.options.hosts);
    if (!options.ok) throw new Error("example options");
    const paths = hosts
      .validate?.(parsed.config, options.value, ["nodes", "datastore", "loadBalancer"])
      .map((i) => i.path);
    expect(paths).toEqual(["options.hosts.nodes", "loadBalancer.mode"]);
    expect(hosts.capabilities.datastoreCheck).toBe("provider");
  });

  it("renders one upstream per port with passive health, no proxy protocol, and closes the ports without targets", () => {
    const conf = renderStreamConf({
      cluster: "prod-a",
      targets: [
        { id: "ssh://10.0.0.1:22", privateIp: "10.0.0.1" },
        { id: "ssh://10.0.0.2:22", privateIp: "10.0.0.2" },
      ],
      idleTimeoutSeconds: 1800,
    });
    expect(conf).toContain("upstream k3sinfra_prod_a_443 {");
    expect(conf.match(/server 10\.0\.0\.\d:80 max_fails=3 fail_timeout=30s;/g)).toHaveLength(2);
    expect(conf).toContain("proxy_protocol off;");
    expect(conf).toContain("proxy_timeout 1800s;");
    expect(renderStreamConf({ cluster: "prod-a", targets: [], idleTimeoutSeconds: 1800 })).not.toContain(
      "listen",
    );
  });

  it("matches known_hosts entries, hashed or plain, on the right port, and tells unknown from changed", async () => {
    const key = randomBytes(51);
    const other = randomBytes(51);
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("[10.0.0.9]:2222").digest("base64")}`;
    const dir = mkdtempSync(join(tmpdir(), "kh-"));
    const file = join(dir, "known_hosts");
    writeFileSync(
      file,
      `# comment\n10.0.0.8 ssh-ed25519 ${other.toString("base64")}\n${hashed} ssh-ed25519 ${key.toString("base64")}\n`,
    );
    expect(await checkHostKey(key, { knownHosts: file }, "10.0.0.9", 2222)).toEqual({ ok: true });
    expect(await checkHostKey(key, { knownHosts: file }, "10.0.0.9", 22)).toMatchObject({
      ok: false,
      reason: "unknown",
    });
    expect(await checkHostKey(key, { knownHosts: file }, "10.0.0.8", 22)).toEqual({
      ok: false,
      reason: "changed",
      fingerprint: fingerprint(key),
    });
    expect(await checkHostKey(key, { fingerprint: fingerprint(key) }, "x", 22)).toEqual({ ok: true });
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
