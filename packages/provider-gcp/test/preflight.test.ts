import { ClusterConfigSchema, InvalidConfigError, type ServiceKind } from "@k3sinfra/core";
import { startEmulator } from "@k3sinfra/emulator";
import { describe, expect, it } from "vitest";
import { type GcpOptions, gcp } from "../src/index.js";
import { PROJECT, serviceAccountKeyFile } from "./helpers.js";

const ROLES: readonly ServiceKind[] = ["network", "nodes", "datastore", "loadBalancer", "dns"];

const run = async (opts: {
  psa: boolean;
  zones: string[];
  options?: GcpOptions;
  operation?: "up" | "destroy";
}) => {
  const e = await startEmulator({
    clouds: ["gcp"],
    timeScale: 0.001,
    fixtures: { gcp: { privateServicesAccess: opts.psa } },
    log: () => undefined,
  });
  try {
    const config = ClusterConfigSchema.parse({
      name: "preflight",
      provider: "gcp",
      region: "us-central1",
      zones: opts.zones,
      dns: { zone: "example.com" },
      rancher: { hostname: "rancher.example.com" },
    });
    const env = {
      K3SINFRA_GCP_ENDPOINT: e.url,
      GOOGLE_APPLICATION_CREDENTIALS: serviceAccountKeyFile(),
      GOOGLE_CLOUD_PROJECT: PROJECT,
    };
    const ctx = {
      config,
      options: opts.options ?? {},
      roles: ROLES,
      env,
      baseDir: ".",
      operation: opts.operation ?? "up",
    };
    const services = gcp.services(ctx);
    return await gcp.preflight!(services, ctx, new AbortController().signal).then(
      () => undefined,
      (err: unknown) => err,
    );
  } finally {
    await e.stop();
  }
};

describe("preflight", () => {
  it("passes on a project with private services access", async () => {
    expect(await run({ psa: true, zones: ["us-central1-a", "us-central1-b"] })).toBeUndefined();
  });

  it("reports every problem together, each with its config path and what to do", async () => {
    const err = await run({
      psa: false,
      zones: ["us-central1-a", "us-central1-z"],
      options: { image: "projects/ubuntu-os-cloud/global/images/family/ubuntu-9999-lts" },
    });
    expect(err).toBeInstanceOf(InvalidConfigError);
    const issues = (err as InvalidConfigError).issues;
    expect(issues.map((i) => i.path).sort()).toEqual(["options.gcp.image", "options.gcp.network", "zones"]);
    expect(issues.find((i) => i.path === "options.gcp.network")?.message).toMatch(
      /gcloud services vpc-peerings connect --service=servicenetworking.googleapis.com/,
    );
  });

  it("a missing network names options.gcp.network; destroy checks only the credentials", async () => {
    const err = await run({
      psa: true,
      zones: ["us-central1-a", "us-central1-b"],
      options: { network: "nope" },
    });
    expect((err as InvalidConfigError).issues).toMatchObject([{ path: "options.gcp.network" }]);
    expect(
      await run({
        psa: false,
        zones: ["us-central1-a", "us-central1-z"],
        options: { network: "nope" },
        operation: "destroy",
      }),
    ).toBeUndefined();
  });
});
