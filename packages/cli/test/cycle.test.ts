import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FileStateStore } from "@k3sinfra/core";
import { describe, expect, it } from "vitest";
import { runCli, tempDir, writeMemoryConfig } from "./helpers.js";

const cloudObjects = async (dir: string): Promise<unknown[]> =>
  (JSON.parse(await readFile(join(dir, "cloud.json"), "utf8")) as { objects: unknown[] }).objects;

describe("up → status → outputs → destroy on the in-memory cloud", () => {
  it("runs the whole cycle through main(), with masked secrets and parseable --json", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const cli = (...args: string[]) => runCli(["--config", config, ...args]);

    // Not a terminal and no --yes: the plan is shown, nothing is created, exit 2.
    const refused = await cli("up");
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/\+\s+node-0\s+create/);
    expect(refused.stderr).toContain("pass --yes");

    const up = await cli("up", "--yes");
    expect(up.stderr).toBe(up.stderr.replace(/Error/g, "")); // no error printed
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("Plan: 8 to create");
    expect(up.stdout).toContain("Up complete: 8 created");
    expect(up.stdout).toMatch(/Rancher URL\s+https:\/\/rancher.example.com/);
    expect(up.stderr).toMatch(/node-0 create done/);
    expect(await cloudObjects(dir)).toHaveLength(6);

    const again = await cli("up", "--yes");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("No changes.");

    const status = await cli("status");
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/node-1\s+nodes\s+ok/);
    expect(status.stdout).toContain("8 ok, 0 drifted, 0 missing, 0 unknown.");

    const statusJson = await cli("status", "--json");
    const report = JSON.parse(statusJson.stdout) as { exists: boolean; resources: { status: string }[] };
    expect(report.exists).toBe(true);
    expect(report.resources.every((r) => r.status === "ok")).toBe(true);

    const secretJson = await cli("outputs", "--json", "--show-secrets");
    expect(secretJson.code).toBe(0);
    const revealed = JSON.parse(secretJson.stdout) as {
      secretsShown: boolean;
      k3s: { token: string };
      rancher: { bootstrapPassword: string };
    };
    expect(revealed.secretsShown).toBe(true);
    expect(revealed.k3s.token).not.toBe("********");
    const token = revealed.k3s.token;
    const password = revealed.rancher.bootstrapPassword;

    const masked = await cli("outputs");
    expect(masked.code).toBe(0);
    for (const section of [
      "Rancher URL  https://rancher.example.com",
      "Load balancer",
      "Nodes",
      "node-0",
      "node-1",
      "Datastore",
      "/etc/rancher/k3s/config.yaml on node-0",
      // rancher.install (the default): the cluster installs Rancher, outputs say how to watch it.
      "$ kubectl -n cattle-system rollout status deploy/rancher",
      "Kubeconfig:",
    ]) {
      expect(masked.stdout).toContain(section);
    }
    expect(masked.stdout).toContain("token               ********");
    expect(masked.stdout).not.toContain(token);
    expect(masked.stdout).not.toContain(password);
    expect(masked.stderr).not.toContain(token);

    const shown = await cli("outputs", "--show-secrets");
    expect(shown.stdout).toContain(token);
    expect(shown.stdout).toContain(password);

    const json = await cli("outputs", "--json");
    const outputs = JSON.parse(json.stdout) as {
      rancherUrl: string;
      secretsShown: boolean;
      k3s: { token: string };
    };
    expect(outputs.rancherUrl).toBe("https://rancher.example.com");
    expect(outputs.secretsShown).toBe(false);
    expect(json.stdout).not.toContain(token);

    // The datastore is protected by default: destroy deletes the rest, then reports a partial failure.
    const partial = await cli("destroy", "--yes");
    expect(partial.code).toBe(4);
    expect(partial.stdout).toContain("deletion protection");
    expect(partial.stderr).toContain("Destroy stopped at the datastore: it has deletion protection on");
    expect(partial.stderr).toContain(`k3sinfra destroy --allow-protected --config ${config}`);

    const destroy = await cli("destroy", "--yes", "--allow-protected", "--json");
    expect(destroy.code).toBe(0);
    const result = JSON.parse(destroy.stdout) as { deleted: string[] };
    expect(result.deleted).toContain("datastore");
    expect(await cloudObjects(dir)).toEqual([]);
    // --json keeps stderr machine-readable too: every line is a JSON event.
    for (const line of destroy.stderr.trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();

    const after = await cli("status");
    expect(after.stdout).toContain("has no state yet");
    // The next step names the same config, so copying it reaches this cluster.
    expect(after.stdout).toContain(`run \`k3sinfra up --config ${config}\` to create it`);
  });

  it("asks on a terminal and only 'yes' proceeds", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const declined = await runCli(["--config", config, "up"], { tty: true, stdin: "no\n" });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain("Only 'yes' will be accepted");
    expect(declined.stderr).toContain("Up cancelled; nothing was changed.");
    expect(await readFile(join(dir, "cloud.json"), "utf8").catch(() => "[]")).not.toContain("node");

    const accepted = await runCli(["--config", config, "up", "--no-color"], { tty: true, stdin: "yes\n" });
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain("Up complete");
    expect(accepted.stdout).not.toContain("\x1b[3"); // --no-color
    expect(await cloudObjects(dir)).toHaveLength(6);
  });
});

describe("colours", () => {
  it("stay on the terminal: a redirected stdout gets plain text while stderr keeps them", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const toFile = await runCli(["--config", config, "plan"], { tty: true, stdoutTty: false });
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).toContain("Plan: 8 to create");
    expect(toFile.stdout).not.toContain("\x1b[");
    const onTerminal = await runCli(["--config", config, "plan"], { tty: true, stdoutTty: true });
    expect(onTerminal.stdout).toContain("\x1b[");
  });
});

describe("warnings", () => {
  it("are shown once: with the plan, not again when up repeats them", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir, "zones: [memory-1a]\n");
    const run = await runCli(["--config", config, "up", "--yes"]);
    expect(run.code).toBe(0);
    const all = run.stdout + run.stderr;
    expect(all.match(/Only one zone is configured/g)).toHaveLength(1);
    expect(run.stdout).toContain("Warning: Only one zone is configured");
  });
});

describe("errors", () => {
  it("an invalid config exits 2 and names each path", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir, "loadBalancer:\n  mode: l4\n  certificate: arn:aws:acm:x\n");
    const run = await runCli(["--config", config, "plan"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("✗ loadBalancer.certificate:");

    await writeFile(config, "name: Bad_Name\nprovider: memory\n");
    const many = await runCli(["--config", config, "plan", "--json"]);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain("✗ name:");
    expect(many.stderr).toContain("✗ region:");
    const json = JSON.parse(many.stdout) as { error: { code: string; issues: { path: string }[] } };
    expect(json.error.code).toBe("InvalidConfig");
    expect(json.error.issues.map((i) => i.path)).toContain("rancher");
  });

  it("a missing config exits 2 and says how to create one", async () => {
    const run = await runCli(["plan"], { cwd: await tempDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("k3sinfra init");
  });

  it("a held lock exits 3 with the holder and the force-unlock hint; force-unlock releases it", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const store = new FileStateStore({ path: join(dir, ".k3sinfra", "memtest.state.json") });
    const lock = await store.lock("up");
    try {
      const run = await runCli(["--config", config, "up", "--yes"]);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(lock.info.id);
      expect(run.stderr).toContain(`k3sinfra force-unlock ${lock.info.id} --config ${config}`);

      const refused = await runCli(["--config", config, "force-unlock", lock.info.id]);
      expect(refused.code).toBe(2);

      const unlocked = await runCli(["--config", config, "force-unlock", lock.info.id, "--yes"]);
      expect(unlocked.code).toBe(0);
      expect(unlocked.stdout).toContain(`Lock ${lock.info.id} released.`);
      expect(await store.lockInfo()).toBeUndefined();

      const up = await runCli(["--config", config, "up", "--yes"]);
      expect(up.code).toBe(0);
    } finally {
      await lock.release().catch(() => undefined);
    }
  });

  it("a plan that would change the Rancher hostname is refused with exit 5", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    expect((await runCli(["--config", config, "up", "--yes"])).code).toBe(0);
    const text = await readFile(config, "utf8");
    await writeFile(config, text.replace("hostname: rancher.example.com", "hostname: rancher2.example.com"));
    for (const command of ["plan", "up"]) {
      const run = await runCli(["--config", config, command, "--yes"]);
      expect(run.code).toBe(5);
      expect(run.stderr).toContain("Error [PlanRefused]:");
      expect(run.stderr).toContain("rancher.example.com");
    }
  });

  it("an interrupted up exits 130", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const controller = new AbortController();
    controller.abort(new Error("SIGINT"));
    const run = await runCli(["--config", config, "up", "--yes"], { signal: controller.signal });
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("Interrupted.");
  });
});

describe("graph and schema", () => {
  it("graph prints Mermaid by default and Graphviz dot on request", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const mermaid = await runCli(["--config", config, "graph"]);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toMatch(/^graph LR\n/);
    expect(mermaid.stdout).toContain("network --> node_0");
    const dot = await runCli(["--config", config, "graph", "--format", "dot"]);
    expect(dot.stdout).toMatch(/^digraph k3sinfra \{/);
    expect(dot.stdout).toContain("network -> node_0;");
    const bad = await runCli(["--config", config, "graph", "--format", "png"]);
    expect(bad.code).toBe(2);
  });

  it("schema prints a JSON Schema with rancher.hostname", async () => {
    const run = await runCli(["schema"]);
    expect(run.code).toBe(0);
    const schema = JSON.parse(run.stdout) as {
      $schema: string;
      type: string;
      properties: { rancher: { properties: Record<string, unknown>; required: string[] } };
    };
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.type).toBe("object");
    expect(schema.properties.rancher.properties.hostname).toBeDefined();
    expect(schema.properties.rancher.required).toContain("hostname");
  });
});
