import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firewallRules, type ServiceKind } from "@k3sinfra/core";
import { makeContext } from "@k3sinfra/core/testing";
import type { Emulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GCP_METADATA_READER, gcp } from "../src/index.js";
import { REGION, startGcp, testConfig, ZONES } from "./helpers.js";

const ROLES: readonly ServiceKind[] = ["network", "nodes"];

/**
 * A `curl` first on PATH that sends `http://metadata.google.internal/…` to the emulator's metadata server as
 * `instance` sees it (what the name resolves to on the instance), and everything else through unchanged.
 */
const curlAs = (e: Emulator, instance: string): string => {
  const dir = mkdtempSync(join(tmpdir(), "k3sinfra-gcp-curl-"));
  const real = "/usr/bin/curl";
  writeFileSync(
    join(dir, "curl"),
    `#!/bin/sh
for a do
  shift
  case "$a" in http://metadata.google.internal/*) a="${e.url}/gce/${instance}\${a#http://metadata.google.internal}" ;; esac
  set -- "$@" "$a"
done
exec ${real} "$@"
`,
  );
  chmodSync(join(dir, "curl"), 0o755);
  return dir;
};

const meta = (path: string, key: string) =>
  new Promise<{ status: number; out: string }>((done) => {
    const child = spawn(
      "sh",
      ["-c", `k3sinfra_meta() {\n${GCP_METADATA_READER}\n}\nk3sinfra_meta "$1"`, "sh", key],
      {
        env: { PATH: `${path}:${process.env.PATH}` },
      },
    );
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.on("close", (status) => done({ status: status ?? -1, out }));
  });

describe("the GCP metadata reader on a node", () => {
  let e: Emulator;
  let env: Record<string, string>;
  beforeAll(async () => {
    ({ emulator: e, env } = await startGcp(5));
  });
  afterAll(() => e.stop());

  it("prints what publish stored as instance metadata, and fails while a key is absent", async () => {
    const services = gcp.services({
      config: testConfig("meta"),
      options: {},
      roles: ROLES,
      env,
      baseDir: ".",
    });
    const ctx = (resource: string) => makeContext({ cluster: "meta", resource, region: REGION });
    const network = await services.network!.create(
      {
        zones: [...ZONES],
        rules: firewallRules({ mode: "l4", clientCidrs: ["0.0.0.0/0"], adminCidrs: [], ssh: false }),
      },
      ctx("network"),
    );
    const node = await services.nodes!.create(
      {
        index: 0,
        zone: ZONES[0],
        size: { vcpus: 2, memoryGiB: 4 },
        diskGiB: 30,
        image: "ubuntu-24.04",
        userData: "#cloud-config\n",
        userDataHash: "x",
        network,
      },
      ctx("node-0"),
    );
    const [, project, , zone, , name] = node.id.split("/");
    const path = curlAs(e, `${project}/${zone}/${name}`);
    expect((await meta(path, "datastore-host")).status).not.toBe(0);
    await services.nodes!.publish(
      node,
      { "datastore-host": "10.80.0.3", "datastore-port": "3306" },
      ctx("node-0"),
    );
    expect(await meta(path, "datastore-host")).toEqual({ status: 0, out: "10.80.0.3" });
    expect(await meta(path, "datastore-port")).toEqual({ status: 0, out: "3306" });
    expect((await meta(path, "first-server-ip")).status).not.toBe(0);
  });
});
