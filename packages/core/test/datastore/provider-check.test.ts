import { describe, expect, it } from "vitest";
import {
  InvalidConfigError,
  MemoryStateStore,
  ProviderRegistry,
  up,
  validateConfig,
} from "../../src/index.js";
import { createMemoryProvider, MemoryCloud } from "../../src/testing/index.js";
import { memoryConfig } from "../helpers.js";

/** The in-memory provider, declaring that its datastore service checks the server itself (as hosts does). */
const selfChecking = (cloud: MemoryCloud) => {
  const memory = createMemoryProvider(cloud);
  return { ...memory, capabilities: { ...memory.capabilities, datastoreCheck: "provider" as const } };
};

describe("a provider whose datastore service checks the server itself", () => {
  const options = (cloud: MemoryCloud) => ({
    registry: new ProviderRegistry().register(selfChecking(cloud)),
    state: new MemoryStateStore(),
    poll: { minDelayMs: 1, maxDelayMs: 2 },
  });

  it("refuses datastore.check: required before any call, naming the path", async () => {
    const cloud = new MemoryCloud();
    const error = await validateConfig(
      memoryConfig({ datastore: { deletionProtection: false, check: "required" } }),
      options(cloud),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    const issue = (error as InvalidConfigError).issues.find((i) => i.path === "datastore.check");
    expect(issue?.message).toMatch(/checks the server itself.*use auto or off/);
    expect(cloud.calls).toEqual([]);
  });

  it("skips core's check under auto, saying who checked, and records it", async () => {
    const cloud = new MemoryCloud();
    const messages: string[] = [];
    const o = options(cloud);
    await up(memoryConfig(), {
      ...o,
      onEvent: (e) => {
        if ("message" in e && e.message) messages.push(e.message);
      },
    });
    expect(messages).toContain(
      "Datastore check skipped: the memory provider checked the server when it created the database.",
    );
    const state = await o.state.read();
    expect((state?.resources.bootstrap?.state as { datastore?: unknown } | undefined)?.datastore).toEqual({
      status: "skipped",
      reason: "the memory provider checked the server when it created the database",
    });
  });
});
