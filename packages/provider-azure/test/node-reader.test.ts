import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURE_METADATA_READER } from "../src/index.js";
import { RawArm } from "./back-door.js";
import { type Harness, networkSpec, startHarness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, "rdr");
});
afterAll(() => h?.stop());

/**
 * Runs the reader as the node's bootstrap does, against the emulator's IMDS for this VM instead of
 * 169.254.169.254 (asynchronously: the emulator answers from this process).
 */
const readOnNode = async (imds: string, key: string): Promise<string> =>
  (
    await promisify(execFile)("sh", [
      "-c",
      `k3sinfra_meta() {\n${AZURE_METADATA_READER.replaceAll("http://169.254.169.254", imds)}\n}\nk3sinfra_meta "$1"`,
      "sh",
      key,
    ])
  ).stdout;

describe("the Azure metadata reader on a node", () => {
  it("reads each published value from the VM's tags through IMDS, and nothing for a key not published yet", async () => {
    const svc = h.services();
    const network = await svc.network!.create(networkSpec(), h.ctx("network"));
    const node = await svc.nodes!.create(
      {
        index: 0,
        zone: "1",
        size: { vcpus: 2, memoryGiB: 8 },
        diskGiB: 40,
        image: "ubuntu-24.04",
        userData: "#cloud-config\n",
        userDataHash: "x",
        network,
      },
      h.ctx("node-0"),
    );
    const vm = await new RawArm(h.emulator).call("GET", node.id, "2026-04-01");
    const imds = `${h.emulator.url}/azure-imds/${(vm.body.properties as { vmId: string }).vmId}`;
    expect(await readOnNode(imds, "datastore-host")).toBe("");
    await svc.nodes!.publish(
      node,
      { "datastore-host": "db.mysql.database.azure.com", "datastore-port": "3306" },
      h.ctx("node-0"),
    );
    expect(await readOnNode(imds, "datastore-host")).toBe("db.mysql.database.azure.com");
    expect(await readOnNode(imds, "datastore-port")).toBe("3306");
    expect(await readOnNode(imds, "first-server-ip")).toBe("");
  });
});
