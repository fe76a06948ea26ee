import {
  CALL_MAX_ATTEMPTS,
  K3sinfraError,
  MemoryStateStore,
  NetworkService,
  NodeService,
  PartialFailureError,
  type ProgressEvent,
  ProviderRegistry,
  up,
} from "@k3sinfra/core";
import { afterEach, describe, expect, it } from "vitest";
import { aws, mapAwsError } from "../src/index.js";
import { type Harness, networkSpec, REGION, startHarness, ZONES } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

describe("one retry budget per call", () => {
  it("a persistent 500 on RunInstances: each node's call is tried CALL_MAX_ATTEMPTS times, not × the resource retries", async () => {
    h = await startHarness(
      { faults: [{ service: "ec2", operation: "RunInstances", kind: "error500" }] },
      "rbud",
    );
    const events: ProgressEvent[] = [];
    const error = await up(
      {
        name: "rbud",
        provider: "aws",
        region: REGION,
        zones: [...ZONES],
        dns: { zone: "example.com" },
        rancher: { hostname: "rancher.rbud.example.com" },
        datastore: { deletionProtection: false },
      },
      {
        registry: new ProviderRegistry().register(aws),
        state: new MemoryStateStore(),
        env: h.env,
        poll: { minDelayMs: 5, maxDelayMs: 50 },
        onEvent: (e) => events.push(e),
      },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PartialFailureError);
    const failures = (error as PartialFailureError).failures.filter((f) => f.resource.startsWith("node-"));
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(K3sinfraError.is(f.error)).toBe(true);
      const e = f.error as K3sinfraError;
      // Named operation, AWS code, HTTP status, request id, and the attempts the budget made.
      expect(e.message).toMatch(/^EC2 RunInstances \(.+\) failed: InternalError: /);
      expect(e.message).toContain("(HTTP 500, request id ");
      expect(e.message).toMatch(UUID);
      expect(e.message).toContain(`gave up after ${CALL_MAX_ATTEMPTS} attempts`);
      expect(e.message).not.toMatch(/XML|Deserialization/i);
      expect([e.httpStatus, e.attempts]).toEqual([500, CALL_MAX_ATTEMPTS]);
      expect(e.requestId).toMatch(UUID);
    }
    // One budget per call: the orchestrator's resource-level retry did not repeat the exhausted call.
    const runs = h.emulator.requestLog().filter((x) => x.operation === "RunInstances");
    expect(runs.every((x) => x.status === 500 && x.fault === "error500")).toBe(true);
    expect(h.emulator.callCounts()["ec2:RunInstances"]).toBe(CALL_MAX_ATTEMPTS * failures.length);
    const nodeRetries = events.filter(
      (e) => e.type === "resource" && e.phase === "retry" && e.resource.startsWith("node-"),
    );
    expect(nodeRetries).toEqual([]);
  });

  it("a proxy's plain-text 500 is reported by its status, not as an XML parse error", async () => {
    h = await startHarness({}, "rbt");
    const network = await h.container().resolve(NetworkService).create(networkSpec("l4"), h.ctx("network"));
    h.emulator.addFault({ service: "ec2", operation: "RunInstances", kind: "error500", plainText: true });
    const reports: string[] = [];
    const error = await h
      .container()
      .resolve(NodeService)
      .create(
        {
          index: 0,
          zone: ZONES[0],
          size: { vcpus: 2, memoryGiB: 4 },
          diskGiB: 30,
          image: "ubuntu-24.04",
          userData: "#cloud-config\n",
          userDataHash: "h",
          network,
        },
        h.ctx("node-0", { report: (m) => reports.push(m) }),
      )
      .catch((e: unknown) => e);

    expect(K3sinfraError.is(error, "ProviderError")).toBe(true);
    const e = error as K3sinfraError;
    expect(e.message).toMatch(
      /^EC2 RunInstances \(.+\) failed: AWS answered HTTP 500 without an AWS error document: "Internal Server Error"/,
    );
    expect(e.message).not.toMatch(/XML|Deserialization/i);
    expect(e.message).toContain(`gave up after ${CALL_MAX_ATTEMPTS} attempts`);
    expect([e.httpStatus, e.attempts]).toEqual([500, CALL_MAX_ATTEMPTS]);
    expect(reports.filter((m) => /RunInstances \(.+\): HTTP 500, retry/.test(m))).toHaveLength(
      CALL_MAX_ATTEMPTS - 1,
    );
    expect(h.emulator.callCounts()["ec2:RunInstances"]).toBe(CALL_MAX_ATTEMPTS);
  });

  it("an HTML or empty 5xx (the SDK's codeless `Unknown` error) is named by its status and request id", () => {
    // The shape @aws-sdk/client-elastic-load-balancing-v2 throws for a 502 with an HTML body, as observed.
    const sdkError = Object.assign(new Error("Unknown"), {
      name: "Unknown",
      $fault: "server",
      $metadata: { httpStatusCode: 502, requestId: "5d0c1b2a-0000-4000-8000-000000000001" },
    });
    const e = mapAwsError(sdkError, "ELBv2 CreateLoadBalancer (k3s-prod)");
    expect(e.message).toBe(
      "ELBv2 CreateLoadBalancer (k3s-prod) failed: AWS answered HTTP 502 without an AWS error document (request id 5d0c1b2a-0000-4000-8000-000000000001)",
    );
    expect([e.code, e.retryable, e.httpStatus]).toEqual(["ProviderError", true, 502]);
  });
});
