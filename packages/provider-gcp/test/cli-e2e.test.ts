import { spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "@k3sinfra/emulator";
import { describe, expect, it } from "vitest";

const root = resolve(fileURLToPath(import.meta.url), "../../../..");

/** `k3sinfra <args>` from the sources, as a user's shell runs it (no Google client is mocked: all is HTTP). */
const runCli = (args: readonly string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@k3sinfra/source", "--import", "tsx", join(root, "packages/cli/src/bin.ts"), ...args],
      { cwd: root, env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json") } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    child.on("close", (code) => done({ code, stdout, stderr }));
  });

/** What the emulated project holds, read from the file the CLI's emulator persisted. */
const inventory = async (persisted: string) => {
  const e = await startEmulator({ clouds: ["gcp"], persistPath: persisted, log: () => undefined });
  try {
    return e.inventory({ cloud: "gcp" });
  } finally {
    await e.stop();
  }
};

/** Deletes an instance outside k3sinfra, as a user in the console would (through the compute API). */
const deleteOutOfBand = async (persisted: string, id: string) => {
  const e = await startEmulator({
    clouds: ["gcp"],
    persistPath: persisted,
    timeScale: 0.001,
    log: () => undefined,
  });
  try {
    const res = await fetch(`${e.url}/compute/v1/${id}`, {
      method: "DELETE",
      headers: { authorization: "Bearer console" },
    });
    expect(res.status).toBe(200);
  } finally {
    await e.stop();
  }
};

const setup = async (example: string) => {
  const dir = await mkdtemp(join(tmpdir(), "k3sinfra-gcp-e2e-"));
  const config = join(dir, "k3sinfra.yaml");
  await copyFile(join(root, "examples", example), config);
  return { dir, config };
};

describe("k3sinfra --emulate on Google Cloud", () => {
  it("L4: up → status → outputs → destroy, a node deleted out of band is recreated, the project ends empty", async () => {
    const { dir, config } = await setup("gcp.yaml");
    // Real credentials in the environment must not reach the emulated run.
    const env = {
      GOOGLE_APPLICATION_CREDENTIALS: "/nonexistent/real-key.json",
      GOOGLE_CLOUD_PROJECT: "real-project",
    };
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args], env);
    const up = await cli("up", "--yes");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain("EMULATED CLOUD (gcp");
    expect(up.stdout).toContain("Up complete");
    expect(up.stdout).toContain("/etc/rancher/k3s/config.yaml on node-1");
    const persisted = join(dir, ".k3sinfra", "emulator", "rancher-gcp.json");
    const made = await inventory(persisted);
    expect(made.filter((i) => i.type === "instances").map((i) => i.state)).toEqual(["RUNNING", "RUNNING"]);
    expect(made.filter((i) => i.type === "forwardingRules")).toHaveLength(2);
    expect(made.some((i) => i.type === "sql-instance" && i.state === "RUNNABLE")).toBe(true);
    expect(made.some((i) => i.type === "resource-record-set" && i.name === "rancher.example.com.")).toBe(
      true,
    );

    const status = await cli("status", "--json");
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { resources: { resource: string; status: string }[] };
    expect(report.resources.filter((r) => r.status !== "ok")).toEqual([]);
    const outputs = await cli("outputs", "--json");
    expect(outputs.code, outputs.stderr).toBe(0);
    const out = JSON.parse(outputs.stdout) as {
      rancherUrl: string;
      loadBalancer: { mode: string; ips: string[] };
    };
    expect(out.rancherUrl).toBe("https://rancher.example.com");
    expect(out.loadBalancer).toMatchObject({
      mode: "l4",
      ips: [expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/)],
    });

    // The emulator stood in for server 0 (simulateBoot): it stored its kubeconfig with the node's own account.
    const kubeconfig = await cli("kubeconfig");
    expect(kubeconfig.code, kubeconfig.stderr).toBe(0);
    expect(await readFile(join(dir, ".k3sinfra", "rancher-gcp.kubeconfig"), "utf8")).toMatch(
      /^apiVersion: v1\n[\s\S]*server: https:\/\/127\.0\.0\.1:6443\n/,
    );
    // 6443 is closed to the outside (no nodes.adminCidrs): the tunnel goes through IAP, which the network admits.
    const n0 = made.find((i) => i.type === "instances" && i.name === "k3s-rancher-gcp-n0");
    expect(kubeconfig.stdout).toMatch(
      /gcloud compute start-iap-tunnel k3s-rancher-gcp-n0 6443 --local-host-port=localhost:6443 --zone \S+ --project \S+/,
    );
    expect(n0).toBeDefined();
    const iap = made.find((i) => i.type === "firewalls" && i.name?.endsWith("-iap"));
    expect(iap, JSON.stringify(made.filter((i) => i.type === "firewalls"))).toBeDefined();

    // A node deleted in the console: status sees it missing, up makes it again and registers it.
    const node1 = made.find((i) => i.type === "instances" && i.name === "k3s-rancher-gcp-n1");
    await deleteOutOfBand(persisted, node1!.id);
    const drift = await cli("status", "--json");
    expect(
      (JSON.parse(drift.stdout) as typeof report).resources.find((r) => r.resource === "node-1")?.status,
    ).toBe("missing");
    const again = await cli("up", "--yes");
    expect(again.code, again.stderr).toBe(0);
    const healed = await inventory(persisted);
    // Core replaces the missing node (a new generation: `-g1`), and nothing else.
    const running = healed.filter((i) => i.type === "instances" && i.state === "RUNNING").map((i) => i.name);
    expect(running.sort()).toEqual(["k3s-rancher-gcp-n0", "k3s-rancher-gcp-n1-g1"]);
    expect(
      (JSON.parse((await cli("status", "--json")).stdout) as typeof report).resources.filter(
        (r) => r.status !== "ok",
      ),
    ).toEqual([]);

    const destroy = await cli("destroy", "--yes");
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(await inventory(persisted)).toEqual([]);
  }, 300_000);

  it("L7 under 10% throttling: up converges (Google-managed certificate, HTTPS redirect), destroy leaves nothing", async () => {
    const { dir, config } = await setup("gcp-l7.yaml");
    const env = { K3SINFRA_EMULATE_THROTTLE: "0.1" };
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args], env);
    const up = await cli("up", "--yes");
    expect(up.code, up.stderr).toBe(0);
    const persisted = join(dir, ".k3sinfra", "emulator", "rancher-gcp-l7.json");
    const made = await inventory(persisted);
    expect(made.filter((i) => i.type === "forwardingRules" && i.region === undefined)).toHaveLength(2);
    expect(made.filter((i) => i.type === "sslCertificates")).toHaveLength(1);
    expect(made.filter((i) => i.type === "targetHttpProxies")).toHaveLength(1);
    const outputs = await cli("outputs", "--json");
    expect((JSON.parse(outputs.stdout) as { loadBalancer: { mode: string } }).loadBalancer.mode).toBe("l7");
    const destroy = await cli("destroy", "--yes");
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(await inventory(persisted)).toEqual([]);
  }, 300_000);
});
