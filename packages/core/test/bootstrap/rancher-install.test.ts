import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import {
  BOOT_STAGE_PATTERN,
  BOOTSTRAP_SCRIPT_PATH,
  type BootstrapInput,
  certManagerVersionFor,
  K3S_CLUSTER_CIDR,
  knownRancherVersions,
  parseBootStages,
  RANCHER_MANIFEST_TEMPLATE_PATH,
  rancherRelease,
  renderCloudInit,
  renderRancherWatchCommands,
  TRAEFIK_CONFIG_PATH,
  validateBootstrapInput,
} from "../../src/bootstrap/index.js";
import { buildOutputs } from "../../src/orchestrator/outputs.js";
import { rancherInstall, renderUserData } from "../../src/orchestrator/user-data.js";
import { Secret } from "../../src/secret.js";
import type { ClusterState } from "../../src/state/types.js";
import { memoryConfig, validConfig } from "../helpers.js";
import { fileAt, L7, parseCloudConfig, TEST_METADATA_READER, withAdmin } from "./fixtures.js";
import { FAKE_SECRET_READER, NAMES, RANCHER_PASSWORD, storeInput } from "./store-fixtures.js";
import { describeWithTools, requireTools } from "./tools.js";

const RANCHER = { version: "2.12.3", replicas: 3, certManagerVersion: "v1.18.2" } as const;
const L4 = { mode: "l4", addresses: ["203.0.113.10"] } as const;
const LB = { l4: L4, l7: L7 };
type Mode = keyof typeof LB;

interface Doc {
  kind: string;
  metadata: { name: string; namespace: string };
  spec?: Record<string, unknown> & { valuesContent?: string };
  stringData?: Record<string, string>;
}
/** The manifest server 0 hands to K3s, as parsed YAML documents. */
const manifestOf = (text: string): Doc[] => {
  const file = fileAt(parseCloudConfig(text), RANCHER_MANIFEST_TEMPLATE_PATH);
  if (!file) return [];
  expect(file.permissions).toBe("0600");
  return parseAllDocuments(file.content).map((d) => d.toJSON() as Doc);
};
const chart = (docs: Doc[], name: string) =>
  docs.find((d) => d.kind === "HelmChart" && d.metadata.name === name);
const valuesOf = (doc: Doc | undefined) => parse(doc?.spec?.valuesContent ?? "") as Record<string, unknown>;
const traefikValues = (text: string) =>
  valuesOf(parse(fileAt(parseCloudConfig(text), TRAEFIK_CONFIG_PATH)!.content) as Doc) as {
    deployment: { replicas: number };
    ports?: { web: { forwardedHeaders: { trustedIPs: string[] } } };
  };

const store = (mode: Mode, index = 0) =>
  renderCloudInit(storeInput(index, 2, { loadBalancer: LB[mode], rancher: RANCHER }));

describe("Traefik (HelmChartConfig on every server)", () => {
  it("L7: trusts forwarded headers from the LB's subnets and the pod CIDR ServiceLB forwards from", () => {
    for (const index of [0, 1]) {
      const values = traefikValues(store("l7", index));
      expect(values.ports?.web.forwardedHeaders.trustedIPs).toEqual([...L7.sourceCidrs, K3S_CLUSTER_CIDR]);
      expect(K3S_CLUSTER_CIDR).toBe("10.42.0.0/16");
    }
  });

  it("runs 2 replicas on L4 and L7; L4 trusts no forwarded headers (TLS ends at Traefik)", () => {
    expect(traefikValues(store("l4")).deployment.replicas).toBe(2);
    expect(traefikValues(store("l7")).deployment.replicas).toBe(2);
    expect(traefikValues(store("l4")).ports).toBeUndefined();
  });
});

describe("Rancher installed by server 0 (HelmChart manifests for K3s's Helm controller)", () => {
  it("L7: Rancher with tls: external and agentTLSMode: system-store, no cert-manager", () => {
    const docs = manifestOf(store("l7"));
    expect(chart(docs, "cert-manager")).toBeUndefined();
    const rancher = chart(docs, "rancher")!;
    expect(rancher.metadata.namespace).toBe("kube-system");
    expect(rancher.spec).toMatchObject({
      repo: "https://releases.rancher.com/server-charts/stable",
      chart: "rancher",
      version: "2.12.3",
      targetNamespace: "cattle-system",
      createNamespace: true,
      valuesSecrets: [{ name: "k3sinfra-rancher-bootstrap", keys: ["values.yaml"] }],
    });
    expect(valuesOf(rancher)).toEqual({
      hostname: "rancher.example.com",
      replicas: 3,
      tls: "external",
      agentTLSMode: "system-store",
    });
  });

  it("L4: cert-manager first, pinned, with its CRDs; Rancher with its own certificate (no tls, strict agents)", () => {
    const docs = manifestOf(store("l4"));
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      "HelmChart/cert-manager",
      "Secret/k3sinfra-rancher-bootstrap",
      "HelmChart/rancher",
    ]);
    expect(chart(docs, "cert-manager")!.spec).toMatchObject({
      repo: "https://charts.jetstack.io",
      chart: "cert-manager",
      version: "v1.18.2",
      targetNamespace: "cert-manager",
      createNamespace: true,
    });
    expect(valuesOf(chart(docs, "cert-manager"))).toEqual({ crds: { enabled: true } });
    expect(valuesOf(chart(docs, "rancher"))).toEqual({ hostname: "rancher.example.com", replicas: 3 });
  });

  it("the password is only in the values Secret: a placeholder in store mode, the value in inline mode", () => {
    const secretOf = (docs: Doc[]) => docs.find((d) => d.kind === "Secret")!;
    const stored = secretOf(manifestOf(store("l4")));
    expect(stored.metadata.namespace).toBe("kube-system");
    expect(parse(stored.stringData!["values.yaml"]!)).toEqual({
      bootstrapPassword: "@K3SINFRA_RANCHER_BOOTSTRAP_PASSWORD@",
    });
    const inline = withAdmin(0, 2, {
      rancher: RANCHER,
      rancherBootstrapPassword: new Secret(RANCHER_PASSWORD),
    });
    const docs = manifestOf(renderCloudInit(inline));
    expect(parse(secretOf(docs).stringData!["values.yaml"]!)).toEqual({
      bootstrapPassword: RANCHER_PASSWORD,
    });
    for (const d of docs.filter((x) => x.kind === "HelmChart"))
      expect(JSON.stringify(d)).not.toContain(RANCHER_PASSWORD);
  });

  it("only server 0 carries it; other servers' user data does not change with Rancher's settings", () => {
    expect(manifestOf(store("l4", 1))).toEqual([]);
    const plain = storeInput(1, 2, { loadBalancer: L4 });
    expect(store("l4", 1)).toBe(renderCloudInit(plain));
    expect(fileAt(parseCloudConfig(store("l4", 1)), BOOTSTRAP_SCRIPT_PATH)!.content).not.toContain(
      "rancher-manifests",
    );
  });

  it("is refused where it cannot work: K3s without valuesSecrets, a missing name or a short password", () => {
    const paths = (input: BootstrapInput) => validateBootstrapInput(input).map((i) => i.path);
    expect(paths(storeInput(0, 2, { rancher: RANCHER }))).toEqual([]);
    for (const ok of ["v1.30.12+k3s1", "v1.31.8+k3s1", "v1.32.4+k3s1", "v1.33.0+k3s1"])
      expect(paths(storeInput(0, 2, { rancher: RANCHER, k3sVersion: ok }))).toEqual([]);
    for (const old of ["v1.30.11+k3s1", "v1.31.7+k3s1", "v1.32.3+k3s1", "v1.29.15+k3s1"])
      expect(paths(storeInput(0, 2, { rancher: RANCHER, k3sVersion: old }))).toEqual(["k3s.version"]);
    const { rancherBootstrapPassword: _r, ...names } = NAMES;
    expect(paths(storeInput(0, 2, { rancher: RANCHER, secretNames: names }))).toEqual([
      "secretNames.rancherBootstrapPassword",
    ]);
    expect(paths(storeInput(0, 2, { rancher: { ...RANCHER, certManagerVersion: undefined } }))).toEqual([
      "rancher.certManagerVersion",
    ]);
    expect(paths(storeInput(0, 2, { rancher: { ...RANCHER, replicas: -1 } }))).toEqual(["rancher.replicas"]);
    const short = withAdmin(0, 2, { rancher: RANCHER, rancherBootstrapPassword: new Secret("Short123") });
    expect(paths(short)).toEqual(["rancher.bootstrapPassword"]);
    // Servers after the first ignore it.
    expect(paths(storeInput(1, 2, { rancher: RANCHER, secretNames: names }))).toEqual([]);
  });
});

describe("from the config (rancher.install, rancher.replicas)", () => {
  const config = (over: Record<string, unknown> = {}, nodes = 2) =>
    validConfig(
      memoryConfig({ rancher: { hostname: "rancher.example.com", ...over }, nodes: { count: nodes } }),
    );
  const userDataBase = (c: ReturnType<typeof config>, index = 0) => ({
    config: c,
    index,
    k3sVersion: "v1.33.12+k3s1",
    provider: { name: "aws", metadataReader: TEST_METADATA_READER },
    network: undefined,
    secretStore: { names: NAMES, reader: FAKE_SECRET_READER },
  });
  const userData = (c: ReturnType<typeof config>, index = 0) => renderUserData(userDataBase(c, index));

  it("installs by default, cert-manager pinned by the versions table, 3 replicas whatever the node count", () => {
    const c = config();
    expect(c.rancher.install).toBe(true);
    const expected = certManagerVersionFor(c.rancher.version, "v1.33.12+k3s1");
    expect(rancherInstall(c, "v1.33.12+k3s1")).toEqual({
      version: c.rancher.version,
      chartRepository: "https://releases.rancher.com/server-charts/stable",
      replicas: 3,
      certManagerVersion: expected,
    });
    expect(chart(manifestOf(userData(c)), "cert-manager")!.spec!.version).toBe(expected);
    // Scaling never replaces server 0: its user data does not depend on the node count.
    expect(userData(config({}, 3))).toBe(userData(c));
    expect(userData(config({}, 5))).toBe(userData(c));
  });

  it("takes the chart from the repository the versions table names (latest for a minor not yet stable)", () => {
    const latest = knownRancherVersions().find(
      (v) => rancherRelease(v)?.chartRepository.name === "rancher-latest",
    );
    if (latest === undefined) return; // every listed minor is stable: nothing to check
    const c = config({ version: latest });
    const k3s = rancherRelease(latest)!.defaultK3s;
    const rancher = chart(manifestOf(renderUserData({ ...userDataBase(c), k3sVersion: k3s })), "rancher")!;
    expect(rancher.spec!.repo).toBe("https://releases.rancher.com/server-charts/latest");
    expect(rancher.spec!.version).toBe(latest);
  });

  it("replicas as set (0–7); -1, which counts the nodes when the chart installs (server 0 alone), means 3", () => {
    expect(rancherInstall(config({ replicas: 2 }), "v1.33.12+k3s1")?.replicas).toBe(2);
    expect(rancherInstall(config({ replicas: 5 }), "v1.33.12+k3s1")?.replicas).toBe(5);
    expect(rancherInstall(config({ replicas: -1 }), "v1.33.12+k3s1")?.replicas).toBe(3);
  });

  it("install: false keeps server 0 free of it and outputs print the helm commands", () => {
    const off = config({ install: false });
    expect(rancherInstall(off, "v1.33.12+k3s1")).toBeUndefined();
    expect(manifestOf(userData(off))).toEqual([]);
    const { rancherBootstrapPassword: _r, ...names } = NAMES;
    const without = renderUserData({
      config: off,
      index: 0,
      k3sVersion: "v1.33.12+k3s1",
      provider: { name: "aws", metadataReader: TEST_METADATA_READER },
      network: undefined,
      secretStore: { names, reader: FAKE_SECRET_READER },
    });
    expect(without).not.toContain("rancher-manifests");
    const state = { resources: {}, secrets: undefined } as unknown as ClusterState;
    const base = { state, k3sVersion: "v1.33.12+k3s1", showSecrets: false };
    const printed = buildOutputs({ ...base, config: off }).rancher.installCommands.join("\n");
    expect(printed).toContain("helm upgrade --install rancher");
    const watched = buildOutputs({ ...base, config: config() }).rancher.installCommands;
    expect(watched).toEqual(
      renderRancherWatchCommands({
        version: config().rancher.version,
        mode: "l4",
        certManagerVersion: certManagerVersionFor(config().rancher.version, "v1.33.12+k3s1"),
      }),
    );
    expect(watched).toContain("kubectl get helmcharts -A");
    expect(watched).toContain("kubectl -n cattle-system rollout status deploy/rancher --timeout=15m");
    expect(watched.join("\n")).not.toContain("helm upgrade");
  });
});

describe("stage lines (what up reads from the console)", () => {
  it("BOOT_STAGE_PATTERN and parseBootStages read the format, other console lines skipped", () => {
    const console = [
      "[   12.3] cloud-init[812]: some other line",
      "2026-01-02T03:04:05Z k3sinfra-bootstrap: stage=metadata waiting: metadata key datastore-host is not published yet",
      "k3sinfra-bootstrap[901]: 2026-01-02T03:04:09Z k3sinfra-bootstrap: stage=datastore failed: the datastore did not accept connections within 900 s\r",
      "2026-01-02T03:09:00Z k3sinfra-bootstrap: stage=done ok: K3s server 1 is up",
      "k3sinfra-bootstrap: stage=Bad ok",
    ].join("\n");
    expect(parseBootStages(console)).toEqual([
      { stage: "metadata", event: "waiting", detail: "metadata key datastore-host is not published yet" },
      {
        stage: "datastore",
        event: "failed",
        detail: "the datastore did not accept connections within 900 s",
      },
      { stage: "done", event: "ok", detail: "K3s server 1 is up" },
    ]);
    expect(BOOT_STAGE_PATTERN.exec("k3sinfra-bootstrap: stage=k3s-ready start")?.slice(1)).toEqual([
      "k3s-ready",
      "start",
      undefined,
    ]);
  });
});

// The new output through both checkers: L4/L7, server 0/1, store and inline, with Rancher installed.
const variants = (["l4", "l7"] as const).flatMap((mode) =>
  [0, 1].flatMap((index) => (["store", "inline"] as const).map((secrets) => ({ mode, index, secrets }))),
);
const renderVariant = (v: (typeof variants)[number]) =>
  renderCloudInit(
    v.secrets === "store"
      ? storeInput(v.index, 2, { loadBalancer: LB[v.mode], rancher: RANCHER })
      : withAdmin(v.index, 2, {
          loadBalancer: LB[v.mode],
          rancher: RANCHER,
          rancherBootstrapPassword: new Secret(RANCHER_PASSWORD),
        }),
  );

describeWithTools(["shellcheck"])("Rancher install: shellcheck", () => {
  it.each(variants)("$mode, server $index, $secrets: the bootstrap script is clean", (v) => {
    requireTools(["shellcheck"]);
    const script = fileAt(parseCloudConfig(renderVariant(v)), BOOTSTRAP_SCRIPT_PATH)!.content;
    const result = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script });
    expect(result.stdout.toString() + result.stderr.toString()).toBe("");
    expect(result.status).toBe(0);
  });
});

describeWithTools(["cloud-init"])("Rancher install: cloud-init schema", () => {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-ci-rancher-"));
  it.each(variants)("$mode, server $index, $secrets: valid cloud-config", (v) => {
    requireTools(["cloud-init"]);
    const file = join(dir, `${v.mode}-${v.index}-${v.secrets}.yaml`);
    const text = renderVariant(v);
    writeFileSync(file, text);
    const result = spawnSync("cloud-init", ["schema", "--config-file", file]);
    expect(result.stderr.toString()).toBe("");
    expect(result.status).toBe(0);
    // Server 0 with the admin gets the MySQL client from the packages module.
    const doc = parse(text) as { packages?: string[]; package_update?: boolean };
    expect(doc.packages).toEqual(v.index === 0 ? ["mysql-client"] : undefined);
  });
});
