import { describe, expect, it } from "vitest";
import { K3sinfraError, up } from "../src/index.js";
import { lastStage } from "../src/orchestrator/ready.js";
import { memoryConfig, world } from "./helpers.js";

describe("up waits until every server serves", () => {
  it("reads the last boot stage and its failure from a console log", () => {
    const log = [
      "[   12.3] cloud-init[812]: k3sinfra-bootstrap: stage=secrets",
      "[   14.0] k3sinfra-bootstrap: stage=datastore",
      "[  900.1] k3sinfra-bootstrap: stage=datastore failed: cannot connect to k3s-demo-db:3306 (timed out)",
    ].join("\n");
    expect(lastStage(log)).toEqual({
      stage: "datastore",
      failure: "cannot connect to k3s-demo-db:3306 (timed out)",
    });
    // Started again after it failed (systemd's restart): still that failure, retrying; once it passes, not.
    const retry = `${log}\n[  915.2] k3sinfra-bootstrap: stage=datastore start`;
    expect(lastStage(retry)).toEqual({
      stage: "datastore",
      failure: "cannot connect to k3s-demo-db:3306 (timed out)",
      retrying: true,
    });
    expect(lastStage(`${retry}\n[  920.0] k3sinfra-bootstrap: stage=datastore ok`)).toEqual({
      stage: "datastore",
    });
    expect(lastStage("no stage lines here")).toBeUndefined();
    expect(lastStage(undefined)).toBeUndefined();
  });

  it("reports each server becoming healthy, and fails naming the stuck one with its stage; a re-run after the fix converges", async () => {
    const w = world();
    await up(memoryConfig(), w.options);
    const ready = w.events.filter(
      (e) => e.type === "resource" && e.resource.startsWith("ready:") && e.phase === "done",
    );
    expect(ready.map((e) => (e as { resource: string }).resource).sort()).toEqual([
      "ready:node-0",
      "ready:node-1",
    ]);

    const node1 = w.cloud.inventory().find((o) => o.kind === "node" && o.name.endsWith("-n1"))!;
    w.cloud.failHealthChecks(node1.id);
    w.cloud.setBootLog(
      node1.id,
      "k3sinfra-bootstrap: stage=k3s-install\nk3sinfra-bootstrap: stage=k3s-ready failed: k3s.service exited\n",
    );
    const error = await up(memoryConfig(), { ...w.options, timeouts: { nodes: 200 } }).catch(
      (e: unknown) => e,
    );
    expect(K3sinfraError.is(error, "Timeout")).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`node-1 (${node1.id}): stage k3s-ready failed: k3s.service exited`);
    expect(message).not.toContain("node-0 (");
    // --no-wait: the infrastructure is in place, nothing to change, no wait.
    await expect(up(memoryConfig(), { ...w.options, wait: false })).resolves.toBeDefined();
    w.cloud.failHealthChecks(node1.id, false);
    await expect(up(memoryConfig(), w.options)).resolves.toBeDefined();
  });
});
