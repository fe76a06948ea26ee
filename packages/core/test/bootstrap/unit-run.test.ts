import { afterAll, describe, expect, it } from "vitest";
import { prepareSql } from "../../src/bootstrap/datastore-prep.js";
import {
  BOOT_STAGES,
  BOOTSTRAP_UNIT_PATH,
  type BootStageLine,
  K3S_CONFIG_PATH,
  parseBootStages,
  RANCHER_MANIFEST_PATH,
  renderCloudInit,
} from "../../src/bootstrap/index.js";
import { Secret } from "../../src/secret.js";
import {
  ADMIN,
  ADMIN_PASSWORD,
  DB_PASSWORD,
  fileAt,
  parseCloudConfig,
  TOKEN,
  withAdmin,
} from "./fixtures.js";
import { removeSandboxes, runBootstrapUnit, type UnitRunResult } from "./sandbox.js";
import { FAKE_KUBECONFIG, NAMES, RANCHER_PASSWORD, STORE_VALUES, storeInput } from "./store-fixtures.js";

afterAll(removeSandboxes);

const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfakeRdsRegionalBundle\n-----END CERTIFICATE-----\n";
const HOST = { "datastore-host": "db.internal.example" };
const RANCHER = { version: "2.12.3", replicas: 3, certManagerVersion: "v1.18.2" } as const;
const KUBECONFIG_KEY = "RmFrZUNsaWVudEtleVNlY3JldA==";
const SECRETS = [TOKEN, DB_PASSWORD, ADMIN_PASSWORD, RANCHER_PASSWORD, KUBECONFIG_KEY];

/** Server 0 of 2 in store mode, installing Rancher, with short per-run waits (systemd runs it again). */
const server0 = () =>
  renderCloudInit(
    storeInput(0, 2, { rancher: RANCHER, waits: { metadataSeconds: 10, datastoreSeconds: 10 } }),
  );

/** The starts the fake systemd performed (a call killed before it acted is in the argv log, not here). */
const k3sStarts = (run: UnitRunResult) => (run.read("k3s-started") ?? "").split("\n").filter(Boolean);
const installs = (run: UnitRunResult) => run.log.filter((l) => l.startsWith("installer "));
/** Every move of the manifest into K3s's manifests directory (the one write that hands it over). */
const manifestWrites = (run: UnitRunResult) =>
  run.tools.filter((l) => l.startsWith("mv ") && l.endsWith(RANCHER_MANIFEST_PATH));
const oks = (lines: BootStageLine[]) => lines.filter((l) => l.event === "ok").map((l) => l.stage);

function expectNoSecrets(run: UnitRunResult): void {
  for (const line of [...run.log, ...run.tools, ...run.env, ...run.stderr.split("\n"), run.console])
    for (const secret of SECRETS) expect(line).not.toContain(secret);
}

/** Server 0 ends installed: config, datastore, K3s started once, manifest handed over once, kubeconfig stored. */
function expectConverged(run: UnitRunResult): void {
  expect(run.status).toBe(0);
  expect(k3sStarts(run)).toEqual(["restart --no-block k3s"]);
  expect(installs(run)).toHaveLength(1);
  expect(manifestWrites(run)).toHaveLength(1);
  expect(run.mode(RANCHER_MANIFEST_PATH)).toBe(0o600);
  expect(run.read(RANCHER_MANIFEST_PATH)).toContain(`bootstrapPassword: "${RANCHER_PASSWORD}"`);
  expect(run.exists(`${RANCHER_MANIFEST_PATH}.tmp`)).toBe(false);
  expect(run.mode(K3S_CONFIG_PATH)).toBe(0o600);
  expect(run.stored(NAMES.kubeconfig)).toBe(FAKE_KUBECONFIG);
  expect(run.datastore().users).toEqual({ k3s: DB_PASSWORD });
  const last = parseBootStages(run.console).at(-1);
  expect(last).toEqual({ stage: "done", event: "ok", detail: "K3s server 1 is up" });
  expectNoSecrets(run);
}

describe("the systemd unit", () => {
  it("runs the boot script until it succeeds, also after a reboot", () => {
    const unit = fileAt(parseCloudConfig(server0()), BOOTSTRAP_UNIT_PATH)!;
    expect(unit.permissions).toBe("0644");
    for (const line of [
      "Type=oneshot",
      "RemainAfterExit=yes",
      "ExecStart=/usr/local/sbin/k3sinfra-bootstrap",
      "Restart=on-failure",
      "StartLimitIntervalSec=0",
      "TimeoutStartSec=infinity",
      "WantedBy=multi-user.target",
    ])
      expect(unit.content.split("\n")).toContain(line);
    // Not after cloud-final.service, which is ordered after multi-user.target: that would be a cycle.
    expect(unit.content).not.toContain("cloud-final");
  });
});

describe("the unit's script, run as systemd does (Restart=on-failure, sandbox)", () => {
  it("goes through a datastore that appears only after its first runs: K3s started once, the manifest once", () => {
    const run = runBootstrapUnit(server0(), {
      // The datastore's host is published during the second run, and it accepts connections in the third.
      lateMetadata: { afterSleeps: 5, values: HOST },
      datastore: { admin: ADMIN, refuseFirst: 6 },
      client: "mysql",
      caPem: CA_PEM,
      secretStore: { values: STORE_VALUES },
    });
    expect(run.runs).toEqual([1, 1, 0]);
    const lines = parseBootStages(run.console);
    expect(lines.filter((l) => l.event === "failed")).toEqual([
      {
        stage: "metadata",
        event: "failed",
        detail: "metadata key datastore-host was not published within 10 s",
      },
      {
        stage: "datastore",
        event: "failed",
        detail: "the datastore at db.internal.example:3306 did not accept connections within 10 s",
      },
    ]);
    expect(lines).toContainEqual({
      stage: "datastore",
      event: "waiting",
      detail: expect.stringContaining("datastore not ready: ERROR 2003"),
    });
    // The last run reports every stage, in order (the first ones as already done).
    const lastRun = lines.slice(lines.findLastIndex((l) => l.stage === "secrets" && l.event === "start"));
    expect(oks(lastRun)).toEqual([...BOOT_STAGES]);
    expect(run.sql).toContain(prepareSql("k3s", DB_PASSWORD, "k3s"));
    expectConverged(run);
  });

  it.each([
    ["before K3s restarts with its new config", "systemctl restart*"],
    ["while it waits for K3s to answer", "curl *https://127.0.0.1:6443/ping"],
    ["while it reads Rancher's password", `secret-store.sh get ${NAMES.rancherBootstrapPassword}`],
    ["while it stores the kubeconfig", "secret-store.sh put *"],
  ])(
    "killed %s, run again: resumes where it stopped, K3s started once, the manifest written once",
    (_when, killOn) => {
      const run = runBootstrapUnit(
        server0(),
        {
          metadata: HOST,
          datastore: { admin: ADMIN },
          client: "mysql",
          caPem: CA_PEM,
          secretStore: { values: STORE_VALUES },
        },
        { killOn },
      );
      expect(run.runs).toEqual([null, 0]);
      expectConverged(run);
      // The second run found the datastore prepared: the admin SQL ran once.
      expect(run.sql.split(`-- as ${ADMIN.user}\n`)).toHaveLength(2);
    },
  );

  it("started again after success (a reboot, a manual restart), it changes nothing", () => {
    const run = runBootstrapUnit(
      server0(),
      {
        metadata: HOST,
        datastore: { admin: ADMIN },
        client: "mysql",
        caPem: CA_PEM,
        secretStore: { values: STORE_VALUES },
      },
      { again: 1 },
    );
    expect(run.runs).toEqual([0, 0]);
    expectConverged(run);
    // The kubeconfig K3s wrote is the one stored: not stored again.
    expect(run.log.filter((l) => l.startsWith("secret-store.sh put"))).toHaveLength(1);
    const lines = parseBootStages(run.console);
    const second = lines.slice(lines.findLastIndex((l) => l.stage === "secrets" && l.event === "start"));
    const details = second.filter((l) => l.event === "ok").map((l) => l.detail ?? "");
    expect(details).toContain("K3s v1.33.12+k3s1 already running");
    expect(details.some((d) => d.startsWith("already handed to K3s ("))).toBe(true);
    expect(details).toContain(`already stored as secret ${NAMES.kubeconfig}`);
  });

  it("inline mode (no secret store): the manifest comes from the 0600 file cloud-init wrote, moved once", () => {
    const node = withAdmin(0, 2, { rancher: RANCHER, rancherBootstrapPassword: undefined });
    expect(() => renderCloudInit(node)).toThrow(/rancher.bootstrapPassword/);
    const run = runBootstrapUnit(
      renderCloudInit({ ...node, rancherBootstrapPassword: new Secret(RANCHER_PASSWORD) }),
      { metadata: HOST, datastore: { admin: ADMIN }, client: "mysql", caPem: CA_PEM },
      { killOn: "curl *https://127.0.0.1:6443/ping" },
    );
    expect(run.runs).toEqual([null, 0]);
    expect(k3sStarts(run)).toHaveLength(1);
    expect(manifestWrites(run)).toHaveLength(1);
    expect(run.mode(RANCHER_MANIFEST_PATH)).toBe(0o600);
    expect(run.read(RANCHER_MANIFEST_PATH)).toContain(`bootstrapPassword: "${RANCHER_PASSWORD}"`);
    for (const line of [...run.log, ...run.tools, ...run.env, run.stderr, run.console])
      expect(line).not.toContain(RANCHER_PASSWORD);
  });
});
