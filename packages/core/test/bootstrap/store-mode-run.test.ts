import { afterAll, describe, expect, it } from "vitest";
import { prepareSql } from "../../src/bootstrap/datastore-prep.js";
import {
  DATASTORE_PREP_PATHS,
  K3S_CONFIG_PATH,
  renderCloudInit,
  renderK3sConfig,
  tlsSans,
} from "../../src/bootstrap/index.js";
import { Secret } from "../../src/secret.js";
import { ADMIN, ADMIN_PASSWORD, DB_PASSWORD, L7, TOKEN } from "./fixtures.js";
import { type FakeDatastore, removeSandboxes, runBootstrap, type SandboxResult } from "./sandbox.js";
import { FAKE_KUBECONFIG, FAKE_READER_PATH, NAMES, STORE_VALUES, storeInput } from "./store-fixtures.js";

afterAll(removeSandboxes);

const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfakeRdsRegionalBundle\n-----END CERTIFICATE-----\n";
const HOST = { "datastore-host": "db.internal.example" };
const PREP_FILES = Object.values(DATASTORE_PREP_PATHS);
const K3S_LOGIN = "-- as k3s\nSELECT 1\n";
const KUBECONFIG_KEY = "RmFrZUNsaWVudEtleVNlY3JldA==";
const fresh = (over: Partial<FakeDatastore> = {}): FakeDatastore => ({ admin: ADMIN, ...over });
const prepared = (): FakeDatastore =>
  fresh({ users: { k3s: DB_PASSWORD }, databases: ["k3s"], grants: { k3s: ["k3s"] } });

/** What the config must be, byte for byte: the function that renders it for outputs and the inline mode. */
const expectedConfig = (tls: boolean, tlsSan = tlsSans(storeInput(0, 2))) =>
  renderK3sConfig({
    token: new Secret(TOKEN),
    datastore: {
      user: "k3s",
      password: new Secret(DB_PASSWORD),
      host: "db.internal.example",
      port: 3306,
      database: "k3s",
    },
    datastoreTls: tls,
    tlsSan,
    nodeIp: "10.0.1.23",
  });

function expectNoSecrets(run: SandboxResult): void {
  for (const line of [...run.log, ...run.tools, ...run.env, ...run.stderr.split("\n")])
    for (const secret of [TOKEN, DB_PASSWORD, ADMIN_PASSWORD, KUBECONFIG_KEY])
      expect(line).not.toContain(secret);
}
const storeCalls = (run: SandboxResult, verb: "get" | "put") =>
  run.log.filter((l) => l.startsWith(`secret-store.sh ${verb} `)).map((l) => l.split(" ")[2]);
const k3sStarts = (run: SandboxResult) => run.log.filter((l) => /^systemctl (re)?start .*k3s$/.test(l));

describe("store mode, server 0 (sandbox: secrets from a fake store through the provider's reader)", () => {
  const run = runBootstrap(renderCloudInit(storeInput(0, 2)), {
    metadata: HOST,
    caPem: CA_PEM,
    datastore: fresh(),
    secretStore: { values: STORE_VALUES, getFailures: 3, putFailures: 1 },
  });

  it("retries the store while the node identity does not work, then reads the token and the password", () => {
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`stage=secrets waiting: secret ${NAMES.k3sToken} is not readable yet`);
    expect(run.stderr).toContain("AccessDeniedException");
    expect(storeCalls(run, "get")).toEqual([
      ...Array(4).fill(NAMES.k3sToken),
      NAMES.datastorePassword,
      NAMES.datastoreAdminPassword,
    ]);
    expect(run.mode(FAKE_READER_PATH)).toBe(0o700);
  });

  it("writes the 0600 config byte-identical to renderK3sConfig", () => {
    expect(run.mode(K3S_CONFIG_PATH)).toBe(0o600);
    expect(run.read(K3S_CONFIG_PATH)).toBe(expectedConfig(true));
    expect(run.exists(`${K3S_CONFIG_PATH}.fill`)).toBe(false);
  });

  it("prepares the datastore from 0600 files it writes, with the SQL of prepareSql, then removes them", () => {
    // K3s login denied (logged before any SQL), the SQL as the admin, the K3s login again.
    expect(run.sql).toBe(`-- as ${ADMIN.user}\n${prepareSql("k3s", DB_PASSWORD, "k3s")}${K3S_LOGIN}`);
    expect(run.datastore()).toEqual({
      users: { k3s: DB_PASSWORD },
      databases: ["k3s"],
      grants: { k3s: ["k3s"] },
    });
    expect(run.optionFiles).toHaveLength(3);
    for (const entry of run.optionFiles) expect(entry).toMatch(/^600 \S+\/datastore-(k3s|admin)\.cnf$/);
    for (const path of PREP_FILES) expect(run.exists(path)).toBe(false);
    const lastClient = run.log.findLastIndex((l) => l.startsWith("mysql "));
    expect(run.log.findIndex((l) => l.startsWith("installer "))).toBeGreaterThan(lastClient);
  });

  it("starts K3s once, then stores the kubeconfig through stdin once the API answers, retrying", () => {
    expect(k3sStarts(run)).toEqual(["systemctl restart --no-block k3s"]);
    expect(storeCalls(run, "put")).toEqual([NAMES.kubeconfig, NAMES.kubeconfig]);
    expect(run.stored(NAMES.kubeconfig)).toBe(FAKE_KUBECONFIG);
    const ready = run.log.indexOf("k3s kubectl get --raw /readyz");
    expect(ready).toBeGreaterThan(run.log.indexOf(k3sStarts(run)[0]!));
    expect(run.log.findIndex((l) => l.startsWith("secret-store.sh put"))).toBeGreaterThan(ready);
    expect(run.stderr).toContain(`stage=kubeconfig ok: stored as secret ${NAMES.kubeconfig}`);
  });

  it("never puts a secret or the kubeconfig in an argv, an environment or a message", () => {
    expect(run.tools.length).toBeGreaterThan(10);
    expectNoSecrets(run);
  });
});

describe("store mode: other servers, later boots and failures", () => {
  it("server 1 reads its secrets, waits for server 0, writes the same config; no preparation, no kubeconfig", () => {
    const node = storeInput(1, 3, { loadBalancer: L7 });
    const run = runBootstrap(renderCloudInit(node), {
      metadata: { ...HOST, "first-server-ip": "10.0.1.10" },
      firstServerUpAfterSleeps: 2,
      caPem: CA_PEM,
      client: "mysql",
      datastore: prepared(),
      secretStore: { values: STORE_VALUES, getFailures: 1 },
    });
    expect(run.status).toBe(0);
    expect(run.read(K3S_CONFIG_PATH)).toBe(expectedConfig(true, tlsSans(node)));
    expect(storeCalls(run, "get")).toEqual([NAMES.k3sToken, NAMES.k3sToken, NAMES.datastorePassword]);
    expect(storeCalls(run, "put")).toEqual([]);
    expect(run.log.some((l) => l.startsWith("mysql"))).toBe(false);
    expect(k3sStarts(run)).toHaveLength(1);
    expectNoSecrets(run);
  });

  it("server 0 once the K3s user exists never reads the admin password (it may be retired)", () => {
    const { [NAMES.datastoreAdminPassword]: _retired, ...values } = STORE_VALUES;
    const run = runBootstrap(renderCloudInit(storeInput(0, 2)), {
      metadata: HOST,
      caPem: CA_PEM,
      client: "mysql",
      datastore: prepared(),
      secretStore: { values },
    });
    expect(run.status).toBe(0);
    expect(storeCalls(run, "get")).toEqual([NAMES.k3sToken, NAMES.datastorePassword]);
    expect(run.sql).toBe(K3S_LOGIN);
    for (const path of PREP_FILES) expect(run.exists(path)).toBe(false);
  });

  it("gives up after secretSeconds when the admin password is needed but missing, removing the files", () => {
    const { [NAMES.datastoreAdminPassword]: _missing, ...values } = STORE_VALUES;
    const run = runBootstrap(renderCloudInit(storeInput(0, 2, { waits: { secretSeconds: 10 } })), {
      metadata: HOST,
      caPem: CA_PEM,
      client: "mysql",
      datastore: fresh(),
      secretStore: { values },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`could not read secret ${NAMES.datastoreAdminPassword} within 10 s`);
    expect(run.stderr).toContain("ParameterNotFound");
    expect(run.log.some((l) => l.startsWith("installer"))).toBe(false);
    for (const path of PREP_FILES) expect(run.exists(path)).toBe(false);
    expectNoSecrets(run);
  });

  it("gives up after secretSeconds when the store never answers; nothing is written or started", () => {
    const run = runBootstrap(renderCloudInit(storeInput(1, 2, { waits: { secretSeconds: 20 } })), {
      metadata: { ...HOST, "first-server-ip": "10.0.1.10" },
      caPem: CA_PEM,
      secretStore: { values: STORE_VALUES, getFailures: 1000 },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`could not read secret ${NAMES.k3sToken} within 20 s`);
    expect(run.read(K3S_CONFIG_PATH)).toBeUndefined();
    expect(k3sStarts(run)).toEqual([]);
  });

  it.each([
    ["a quote in the token", { [NAMES.k3sToken]: `${TOKEN}"x` }, NAMES.k3sToken],
    [
      "a newline in the password",
      { [NAMES.datastorePassword]: `${DB_PASSWORD}\nx: y` },
      NAMES.datastorePassword,
    ],
    [
      "a colon in the password (DSN)",
      { [NAMES.datastorePassword]: `${DB_PASSWORD}:x` },
      NAMES.datastorePassword,
    ],
    ["a short token", { [NAMES.k3sToken]: "Short0123" }, NAMES.k3sToken],
  ])("refuses %s without echoing it", (_what, bad, name) => {
    const run = runBootstrap(renderCloudInit(storeInput(1, 2)), {
      metadata: { ...HOST, "first-server-ip": "10.0.1.10" },
      firstServerUpAfterSleeps: 0,
      caPem: CA_PEM,
      secretStore: { values: { ...STORE_VALUES, ...bad } },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`secret ${name}`);
    expect(run.read(K3S_CONFIG_PATH)).toBeUndefined();
    expect(k3sStarts(run)).toEqual([]);
    expectNoSecrets(run);
  });

  it("a kubeconfig that cannot be stored fails the run (systemd runs it again), after K3s started", () => {
    const run = runBootstrap(renderCloudInit(storeInput(0, 2, { waits: { secretSeconds: 10 } })), {
      metadata: HOST,
      caPem: CA_PEM,
      client: "mysql",
      datastore: prepared(),
      secretStore: { values: STORE_VALUES, putFailures: 1000 },
    });
    expect(run.status).not.toBe(0);
    expect(k3sStarts(run)).toHaveLength(1);
    expect(storeCalls(run, "put").length).toBeGreaterThan(1);
    expect(run.stderr).toContain(
      `stage=kubeconfig failed: could not store the kubeconfig as secret ${NAMES.kubeconfig} within 10 s`,
    );
    expect(run.stored(NAMES.kubeconfig)).toBeUndefined();
  });

  it("without a kubeconfig name server 0 stores nothing", () => {
    const { kubeconfig: _none, ...names } = NAMES;
    const run = runBootstrap(renderCloudInit(storeInput(0, 2, { secretNames: names })), {
      metadata: HOST,
      caPem: CA_PEM,
      client: "mysql",
      datastore: prepared(),
      secretStore: { values: STORE_VALUES },
    });
    expect(run.status).toBe(0);
    expect(storeCalls(run, "put")).toEqual([]);
    expect(run.log).not.toContain("k3s kubectl get --raw /readyz");
  });
});
