import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { emptyState, nextState } from "../../src/state/index.js";
import type { ClusterState } from "../../src/state/types.js";

/** Secret values distinctive enough to grep for in the bytes on disk. */
export const SECRETS = {
  k3sToken: "K10-token-4f1b9e7d2c",
  datastorePassword: "dbpw-Zq8xV3mL0pR6",
  rancherBootstrapPassword: "rancher-Ty5nW2hK9s",
  datastoreK3sPassword: "k3s-Qm4vX8cJ2r",
} as const;

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 3 })));
});

/** A temp directory removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "k3sinfra-state-"));
  dirs.push(dir);
  return dir;
}

/** A state at serial 1 with a resource, a journal entry, secrets and outputs. */
export function sampleState(cluster = "prod"): ClusterState {
  return nextState(emptyState(cluster), {
    hostname: "rancher.example.com",
    resources: {
      "node-1": {
        resource: "node-1",
        kind: "nodes",
        provider: "aws",
        generation: 1,
        inputs: { size: "h1" },
        state: { id: "i-0abc", privateIp: "10.0.1.10" },
        createdAt: "2026-01-01T00:00:00.000Z",
        updatedAt: "2026-01-01T00:00:00.000Z",
      },
    },
    journal: [
      {
        id: "intent-1",
        resource: "lb",
        action: "create",
        token: "tok-1",
        name: "prod-lb",
        generation: 1,
        startedAt: "2026-01-01T00:00:01.000Z",
      },
    ],
    secrets: { ...SECRETS },
    outputs: { rancherUrl: "https://rancher.example.com" },
  });
}
