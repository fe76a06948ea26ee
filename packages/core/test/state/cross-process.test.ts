import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LockHeldError } from "../../src/errors.js";
import { FileStateStore, passphraseKeySource } from "../../src/state/index.js";
import { SECRETS, sampleState, tempDir } from "./fixtures.js";

const storeModule = fileURLToPath(new URL("../../src/state/index.ts", import.meta.url));

/** Starts a Node process (TS through tsx) whose FileStateStore writes state, locks, prints the lock and waits. */
async function holder(path: string): Promise<{ child: ChildProcess; lock: { id: string; owner: string } }> {
  const script = join(path, "..", "holder.mjs");
  await writeFile(
    script,
    `import { FileStateStore, passphraseKeySource } from ${JSON.stringify(storeModule)};
     const [path, state] = process.argv.slice(2);
     const store = new FileStateStore({ path, cluster: "prod", keySource: passphraseKeySource("pw") });
     await store.write(JSON.parse(state));
     const lock = await store.lock("up");
     process.stdout.write(JSON.stringify(lock.info) + "\\n");
     setInterval(() => {}, 1000);`,
  );
  const child = spawn(process.execPath, ["--import", "tsx", script, path, JSON.stringify(sampleState())], {
    cwd: fileURLToPath(new URL("../../../..", import.meta.url)),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lock = await new Promise<{ id: string; owner: string }>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out));
    });
    child.stderr?.on("data", (d) => {
      err += d;
    });
    child.on("exit", (code) => reject(new Error(`holder exited (${code}): ${err}`)));
  });
  return { child, lock };
}

describe("FileStateStore across processes", () => {
  it("refuses the lock held by another live process, and takes it over at once when that process was killed", async () => {
    const path = join(await tempDir(), "prod.json");
    const { child, lock } = await holder(path);
    const warnings: string[] = [];
    const store = new FileStateStore({
      path,
      cluster: "prod",
      keySource: passphraseKeySource("pw"),
      onWarning: (m) => warnings.push(m),
    });
    try {
      expect(lock.owner).toMatch(new RegExp(`@.+ pid ${child.pid}$`));
      await expect(store.lock("down")).rejects.toThrow(LockHeldError);
      await expect(store.lock("down")).rejects.toThrow(`k3sinfra force-unlock ${lock.id}`);
      // The other process's state and secrets are readable here with the same passphrase.
      expect((await store.read())?.secrets).toEqual(SECRETS);
    } finally {
      child.kill("SIGKILL");
    }
    await new Promise((resolve) => child.once("exit", resolve));
    // The killed holder ran on this host and is gone: its lock is taken over at once, well inside its lease.
    const taken = await store.lock("down");
    expect(taken.takenOver?.reason).toBe("owner-gone");
    expect(taken.takenOver?.previous.id).toBe(lock.id);
    expect(warnings.join()).toContain(`took over the lock of ${lock.owner}`);
    expect(warnings.join()).toContain(`its process (pid ${child.pid}) is no longer running`);
    await taken.release();
  });
});
