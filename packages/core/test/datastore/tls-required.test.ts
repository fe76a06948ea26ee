import { describe, expect, it } from "vitest";
import { datastoreError, TlsRequiredError } from "../../src/datastore/errors.js";
import type { checkDatastore } from "../../src/datastore/index.js";
import { datastoreReadiness } from "../../src/orchestrator/datastore-readiness.js";
import { memoryConfig, validConfig } from "../helpers.js";

const ctx = { host: "db", port: 3306, user: "admin", action: "connecting as the admin user", secrets: [] };
const report = {
  serverVersion: "8.4.3",
  flavor: "mysql",
  created: { database: true, user: true },
  warnings: [],
};

describe("a datastore that accepts TLS only (RDS with require_secure_transport)", () => {
  it("maps MySQL error 3159 to a TLS-required error", () => {
    const e = datastoreError(
      {
        code: "ER_SECURE_TRANSPORT_REQUIRED",
        errno: 3159,
        sqlMessage: "Connections using insecure transport are prohibited",
      },
      ctx,
    );
    expect(e).toBeInstanceOf(TlsRequiredError);
    expect(e.message).toContain("accepts TLS connections only");
  });

  const args = (check: typeof checkDatastore, fetchCa?: (url: string) => Promise<string>) => ({
    config: validConfig({ ...memoryConfig(), datastore: { check: "auto" } }),
    secrets: {
      k3sToken: "t",
      datastorePassword: "a",
      datastoreK3sPassword: "k",
      rancherBootstrapPassword: "r",
    },
    datastore: {
      id: "db",
      name: "db",
      host: "db",
      port: 3306,
      engine: "mysql",
      version: "8.4",
      status: "available",
      tls: { required: false },
      deletionProtection: false,
    } as never,
    address: { host: "db", port: 3306 },
    signal: new AbortController().signal,
    caUrl: "https://ca.example/bundle.pem",
    ...(fetchCa ? { fetchCa } : {}),
    check,
  });

  it("retries over TLS, verified with the provider's CA bundle", async () => {
    const seen: unknown[] = [];
    const check = (async (input: { tls?: { ca?: string } }) => {
      seen.push(input.tls);
      if (!input.tls) throw new TlsRequiredError("accepts TLS connections only");
      return report;
    }) as unknown as typeof checkDatastore;
    const r = await datastoreReadiness(
      args(check, async () => "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"),
    );
    expect(r.status).toBe("ready");
    expect(seen).toEqual([undefined, { ca: "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n" }]);
  });

  it("skips (auto) with the reason when the CA bundle cannot be downloaded", async () => {
    const check = (async () => {
      throw new TlsRequiredError("accepts TLS connections only");
    }) as unknown as typeof checkDatastore;
    const r = await datastoreReadiness(args(check, async () => Promise.reject(new Error("offline"))));
    expect(r).toMatchObject({ status: "skipped" });
    expect((r as { reason: string }).reason).toContain(
      "could not be downloaded from https://ca.example/bundle.pem (offline)",
    );
  });
});
