import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileStateStore, passphraseKeySource } from "../../src/state/index.js";
import { sampleState, tempDir } from "./fixtures.js";

const store = (dir: string, passphrase = "correct horse") =>
  new FileStateStore({
    path: join(dir, "prod.json"),
    cluster: "prod",
    keySource: passphraseKeySource(passphrase),
  });

describe("FileStateStore: what converge keeps in state", () => {
  it("round-trips the cluster id, deposed servers and what was applied", async () => {
    const s = store(await tempDir());
    const state = {
      ...sampleState(),
      clusterId: "0123456789abcdef",
      deposed: [
        {
          resource: "node-1",
          kind: "nodes" as const,
          provider: "aws",
          generation: 0,
          state: { id: "i-0old", name: "k3s-prod-n1" },
          since: "2026-12-02T00:00:00.000Z",
        },
      ],
      applied: { config: { name: "prod" }, k3sVersion: "v1.34.2+k3s1" },
    };
    await s.write(state);
    // A crash between the replacement's record and the old server's deletion must not lose the old server.
    expect(await store(join(s.path, "..")).read()).toEqual(state);
    const doc = JSON.parse(await readFile(s.path, "utf8"));
    expect(doc.deposed[0].state.id).toBe("i-0old");
    expect(doc.clusterId).toBe("0123456789abcdef");
  });

  it("reads without the key when secrets are not asked for", async () => {
    const dir = await tempDir();
    await store(dir).write(sampleState());
    const wrongKey = store(dir, "not the passphrase");
    await expect(wrongKey.read()).rejects.toThrow();
    const state = await wrongKey.read({ secrets: false });
    expect(state?.secrets).toBeUndefined();
    expect(state?.resources["node-1"]?.state.id).toBe("i-0abc");
  });
});
