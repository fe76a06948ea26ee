import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { destroy, InvalidConfigError, MemoryStateStore, ProviderRegistry, up } from "../src/index.js";
import { memoryConfig } from "./helpers.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

describe("custom providers", () => {
  it("loads a provider module named by path in the config and runs the whole cycle with it", async () => {
    const options = {
      baseDir: fixtures,
      registry: new ProviderRegistry(),
      state: new MemoryStateStore(),
      poll: { minDelayMs: 1, maxDelayMs: 2 },
    };
    const config = memoryConfig({ provider: "./custom-provider.ts" });
    const result = await up(config, options);
    expect(result.outputs.nodes).toHaveLength(2);
    const { cloud } = (await import(
      "./fixtures/custom-provider.js"
    )) as typeof import("./fixtures/custom-provider.js");
    expect(cloud.inventory()).toHaveLength(6);
    await destroy(config, options);
    expect(cloud.inventory()).toEqual([]);
  });

  it("says what to do when the module exports no descriptor", async () => {
    const error = await up(memoryConfig({ provider: "./helpers-not-a-provider.ts" }), {
      baseDir: fixtures,
      registry: new ProviderRegistry(),
      state: new MemoryStateStore(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).issues[0]?.path).toBe("provider");
  });
});
