// The clusters of one fleet run (bench/fleet.ts) in a process of their own: plain Node on the built packages
// (core and the AWS provider from their bundles, no tsx, no `@k3sinfra/source` condition), as a tool using the
// library would run, against the emulator the parent runs. Reads `{ configs, env, poll }` as JSON on stdin;
// brings every config up at once; prints its own memory as JSON on stdout (`FleetChildReport`, fleet.ts).
import { MemoryStateStore, ProviderRegistry, up } from "@k3sinfra/core";
import { aws } from "@k3sinfra/provider-aws";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { configs, env, poll } = JSON.parse(input);
const registry = new ProviderRegistry().register(aws);
await Promise.all(
  configs.map((config) => up(config, { registry, state: new MemoryStateStore(), env, poll })),
);
globalThis.gc?.();
process.stdout.write(
  `${JSON.stringify({
    maxRssMb: (process.resourceUsage().maxRSS * 1024) / 1e6,
    liveHeapMb: process.memoryUsage().heapUsed / 1e6,
  })}\n`,
);
