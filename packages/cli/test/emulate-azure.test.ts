import { copyFile, readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { describe, expect, it } from "vitest";
import { spawnCli } from "./child.js";
import { runCli, tempDir } from "./helpers.js";

const example = resolve(fileURLToPath(import.meta.url), "../../../../examples/azure.yaml");
const SCALE = "0.005";

type StatusReport = { exists: boolean; resources: { resource: string; status: string }[] };

const persisted = (dir: string) => join(dir, ".k3sinfra", "emulator", "rancher-azure.json");

/** The emulated subscription as the CLI left it (its state file), opened for a back-door look. */
const withEmulator = async <T>(dir: string, fn: (e: Emulator) => Promise<T>): Promise<T> => {
  const e = await startEmulator({
    clouds: ["azure"],
    persistPath: persisted(dir),
    timeScale: Number(SCALE),
    log: () => undefined,
  });
  try {
    return await fn(e);
  } finally {
    await e.stop();
  }
};

/** One raw ARM call, as a user in the portal would make it (a token from the emulator's token endpoint). */
const arm = async (e: Emulator, method: string, id: string, apiVersion: string): Promise<number> => {
  const send = (m: string, url: string, body?: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; text: string }>((ok, fail) => {
      const req = request(url, { method: m, ca: e.caPem, headers }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString("utf8");
        });
        res.on("end", () => ok({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", fail);
      if (body) req.write(body);
      req.end();
    });
  const c = e.credentials.azure;
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: c.clientId,
    client_secret: c.clientSecret,
    scope: "https://management.azure.com/.default",
  });
  const token = (
    JSON.parse(
      (
        await send("POST", `${e.httpsUrl}/${c.tenantId}/oauth2/v2.0/token`, form.toString(), {
          "content-type": "application/x-www-form-urlencoded",
        })
      ).text,
    ) as { access_token: string }
  ).access_token;
  return (
    await send(method, `${e.httpsUrl}${id}?api-version=${apiVersion}`, undefined, {
      authorization: `Bearer ${token}`,
    })
  ).status;
};

const expectAllOk = (run: { code: number; stdout: string; stderr: string }) => {
  expect(run.code, run.stderr).toBe(0);
  const report = JSON.parse(run.stdout) as StatusReport;
  expect(report.exists).toBe(true);
  expect(report.resources.filter((r) => r.status !== "ok")).toEqual([]);
};

describe("--emulate end to end on Azure", () => {
  it.each([
    ["L4", {}],
    ["L4 with 10% of calls throttled", { K3SINFRA_EMULATE_THROTTLE: "0.1" }],
  ] as const)(
    "%s: up → status → outputs → destroy leaves the subscription empty",
    async (_title, env) => {
      const dir = await tempDir();
      const config = join(dir, "k3sinfra.yaml");
      await copyFile(example, config);
      // A real account's credentials in the environment must not reach the emulated run.
      const cli = (...args: string[]) =>
        runCli(["--config", config, "--emulate", "--time-scale", SCALE, ...args], {
          env: { ...env, AZURE_USERNAME: "someone@example.com", AZURE_PASSWORD: "real" },
        });
      const up = await cli("up", "--yes");
      expect(up.stderr).toContain("EMULATED CLOUD (azure");
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toContain("Up complete");
      if ("K3SINFRA_EMULATE_THROTTLE" in env) expect(up.stderr).toMatch(/TooManyRequests, retry/);
      // The secrets are in the cluster's Key Vault, read by the nodes' managed identity: no user-data warning.
      expect(up.stdout + up.stderr).not.toMatch(/has no secret store/);
      await withEmulator(dir, async (e) => {
        const types = e.inventory({ cloud: "azure" }).map((i) => i.type);
        expect(types).toContain("Microsoft.KeyVault/vaults");
        expect(types).toContain("Microsoft.ManagedIdentity/userAssignedIdentities");
        expect(types).toContain("Microsoft.Authorization/roleAssignments");
      });
      expectAllOk(await cli("status", "--json"));
      const outputs = await cli("outputs");
      expect(outputs.code, outputs.stderr).toBe(0);
      expect(outputs.stdout).toMatch(/Rancher URL\s+https:\/\/rancher\.example\.com/);
      const destroy = await cli("destroy", "--yes");
      expect(destroy.code, destroy.stderr).toBe(0);
      // Nothing left, a soft-deleted vault included (the inventory lists those too).
      await withEmulator(dir, async (e) => {
        expect(e.inventory({ cloud: "azure" })).toEqual([]);
      });
    },
    180_000,
  );

  it("a VM deleted outside k3sinfra is made again by the next up", async () => {
    const dir = await tempDir();
    const config = join(dir, "k3sinfra.yaml");
    await copyFile(example, config);
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", SCALE, ...args]);
    expect((await cli("up", "--yes")).code).toBe(0);
    const vm = await withEmulator(dir, async (e) => {
      const found = e
        .inventory({ cloud: "azure", tags: { "k3sinfra:resource": "node-1" } })
        .find((i) => i.type === "Microsoft.Compute/virtualMachines");
      expect(found).toBeDefined();
      expect(await arm(e, "DELETE", found!.id, "2026-04-01")).toBe(202);
      // Until the deletion completes (a wait for the emulated cloud, not an assertion on time).
      while ((await arm(e, "GET", found!.id, "2026-04-01")) !== 404)
        await new Promise((ok) => setTimeout(ok, 20));
      return found!.id;
    });
    const status = await cli("status", "--json");
    expect(
      (JSON.parse(status.stdout) as StatusReport).resources.find((r) => r.resource === "node-1")?.status,
    ).toBe("missing");
    const again = await cli("up", "--yes");
    expect(again.code, again.stderr).toBe(0);
    expectAllOk(await cli("status", "--json"));
    await withEmulator(dir, async (e) => {
      // A replacement (core suffixes its name with the generation), running where node-1 was.
      const vms = e
        .inventory({ cloud: "azure", tags: { "k3sinfra:resource": "node-1" } })
        .filter((i) => i.type === "Microsoft.Compute/virtualMachines");
      expect(vms.map((i) => i.state)).toEqual(["Succeeded"]);
      expect(vms[0]?.id).not.toBe(vm);
    });
    expect((await cli("destroy", "--yes")).code).toBe(0);
  }, 180_000);
});

// Points in the progress of `up` with emulated waits still ahead (a VM boots, a private DNS zone provisions, a
// flexible server takes longest), so the kill lands in the middle of the work.
const POINTS: readonly [string, RegExp][] = [
  ["while a VM boots", /node-0 create progress: virtual machine \S+ to run/],
  ["while the private DNS zone provisions", /datastore create progress: private DNS zone/],
  ["while the flexible server provisions", /datastore create progress: MySQL flexible server/],
];

describe("kill -9 of up on Azure, then up again", () => {
  it.each(POINTS)(
    "killed %s: the next up converges without duplicates, and destroy empties the subscription",
    async (_point, pattern) => {
      const dir = await tempDir();
      const config = join(dir, "k3sinfra.yaml");
      await copyFile(example, config);
      const args = ["--config", config, "--emulate", "--yes"];
      const first = spawnCli([...args, "up", "--time-scale", "0.02"]);
      await first.waitFor(pattern);
      first.child.kill("SIGKILL");
      expect((await first.exit).signal).toBe("SIGKILL");

      const second = await runCli([...args, "--time-scale", SCALE, "up"]);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain("Up complete");
      await withEmulator(dir, async (e) => {
        const items = e.inventory({ cloud: "azure" });
        const count = (type: string) => items.filter((i) => i.type === type).length;
        expect(count("Microsoft.Compute/virtualMachines")).toBe(2);
        expect(count("Microsoft.Network/networkInterfaces")).toBe(2);
        expect(count("Microsoft.DBforMySQL/flexibleServers")).toBe(1);
        expect(count("Microsoft.Network/loadBalancers")).toBe(1);
        expect(count("Microsoft.Network/publicIPAddresses")).toBe(1);
        expect(count("Microsoft.Network/virtualNetworks")).toBe(1);
      });
      const destroy = await runCli([...args, "--time-scale", SCALE, "destroy"]);
      expect(destroy.code, destroy.stderr).toBe(0);
      await withEmulator(dir, async (e) => {
        expect(e.inventory({ cloud: "azure" })).toEqual([]);
      });
    },
    180_000,
  );
});

describe("what Azure does not offer fails at plan time, before the emulator starts", () => {
  it("L7 and MySQL 8.4 are config errors with their paths", async () => {
    const dir = await tempDir();
    const config = join(dir, "k3sinfra.yaml");
    const text = (await readFile(example, "utf8"))
      .replace("  mode: l4", "  mode: l7\n  certificate: https://kv.vault.azure.net/secrets/rancher")
      .replace('version: "8.0"', 'version: "8.4"');
    await writeFile(config, text);
    const plan = await runCli(["--config", config, "--emulate", "plan"]);
    expect(plan.code).not.toBe(0);
    expect(plan.stderr).toContain("loadBalancer.mode: 'azure' has no L7 load balancer (it offers: l4)");
    expect(plan.stderr).toContain("datastore.version: 'azure' offers mysql 8.0, not 8.4");
    expect(plan.stderr).not.toContain("EMULATED CLOUD");
  });
});
