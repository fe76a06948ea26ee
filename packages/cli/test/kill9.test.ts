import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { awsExample, inventoryOf, spawnCli } from "./child.js";
import { runCli } from "./helpers.js";

const live = (state: string) => !/^(deleted|terminated)$/.test(state);

// Points in the progress of `up` (its stderr lines), each with emulated waits still ahead of it (the datastore
// takes longest), so the run is certainly in the middle of its work when the kill lands.
const POINTS: readonly [string, RegExp][] = [
  ["between two security group creates", /network create progress: creating security group \S+-lb/],
  ["while a node launches", /node-0 create progress: launching/],
  ["while the load balancer is created", /load-balancer create progress: creating NLB/],
  ["while the DNS record is written", /dns-record create progress: writing/],
];

describe("kill -9 of up, then up again on the same host", () => {
  it.each(POINTS)(
    "killed %s: the next up takes the dead run's lock over, converges without duplicates, and destroy empties the cloud",
    async (_point, pattern) => {
      const { config, emulatorDir } = await awsExample();
      const lockPath = join(emulatorDir, "rancher-aws.state.json.lock");
      const args = ["--config", config, "--emulate", "--yes"];

      const first = spawnCli([...args, "up", "--time-scale", "0.02"]);
      await first.waitFor(pattern);
      first.child.kill("SIGKILL");
      expect((await first.exit).signal).toBe("SIGKILL");
      // The killed run left its lock behind, with a lease minutes long.
      const left = JSON.parse(readFileSync(lockPath, "utf8")) as {
        pid: number;
        acquiredAt: string;
        expiresAt: string;
      };
      expect(left.pid).toBe(first.child.pid);
      expect(Date.parse(left.expiresAt)).toBeGreaterThan(Date.now());

      // No force-unlock: the next run sees that the holder is gone and says it took the lock over.
      const second = spawnCli([...args, "up", "--time-scale", "0.005"]);
      const { code } = await second.exit;
      expect(code, second.stderr()).toBe(0);
      expect(second.stderr()).toContain(
        `pid ${first.child.pid} (up, since ${left.acquiredAt}), because its process (pid ${first.child.pid}) is no longer running`,
      );
      expect(second.stdout()).toContain("Up complete");
      expect(existsSync(lockPath)).toBe(false);

      // Converged: one of each, as a run that was never killed leaves it.
      const items = (await inventoryOf(emulatorDir)).filter((i) => live(i.state));
      const count = (service: string, type: string) =>
        items.filter((i) => i.service === service && i.type === type).length;
      expect(count("ec2", "instance")).toBe(2);
      expect(count("rds", "db-instance")).toBe(1);
      expect(count("elbv2", "load-balancer")).toBe(1);

      const destroy = await runCli([...args, "--time-scale", "0.005", "destroy"]);
      expect(destroy.code, destroy.stderr).toBe(0);
      expect((await inventoryOf(emulatorDir)).filter((i) => live(i.state))).toEqual([]);
    },
    180_000,
  );
});
