import { describe, expect, it } from "vitest";
import { destroy, InvalidConfigError, K3sinfraError, outputs, plan, status, up } from "../src/index.js";
import { crashingStore, memoryConfig, world } from "./helpers.js";

describe("orchestrator on the in-memory provider", () => {
  it("runs up → status → outputs → destroy and leaves nothing", async () => {
    const w = world();
    const config = memoryConfig();
    const result = await up(config, w.options);
    expect(result.plan.changes.map((c) => `${c.resource}:${c.action}`)).toEqual([
      "network:create",
      "datastore:create",
      "node-0:create",
      "node-1:create",
      "load-balancer:create",
      "lb-targets:create",
      "dns-record:create",
      "bootstrap:create",
    ]);
    const kinds = w.cloud
      .inventory()
      .map((o) => o.kind)
      .sort();
    expect(kinds).toEqual(["datastore", "dnsRecord", "loadBalancer", "network", "node", "node"]);
    // Nodes are spread over two zones and both receive the datastore endpoint.
    const nodes = w.cloud.inventory().filter((o) => o.kind === "node");
    expect(new Set(nodes.map((n) => n.data.zone)).size).toBe(2);
    for (const n of nodes)
      expect((n.data.published as Record<string, string>)["datastore-host"]).toMatch(/db\.memory\.test$/);
    const lb = w.cloud.inventory().find((o) => o.kind === "loadBalancer");
    expect(lb?.data.targets).toEqual(nodes.map((n) => n.id).sort());

    const s = await status(config, w.options);
    expect(s.resources.every((r) => r.status === "ok")).toBe(true);

    const out = await outputs(config, w.options);
    expect(out.rancherUrl).toBe("https://rancher.example.com");
    expect(out.k3s.token).toBe("********");
    expect(out.k3s.servers).toHaveLength(2);
    // rancher.install (the default): the cluster installs Rancher; outputs say how to watch it.
    expect(out.rancher.installCommands).toContain(
      "kubectl -n cattle-system rollout status deploy/rancher --timeout=15m",
    );
    expect(out.rancher.kubeconfigCommands[0]).toContain("nodes.adminCidrs is empty");
    const shown = await outputs(config, { ...w.options, showSecrets: true });
    expect(shown.k3s.token).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(JSON.stringify(w.events)).not.toContain(shown.k3s.token);

    const second = await plan(config, w.options);
    expect(second.empty).toBe(true);

    const d = await destroy(config, w.options);
    expect(d.deleted).toHaveLength(8);
    expect(w.cloud.inventory()).toEqual([]);
    expect(await w.state.read()).toBeUndefined();
  });

  it("converges after a crash at every state write, with no duplicate and nothing left after destroy", async () => {
    const probe = world();
    const p = crashingStore();
    await up(memoryConfig(), { ...probe.options, state: p.store });
    for (let k = 1; k <= p.writes(); k++) {
      const w = world();
      const s = crashingStore();
      const options = { ...w.options, state: s.store };
      s.crashAfter(k);
      await expect(up(memoryConfig(), options), `crash at write ${k}`).rejects.toThrow();
      s.crashAfter(undefined);
      await up(memoryConfig(), options);
      const names = w.cloud.inventory().map((o) => o.name);
      expect(new Set(names).size, `duplicates after a crash at write ${k}`).toBe(names.length);
      expect(names).toHaveLength(6);
      await destroy(memoryConfig(), options);
      expect(w.cloud.inventory(), `leak after a crash at write ${k}`).toEqual([]);
    }
  });

  it("converges after a crash at every mutating call, with no duplicate and nothing left after destroy", async () => {
    const probe = world();
    await up(memoryConfig(), probe.options);
    const total = probe.cloud.mutations;
    expect(total).toBeGreaterThan(8);
    for (let k = 1; k <= total; k++) {
      const w = world();
      w.cloud.crashAt = k;
      await expect(up(memoryConfig(), w.options), `crash at call ${k}`).rejects.toThrow();
      w.cloud.crashAt = undefined;
      await up(memoryConfig(), w.options);
      const names = w.cloud.inventory().map((o) => o.name);
      expect(new Set(names).size, `duplicates after crash at call ${k}`).toBe(names.length);
      expect(names).toHaveLength(6);
      expect((await plan(memoryConfig(), w.options)).empty).toBe(true);
      await destroy(memoryConfig(), w.options);
      expect(w.cloud.inventory(), `leak after crash at call ${k}`).toEqual([]);
    }
  });

  it("retries throttling and records a partial failure that the next run resumes", async () => {
    const w = world();
    w.cloud.throttleAt = 2;
    w.cloud.failAt = 4;
    const error = await up(memoryConfig(), w.options).catch((e: unknown) => e);
    expect(K3sinfraError.is(error, "PartialFailure")).toBe(true);
    expect(w.events.some((e) => e.type === "resource" && e.phase === "retry")).toBe(true);
    expect(w.events.some((e) => e.type === "resource" && e.phase === "skipped")).toBe(true);
    await up(memoryConfig(), w.options);
    expect(w.cloud.inventory()).toHaveLength(6);
  });

  it("refuses a second up while another holds the lock", async () => {
    const w = world();
    const lock = await w.state.connect({ owner: "ci@elsewhere pid 42" }).lock("up");
    const error = await up(memoryConfig(), w.options).catch((e: unknown) => e);
    expect(K3sinfraError.is(error, "LockHeld")).toBe(true);
    expect((error as Error).message).toContain("force-unlock");
    expect((error as Error).message).toContain("ci@elsewhere pid 42");
    expect((error as { lock?: { owner: string; id: string } }).lock).toMatchObject({
      owner: "ci@elsewhere pid 42",
      id: lock.info.id,
    });
    expect(w.cloud.calls).toEqual([]);
    await lock.release();
  });

  it("refuses to change the hostname after creation", async () => {
    const w = world();
    await up(memoryConfig(), w.options);
    const changed = memoryConfig({ rancher: { hostname: "other.example.com" } });
    const error = await plan(changed, w.options).catch((e: unknown) => e);
    expect(K3sinfraError.is(error, "PlanRefused")).toBe(true);
    expect((error as Error).message).toContain("rancher.example.com");
  });

  it("scales nodes up and down, updating the targets", async () => {
    const w = world();
    await up(memoryConfig(), w.options);
    const bigger = memoryConfig({ nodes: { count: 3 } });
    const p = await plan(bigger, w.options);
    expect(p.changes.filter((c) => c.action !== "no-op").map((c) => `${c.resource}:${c.action}`)).toEqual([
      "node-2:create",
      "lb-targets:update",
      "bootstrap:update",
    ]);
    await up(bigger, w.options);
    expect(w.cloud.inventory().filter((o) => o.kind === "node")).toHaveLength(3);
    const back = await plan(memoryConfig(), w.options);
    expect(back.changes.find((c) => c.resource === "node-2")?.action).toBe("delete");
    await up(memoryConfig(), w.options);
    const nodes = w.cloud.inventory().filter((o) => o.kind === "node");
    expect(nodes).toHaveLength(2);
    expect(w.cloud.inventory().find((o) => o.kind === "loadBalancer")?.data.targets).toEqual(
      nodes.map((n) => n.id).sort(),
    );
  });

  it("plans an in-place update or a replacement with reasons", async () => {
    const w = world();
    await up(memoryConfig(), w.options);
    const p = await plan(
      memoryConfig({
        datastore: { deletionProtection: false, backupRetentionDays: 14 },
        nodes: { diskGiB: 80 },
      }),
      w.options,
    );
    const by = Object.fromEntries(p.changes.map((c) => [c.resource, c]));
    expect(by.datastore?.action).toBe("update");
    expect(by.datastore?.reason).toContain("backupRetentionDays");
    expect(by["node-0"]?.action).toBe("replace");
    expect(by["node-0"]?.reason).toContain("diskGiB");
    expect(p.warnings.join(" ")).toContain("replaced one at a time, create-before-destroy");
  });

  it("keeps a protected datastore unless destroy is allowed to delete it", async () => {
    const w = world();
    const config = memoryConfig({ datastore: { deletionProtection: true } });
    await up(config, w.options);
    const error = await destroy(config, w.options).catch((e: unknown) => e);
    expect(K3sinfraError.is(error, "PartialFailure")).toBe(true);
    expect((error as Error).message).toContain("--allow-protected");
    expect(
      w.cloud
        .inventory()
        .map((o) => o.kind)
        .sort(),
    ).toEqual(["datastore", "network"]);
    await destroy(config, { ...w.options, allowProtected: true });
    expect(w.cloud.inventory()).toEqual([]);
  });

  it("sweeps objects that carry the cluster's tags but never reached the state", async () => {
    const w = world();
    w.cloud.crashAt = 3;
    await expect(up(memoryConfig(), w.options)).rejects.toThrow();
    w.cloud.crashAt = undefined;
    expect(w.cloud.inventory().length).toBeGreaterThan(0);
    const d = await destroy(memoryConfig(), w.options);
    expect(d.swept.length + d.deleted.length).toBeGreaterThan(0);
    expect(w.cloud.inventory()).toEqual([]);
  });

  it("reports drift and missing resources without touching the state; plan refreshes, up recreates", async () => {
    const w = world();
    await up(memoryConfig(), w.options);
    const node = w.cloud.inventory().find((o) => o.kind === "node");
    w.cloud.objects.delete(node!.id);
    const before = await w.state.read();
    const s = await status(memoryConfig(), w.options);
    const gone = s.resources.find((r) => r.id === node!.id);
    expect(gone?.status).toBe("missing");
    expect((await w.state.read())?.serial).toBe(before?.serial);
    // Planned from the state alone, nothing is wrong; refreshed first (the default), the node is recreated.
    expect((await plan(memoryConfig(), { ...w.options, refresh: false })).empty).toBe(true);
    const p = await plan(memoryConfig(), w.options);
    const change = p.changes.find((c) => c.resource === gone?.resource);
    expect(change).toMatchObject({ action: "create", drift: "missing" });
    expect(change?.reason).toContain("deleted outside k3sinfra");
    expect(p.changes.find((c) => c.resource === "lb-targets")?.action).toBe("update");
    expect((await w.state.read())?.serial).toBe(before?.serial);
    await up(memoryConfig(), w.options);
    expect((await status(memoryConfig(), w.options)).resources.every((r) => r.status === "ok")).toBe(true);
    expect((await plan(memoryConfig(), w.options)).empty).toBe(true);
  });

  it("rejects invalid config before any provider call", async () => {
    const w = world();
    await expect(up({ ...memoryConfig(), name: "Bad Name" }, w.options)).rejects.toBeInstanceOf(
      InvalidConfigError,
    );
    expect(w.cloud.calls).toEqual([]);
  });
});

describe("losing the state lock", () => {
  it("stops the run, before further changes, when another process takes the lock", async () => {
    const { MemoryStateStore, ProviderRegistry } = await import("../src/index.js");
    const { createMemoryProvider, MemoryCloud } = await import("../src/testing/index.js");
    const cloud = new MemoryCloud();
    const inner = createMemoryProvider(cloud);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    // The network create waits at the gate, holding the run in flight while the lock is taken away.
    const slow = {
      ...inner,
      services(ctx: Parameters<typeof inner.services>[0]) {
        const services = inner.services(ctx);
        const network = services.network!;
        const create = network.create.bind(network);
        return {
          ...services,
          network: Object.assign(Object.create(network), {
            create: async (...args: Parameters<typeof create>) => {
              await gate;
              return create(...args);
            },
          }),
        };
      },
    };
    const state = new MemoryStateStore({ renewMs: 10, owner: "first" });
    const other = state.connect({ owner: "second" });
    const run = up(memoryConfig(), {
      registry: new ProviderRegistry().register(slow),
      state,
      poll: { minDelayMs: 1, maxDelayMs: 2 },
    });
    let info = await state.lockInfo();
    for (let i = 0; !info && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 5));
      info = await state.lockInfo();
    }
    await other.forceUnlock(info!.id);
    await new Promise((r) => setTimeout(r, 50));
    release();
    const error = await run.catch((e: unknown) => e);
    expect(K3sinfraError.is(error, "Aborted")).toBe(true);
    expect((error as Error).message).toContain("was lost");
    // Nothing after the network was started.
    expect(cloud.inventory().map((o) => o.kind)).toEqual(["network"]);
  });
});

describe("replacing after a crash", () => {
  it("keeps the new generation: a crash between any two steps of a replacement never reuses the old token", async () => {
    const bigger = memoryConfig({ nodes: { diskGiB: 80 } });
    for (const where of ["cloud", "state"] as const) {
      const probe = world();
      const p = crashingStore();
      await up(memoryConfig(), { ...probe.options, state: p.store });
      const [calls, writes] = [probe.cloud.mutations, p.writes()];
      await up(bigger, { ...probe.options, state: p.store });
      const steps = where === "cloud" ? probe.cloud.mutations - calls : p.writes() - writes;
      for (let k = 1; k <= steps; k++) {
        const w = world();
        const s = crashingStore();
        const options = { ...w.options, state: s.store };
        await up(memoryConfig(), options);
        const oldTokens = new Set(
          w.cloud
            .inventory()
            .filter((o) => o.kind === "node")
            .map((o) => o.token),
        );
        if (where === "cloud") w.cloud.crashAt = w.cloud.mutations + k;
        else s.crashAfter(k);
        await up(bigger, options).catch(() => undefined);
        w.cloud.crashAt = undefined;
        s.crashAfter(undefined);
        await (await import("../src/index.js"))
          .forceUnlock(bigger, (await s.store.lockInfo())?.id ?? "", options)
          .catch(() => undefined);
        await up(bigger, options);
        const nodes = w.cloud.inventory().filter((o) => o.kind === "node");
        expect(nodes, `${where} crash at step ${k}`).toHaveLength(2);
        for (const n of nodes)
          expect(oldTokens.has(n.token), `old token reused after a ${where} crash at step ${k}`).toBe(false);
        expect((await plan(bigger, options)).empty).toBe(true);
      }
    }
  });
});

describe("confirming under the lock", () => {
  it("asks with the plan while holding the lock, and a no changes nothing", async () => {
    const w = world();
    let held: unknown;
    const declined = await up(memoryConfig(), {
      ...w.options,
      confirm: async (p) => {
        held = await w.state.lockInfo();
        expect(p.changes.filter((c) => c.action === "create")).toHaveLength(8);
        return false;
      },
    }).catch((e: unknown) => e);
    expect(held).toMatchObject({ operation: "up" });
    expect(K3sinfraError.is(declined, "Aborted")).toBe(true);
    expect(w.cloud.calls).toEqual([]);
    expect(await w.state.read()).toBeUndefined();
    let asked = 0;
    await up(memoryConfig(), { ...w.options, confirm: async () => ++asked > 0 });
    expect(w.cloud.inventory()).toHaveLength(6);
    // Nothing to do: nothing to confirm.
    await up(memoryConfig(), { ...w.options, confirm: async () => ++asked > 99 });
    expect(asked).toBe(1);
  });
});

describe("plan reasons", () => {
  it("say what changed in words a user can act on", async () => {
    const { describeChange } = await import("../src/orchestrator/plan.js");
    expect(describeChange("nodes", '["i-1","i-2"]', '["i-1","i-2","i-3"]')).toBe("nodes (+1)");
    expect(describeChange("zones", '["a","b"]', '["a","c"]')).toBe("zones (+1 -1)");
    expect(describeChange("rules", "9355c167d2cb0feb", "4985464b8ebba9db")).toBe("rules changed");
    expect(describeChange("diskGiB", "50", "80")).toBe("diskGiB (50 → 80)");
  });

  it("tell an interrupted create from a new one", async () => {
    const w = world();
    w.cloud.crashAt = 2;
    await up(memoryConfig(), w.options).catch(() => undefined);
    w.cloud.crashAt = undefined;
    const p = await plan(memoryConfig(), w.options);
    const interrupted = p.changes.filter((c) => c.reason.includes("interrupted"));
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]?.action).toBe("create");
  });
});
