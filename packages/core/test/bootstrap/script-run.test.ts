import { afterAll, describe, expect, it } from "vitest";
import { K3S_CONFIG_PATH, renderCloudInit, renderK3sConfig, tlsSans } from "../../src/bootstrap/index.js";
import { DB_PASSWORD, input, L7, TOKEN } from "./fixtures.js";
import { removeSandboxes, runBootstrap } from "./sandbox.js";

afterAll(removeSandboxes);

const noSecrets = (lines: string[]) => {
  for (const line of lines) {
    expect(line).not.toContain(TOKEN);
    expect(line).not.toContain(DB_PASSWORD);
  }
};

describe("bootstrap script, run under sh with a faked node", () => {
  it("server 0 waits for the datastore host, writes the 0600 config and installs the pinned K3s", () => {
    const node = input(0, 2);
    const run = runBootstrap(renderCloudInit(node), {
      lateMetadata: {
        afterSleeps: 3,
        values: { "datastore-host": "db.internal.example", "datastore-port": "3307" },
      },
    });
    expect(run.stderr).toContain("stage=metadata waiting: metadata key datastore-host is not published yet");
    expect(run.status).toBe(0);
    expect(run.mode(K3S_CONFIG_PATH)).toBe(0o600);
    const expected = renderK3sConfig({
      token: node.token,
      datastore: { ...node.datastore, host: "db.internal.example", port: 3307 },
      datastoreTls: false,
      tlsSan: tlsSans(node),
      nodeIp: "10.0.1.23",
    });
    expect(run.read(K3S_CONFIG_PATH)).toBe(expected);
    const installer = run.log.find((l) => l.startsWith("installer "))!;
    expect(installer).toMatch(/^installer server env:.*INSTALL_K3S_VERSION=v1\.33\.12\+k3s1/);
    expect(installer).toContain("INSTALL_K3S_SKIP_START=true");
    const start = run.log.indexOf("systemctl restart --no-block k3s");
    expect(start).toBeGreaterThan(run.log.indexOf(installer));
    expect(run.log.some((l) => l.includes("/ping") && !l.includes("127.0.0.1"))).toBe(false);
    noSecrets(run.log);
    noSecrets(run.stderr.split("\n"));
  });

  it("server 1 waits for the first server's /ping before installing", () => {
    const run = runBootstrap(renderCloudInit(input(1, 3, { loadBalancer: L7 })), {
      metadata: { "datastore-host": "db.internal.example" },
      lateMetadata: { afterSleeps: 2, values: { "first-server-ip": "10.0.1.10" } },
      firstServerUpAfterSleeps: 6,
    });
    expect(run.status).toBe(0);
    const pings = run.log
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => l.includes("https://10.0.1.10:6443/ping"));
    const install = run.log.findIndex((l) => l.startsWith("installer "));
    expect(pings.length).toBeGreaterThan(1);
    expect(install).toBeGreaterThan(pings.at(-1)!.i);
    expect(run.read(K3S_CONFIG_PATH)).toContain("tcp(db.internal.example:3306)");
    noSecrets(run.log);
  });

  it("gives up with a clear error when the datastore host is never published", () => {
    const run = runBootstrap(renderCloudInit(input(0, 2, { waits: { metadataSeconds: 20 } })));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("metadata key datastore-host was not published within 20 s");
    expect(run.log.some((l) => l.startsWith("installer"))).toBe(false);
    expect(run.read(K3S_CONFIG_PATH)).toBeUndefined();
  });

  it("ignores a published value that is not a host (it would be pasted into YAML)", () => {
    const run = runBootstrap(renderCloudInit(input(0, 2, { waits: { metadataSeconds: 10 } })), {
      metadata: { "datastore-host": 'evil"\nhost' },
    });
    expect(run.status).not.toBe(0);
    expect(run.read(K3S_CONFIG_PATH)).toBeUndefined();
  });

  it("uses a datastore host given in the input without waiting", () => {
    const node = input(0, 2, {
      datastore: { ...input(0, 2).datastore, host: "byo.example.com", port: 3306 },
    });
    const run = runBootstrap(renderCloudInit(node));
    expect(run.status).toBe(0);
    expect(run.log.some((l) => l.startsWith("sleep"))).toBe(false);
    expect(run.read(K3S_CONFIG_PATH)).toContain("tcp(byo.example.com:3306)");
  });
});
