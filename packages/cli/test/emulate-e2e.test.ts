import { copyFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "@k3sinfra/emulator";
import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers.js";

const mysqlOptions = (url: string) => {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
};

/** An SSM call as the account's administrator (the emulator's static key is never checked). */
const ssmCall = async (
  endpoint: string,
  operation: string,
  input: object,
): Promise<Record<string, unknown>> => {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `AmazonSSM.${operation}` },
    body: JSON.stringify(input),
  });
  return (await res.json()) as Record<string, unknown>;
};

/** Parameters of the emulated SSM kept in `persistPath`, decrypted (undefined: not there). */
const emulatedParameters = async (persistPath: string, names: string[]): Promise<(string | undefined)[]> => {
  const emulator = await startEmulator({ persistPath, timeScale: 0.005, log: () => undefined });
  try {
    return await Promise.all(
      names.map(async (Name) => {
        const out = await ssmCall(emulator.endpoints.aws!, "GetParameter", { Name, WithDecryption: true });
        return (out.Parameter as { Value?: string } | undefined)?.Value;
      }),
    );
  } finally {
    await emulator.stop();
  }
};

/**
 * The emulated cloud's directory: 0700, every file in it 0600, and no secret in clear in any of them (the
 * emulator's state, the CLI's state beside it, anything else written there).
 */
const expectEmulatorFilesSealed = async (dir: string, secrets: readonly string[]): Promise<number> => {
  const root = join(dir, ".k3sinfra", "emulator");
  expect((await stat(root)).mode & 0o777).toBe(0o700);
  const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  for (const f of files) {
    const path = join(f.parentPath, f.name);
    expect((await stat(path)).mode & 0o777, path).toBe(0o600);
    const text = await readFile(path, "latin1");
    for (const v of secrets) expect(text.includes(v), `a secret in clear in ${path}`).toBe(false);
  }
  return files.length;
};

type StatusReport = { exists: boolean; resources: { resource: string; status: string; detail?: string }[] };

/**
 * Waits until the emulator's stand-in for server 0 is due to store its kubeconfig (`simulateBoot`: 90 s after
 * `running`, both × the time scale) — a computed instant, from the instances' launch times in the persisted
 * cloud — so that the next SSM call certainly plays the write.
 */
const untilServer0Booted = async (persistPath: string, timeScale: number): Promise<void> => {
  const cloud = JSON.parse(await readFile(persistPath, "utf8")) as {
    clouds: { aws: { ec2: Record<string, { instances: Record<string, { launchedAt: number }> }> } };
  };
  const launches = Object.values(cloud.clouds.aws.ec2).flatMap((r) =>
    Object.values(r.instances).map((i) => i.launchedAt),
  );
  const due = Math.max(...launches) + (30_000 + 90_000) * timeScale;
  await new Promise((ok) => setTimeout(ok, Math.max(0, due - Date.now() + 20)));
};

/**
 * `status` once server 0 stored its kubeconfig (played by the emulator, said in the CLI's emulator notes):
 * nothing but the secrets resource may differ from the record (the new kubeconfig parameter, which the next
 * `up` acts on by retiring the datastore admin password; whether status calls that drift is core's to say).
 */
const expectServer0Stored = (status: { code: number; stdout: string; stderr: string }): void => {
  expect(status.code, status.stderr).toBe(0);
  expect(status.stderr).toMatch(
    /\[emulator\] boot simulation: i-\w+ \(server 0\) stored its kubeconfig as \S+\/kubeconfig/,
  );
  const report = JSON.parse(status.stdout) as StatusReport;
  expect(report.exists).toBe(true);
  expect(report.resources.filter((r) => r.status !== "ok" && r.resource !== "secrets")).toEqual([]);
};

/** `status` reports every resource ok. */
const expectAllOk = (status: { code: number; stdout: string; stderr: string }): void => {
  expect(status.code, status.stderr).toBe(0);
  expect((JSON.parse(status.stdout) as StatusReport).resources.filter((r) => r.status !== "ok")).toEqual([]);
};

const example = resolve(fileURLToPath(import.meta.url), "../../../../examples/aws.yaml");

/** Copies examples/aws.yaml into `dir`, so the emulated cloud and state land there. */
const writeAwsConfig = async (dir: string): Promise<string> => {
  const path = join(dir, "k3sinfra.yaml");
  await copyFile(example, path);
  return path;
};

describe("--emulate end to end", () => {
  it("up → status → outputs → destroy against the emulated AWS leaves its inventory empty", async () => {
    const dir = await tempDir();
    const config = await writeAwsConfig(dir);
    // Real credentials in the environment must not reach the emulated run.
    const env = { AWS_PROFILE: "real-account-profile", AWS_SESSION_TOKEN: "real" };
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args], { env });

    const up = await cli("up", "--yes");
    expect(up.stderr).toContain("EMULATED CLOUD (aws");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain("Up complete");
    // up ends with what a user pastes: each server's K3s config and how to watch the cluster install Rancher.
    expect(up.stdout).toMatch(/Rancher URL\s+https:\/\/\S+/);
    expect(up.stdout).toContain("/etc/rancher/k3s/config.yaml on node-0");
    expect(up.stdout).toContain("/etc/rancher/k3s/config.yaml on node-1");
    expect(up.stdout).toMatch(/server 0 hands cert-manager \S+ and Rancher \S+ to K3s's Helm controller/);
    expect(up.stdout).toContain("kubectl -n cattle-system rollout status deploy/rancher");

    const name = await clusterName(config);
    const persisted = join(dir, ".k3sinfra", "emulator", `${name}.json`);
    await untilServer0Booted(persisted, 0.005);
    const status = await cli("status", "--json");
    expectServer0Stored(status);

    const outputs = await cli("outputs");
    expect(outputs.code, outputs.stderr).toBe(0);
    expect(outputs.stdout).toMatch(/hostname\s+\S+\.elb\.us-east-1\.amazonaws\.com/);
    expect(outputs.stdout).toMatch(/node-0\s+\S+\s+us-east-1[a-f]\s+\d+\.\d+\.\d+\.\d+/);
    expect(outputs.stdout).toMatch(/datastore-endpoint\s+mysql:\/\/\w+:\*{8}@tcp\(/);

    // No secret reaches anything printed without --show-secrets, nor the state file in clear.
    const shown = JSON.parse((await cli("outputs", "--show-secrets", "--json")).stdout) as {
      k3s: { token: string; datastoreEndpoint: string };
      rancher: { bootstrapPassword: string };
    };
    const k3sPassword = /:(\w+)@tcp/.exec(shown.k3s.datastoreEndpoint)?.[1] ?? "";
    const secrets = [shown.k3s.token, shown.rancher.bootstrapPassword, k3sPassword];
    expect(secrets.every((v) => /^[A-Za-z0-9]{16,}$/.test(v))).toBe(true);
    const stateFile = await readFile(
      join(dir, ".k3sinfra", "emulator", `${await clusterName(config)}.state.json`),
      "utf8",
    );
    for (const printed of [up.stdout, up.stderr, status.stdout, outputs.stdout, outputs.stderr, stateFile]) {
      for (const v of secrets) expect(printed).not.toContain(v);
    }
    // The emulated cloud's own files hold none either: SSM SecureStrings are sealed, user data names them only.
    // The emulator stood in for server 0 (simulateBoot): the kubeconfig it stored is sealed too.
    const [adminPassword, kubeconfig] = await emulatedParameters(persisted, [
      `/k3sinfra/${name}/datastore-admin-password`,
      `/k3sinfra/${name}/kubeconfig`,
    ]);
    expect(adminPassword).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(kubeconfig).toMatch(/^apiVersion: v1\n[\s\S]*server: https:\/\/127\.0\.0\.1:6443\n/);
    const clientKey = /client-key-data: (\S+)/.exec(kubeconfig ?? "")?.[1] ?? "";
    expect(clientKey.length).toBeGreaterThan(100);
    expect(
      await expectEmulatorFilesSealed(dir, [...secrets, adminPassword!, clientKey]),
    ).toBeGreaterThanOrEqual(2);

    // The next up retires the admin password now that server 0 prepared the datastore; then all is ok.
    const again = await cli("up", "--yes");
    expect(again.code, again.stderr).toBe(0);
    expect(await emulatedParameters(persisted, [`/k3sinfra/${name}/datastore-admin-password`])).toEqual([
      undefined,
    ]);
    expectAllOk(await cli("status", "--json"));

    // The example turns deletion protection off, so a plain destroy removes everything.
    const destroy = await cli("destroy", "--yes");
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(destroy.stdout).toContain("Destroy complete");

    // The emulated cloud persisted between commands: reopen it (at the same time scale, which its clocks use)
    // and look. The network's delete succeeded, so the instances holding its security groups are terminated.
    const persistPath = join(dir, ".k3sinfra", "emulator", `${await clusterName(config)}.json`);
    const emulator = await startEmulator({ persistPath, timeScale: 0.005, log: () => undefined });
    try {
      const left = emulator.inventory().filter((i) => !/^(deleted|terminated)$/.test(i.state));
      expect(left).toEqual([]);
    } finally {
      await emulator.stop();
    }
  }, 120_000);

  it("with a real MariaDB behind emulated RDS, up creates the K3s database and a least-privilege user K3s can use", async () => {
    const url = process.env.K3SINFRA_TEST_MYSQL_URL;
    if (!url) {
      // CI starts MariaDB (.ci/mariadb.sh); only a developer machine without it may skip.
      if (process.env.CI)
        throw new Error('K3SINFRA_TEST_MYSQL_URL is not set: run `eval "$(sh .ci/mariadb.sh)"` first');
      return;
    }
    const dir = await tempDir();
    const config = await writeAwsConfig(dir);
    const env = { K3SINFRA_EMULATE_MYSQL_URL: url };
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args], { env });

    const up = await cli("up", "--yes");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/datastore ready: mariadb \S+/i);
    expect(up.stderr).not.toContain("Datastore check skipped");

    // Log in exactly as K3s would, with the endpoint and password from the outputs.
    const shown = await cli("outputs", "--show-secrets", "--json");
    expect(shown.code, shown.stderr).toBe(0);
    const out = JSON.parse(shown.stdout) as { k3s: { datastoreEndpoint: string } };
    const m = /^mysql:\/\/(\w+):(\w+)@tcp\(([^:]+):(\d+)\)\/(\w+)$/.exec(out.k3s.datastoreEndpoint);
    expect(m, out.k3s.datastoreEndpoint).not.toBeNull();
    const [, user, password, , port, database] = m as RegExpExecArray;
    expect(user).toBe("k3s");
    // Emulated RDS kept the master password for MariaDB: never in clear in the emulator's files.
    const secrets = JSON.parse(shown.stdout) as {
      k3s: { token: string };
      rancher: { bootstrapPassword: string };
    };
    const [adminPassword] = await emulatedParameters(join(dir, ".k3sinfra", "emulator", "rancher-aws.json"), [
      "/k3sinfra/rancher-aws/datastore-admin-password",
    ]);
    expect(adminPassword).toMatch(/^[A-Za-z0-9]{16,}$/);
    await expectEmulatorFilesSealed(dir, [
      secrets.k3s.token,
      secrets.rancher.bootstrapPassword,
      password!,
      adminPassword!,
    ]);
    const { createConnection } = await import("mysql2/promise");
    // The emulated RDS host name does not resolve; its endpoint port is the emulator's proxy to MariaDB.
    const emulator = await startEmulator({
      persistPath: join(dir, ".k3sinfra", "emulator", "rancher-aws.json"),
      timeScale: 0.005,
      mysql: mysqlOptions(url),
      log: () => undefined,
    });
    try {
      const conn = await createConnection({
        host: "127.0.0.1",
        port: Number(port),
        user,
        password,
        database,
      });
      try {
        const [grants] = await conn.query("SHOW GRANTS");
        const text = JSON.stringify(grants);
        expect(text).toContain(`ON \`${database}\`.*`);
        expect(text).not.toMatch(/ALL PRIVILEGES ON \*\.\*/);
      } finally {
        await conn.end();
      }
    } finally {
      await emulator.stop();
    }
    const destroy = await cli("destroy", "--yes");
    expect(destroy.code, destroy.stderr).toBe(0);
  }, 120_000);

  it.each([
    ["L7 (ALB, tls=external)", "aws-l7.yaml", {}],
    ["L4 with 10% of calls throttled", "aws.yaml", { K3SINFRA_EMULATE_THROTTLE: "0.1" }],
  ])(
    "%s: up → status → outputs → destroy converges and leaves the inventory empty",
    async (_title, file, env) => {
      const dir = await tempDir();
      const config = join(dir, "k3sinfra.yaml");
      await copyFile(resolve(example, "..", file), config);
      const cli = (...args: string[]) =>
        runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args], { env });
      const up = await cli("up", "--yes");
      expect(up.code, up.stderr).toBe(0);
      // L7: no cert-manager (TLS ends at the ALB); Rancher's tls: external is in server 0's manifest.
      if (file === "aws-l7.yaml")
        expect(up.stdout).toMatch(/server 0 hands Rancher \S+ to K3s's Helm controller/);
      // The throttled run really was throttled, and retried.
      if ("K3SINFRA_EMULATE_THROTTLE" in env)
        expect(up.stderr).toMatch(/(RequestLimitExceeded|Throttling), retry/);
      const persisted = join(dir, ".k3sinfra", "emulator", `${await clusterName(config)}.json`);
      await untilServer0Booted(persisted, 0.005);
      expectServer0Stored(await cli("status", "--json"));
      expect((await cli("up", "--yes")).code).toBe(0);
      expectAllOk(await cli("status", "--json"));
      expect((await cli("outputs")).code).toBe(0);
      const destroy = await cli("destroy", "--yes");
      expect(destroy.code, destroy.stderr).toBe(0);
      const emulator = await startEmulator({
        persistPath: join(dir, ".k3sinfra", "emulator", `${await clusterName(config)}.json`),
        timeScale: 0.005,
        log: () => undefined,
      });
      try {
        expect(emulator.inventory().filter((i) => !/^(deleted|terminated)$/.test(i.state))).toEqual([]);
      } finally {
        await emulator.stop();
      }
    },
    180_000,
  );

  it("reports config errors with their paths before starting the emulator", async () => {
    const dir = await tempDir();
    const config = join(dir, "k3sinfra.yaml");
    await writeFile(config, "name: emu\nprovider: aws\nrancher: { hostname: rancher.example.com }\n");
    const run = await runCli(["--config", config, "--emulate", "plan"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("✗ region:");
    expect(run.stderr).toContain("✗ dns:");
    expect(run.stderr).not.toContain("EMULATED CLOUD");
  });

  it("emulates Cloudflare DNS beside AWS, ignoring options that name the real account", async () => {
    const dir = await tempDir();
    const config = join(dir, "k3sinfra.yaml");
    await writeFile(
      config,
      `name: cfemu
provider: aws
region: us-east-1
dns: { provider: cloudflare, zone: example.org }
rancher: { hostname: rancher.example.org }
datastore: { deletionProtection: false }
options: { cloudflare: { apiToken: a-real-token } }
`,
    );
    const cli = (...args: string[]) =>
      runCli(["--config", config, "--emulate", "--time-scale", "0.005", ...args]);

    const up = await cli("up", "--yes");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toContain("EMULATED CLOUD (aws + cloudflare");
    expect(up.stderr).toContain("options.cloudflare.apiToken");
    expect(up.stderr).not.toContain("a-real-token");
    expect(up.stdout).toMatch(/Rancher URL\s+https:\/\/rancher.example.org/);

    const persistPath = join(dir, ".k3sinfra", "emulator", "cfemu.json");
    const inventory = async () => {
      const emulator = await startEmulator({
        clouds: ["aws", "cloudflare"],
        persistPath,
        timeScale: 0.005,
        log: () => undefined,
      });
      try {
        return emulator
          .inventory({ cloud: "cloudflare" })
          .filter((i) => !/^(deleted|terminated)$/.test(i.state));
      } finally {
        await emulator.stop();
      }
    };
    expect((await inventory()).map((i) => i.name)).toContain("rancher.example.org");

    const destroy = await cli("destroy", "--yes");
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(await inventory()).toEqual([]);
  }, 120_000);
});

const clusterName = async (config: string): Promise<string> => {
  const { readConfig } = await import("@k3sinfra/core");
  return ((await readConfig(config)).raw as { name: string }).name;
};
