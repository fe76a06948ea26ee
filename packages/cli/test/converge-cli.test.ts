import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tempDir, writeMemoryConfig } from "./helpers.js";

interface CloudFile {
  objects: { id: string; kind: string; name: string }[];
}
const cloud = async (dir: string): Promise<CloudFile> =>
  JSON.parse(await readFile(join(dir, "cloud.json"), "utf8")) as CloudFile;

describe("converge through the CLI, with the state in a file", () => {
  it("plan --detailed-exitcode sees drift, up repairs it, plan --destroy reads only the state", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir, "datastore:\n  deletionProtection: false\n");
    const cli = (...args: string[]) => runCli(["--config", config, ...args]);
    expect((await cli("up", "--yes")).code).toBe(0);
    expect((await cli("plan", "--detailed-exitcode")).code).toBe(0);

    // A node deleted behind k3sinfra's back (as in the console). The in-process CLI keeps one memory cloud per
    // file, so the edited cloud is given a new file the next commands load.
    const before = await cloud(dir);
    const node = before.objects.find((o) => o.kind === "node")!;
    await writeFile(
      join(dir, "cloud2.json"),
      JSON.stringify({ ...before, objects: before.objects.filter((o) => o.id !== node.id) }),
    );
    await writeFile(config, (await readFile(config, "utf8")).replace("cloud.json", "cloud2.json"));
    const drift = await cli("plan", "--detailed-exitcode");
    expect(drift.code).toBe(6);
    expect(drift.stdout).toMatch(/\+\s+node-\d\s+create\s+deleted outside k3sinfra/);
    // From the state alone nothing is wrong.
    expect((await cli("plan", "--refresh=false", "--detailed-exitcode")).code).toBe(0);
    const json = JSON.parse((await cli("plan", "--json")).stdout) as { changes: { drift?: string }[] };
    expect(json.changes.some((c) => c.drift === "missing")).toBe(true);

    expect((await cli("up", "--yes")).code).toBe(0);
    expect((await cli("plan", "--detailed-exitcode")).code).toBe(0);
    const repaired = JSON.parse(await readFile(join(dir, "cloud2.json"), "utf8")) as CloudFile;
    expect(repaired.objects.filter((o) => o.kind === "node")).toHaveLength(2);

    const preview = await cli("plan", "--destroy");
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/-\s+network\s+delete/);
    expect(preview.stdout).toMatch(/-\s+datastore\s+delete/);
    expect(preview.stdout).toContain("k3sinfra destroy");
  });

  it("a replacement rolls through the state file: old servers retired, none left behind", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir, "datastore:\n  deletionProtection: false\n");
    const cli = (...args: string[]) => runCli(["--config", config, ...args]);
    expect((await cli("up", "--yes")).code).toBe(0);
    const oldNodes = (await cloud(dir)).objects.filter((o) => o.kind === "node").map((o) => o.id);
    await writeFile(config, `${await readFile(config, "utf8")}nodes:\n  diskGiB: 80\n`);
    const up = await cli("up", "--yes");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/-\/\+\s+node-0\s+replace/);
    const nodes = (await cloud(dir)).objects.filter((o) => o.kind === "node");
    expect(nodes).toHaveLength(2);
    expect(nodes.some((n) => oldNodes.includes(n.id))).toBe(false);
    expect(nodes.map((n) => n.name).sort()).toEqual(["k3s-memtest-n0-g1", "k3s-memtest-n1-g1"]);
    const state = JSON.parse(await readFile(join(dir, ".k3sinfra", "memtest.state.json"), "utf8"));
    expect(state.deposed ?? []).toEqual([]);
    expect((await cli("plan", "--detailed-exitcode")).code).toBe(0);
  });
});
