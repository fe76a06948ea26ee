import {
  FaultParseError,
  faultSpecsOf,
  parseLatency,
  parseOperationFault,
  parseRate,
  parseSeed,
} from "@k3sinfra/emulator/faults";
import { describe, expect, it } from "vitest";

/** What a front end catches: the problem and the offending part, to word for its own option names. */
const problemOf = (parse: () => unknown): [string, string] | undefined => {
  try {
    parse();
    return undefined;
  } catch (err) {
    if (!(err instanceof FaultParseError)) throw err;
    return [err.problem, err.value];
  }
};

describe("@k3sinfra/emulator/faults: the one fault parser (the bin's options use it)", () => {
  it("parses seeds, rates, latencies and failing operations", () => {
    expect(parseSeed("7")).toBe(7);
    expect(parseRate("0.2")).toBe(0.2);
    expect(parseLatency("250")).toEqual({ ms: 250, rate: 1 });
    expect(parseLatency(" 1000:0.1 ")).toEqual({ ms: 1000, rate: 0.1 });
    expect(parseOperationFault("imds:GetMetadata")).toEqual({
      service: "imds",
      operation: "GetMetadata",
      kind: "error500",
    });
    expect(parseOperationFault("rds:CreateDBInstance=unavailable503").kind).toBe("unavailable503");
    // Google's method names and Azure's operation ids, as the request log spells them.
    expect(parseOperationFault("compute:instances.insert=throttle")).toEqual({
      service: "compute",
      operation: "instances.insert",
      kind: "throttle",
    });
    expect(parseOperationFault("dbformysql:databases_CreateOrUpdate")).toEqual({
      service: "dbformysql",
      operation: "databases_CreateOrUpdate",
      kind: "error500",
    });
    expect(parseOperationFault("sqladmin:instances.insert").service).toBe("sqladmin");
  });

  it("says what is wrong and with which part, not which flag", () => {
    expect(problemOf(() => parseSeed("-1"))).toEqual(["seed", "-1"]);
    expect(problemOf(() => parseRate(""))).toEqual(["rate", ""]);
    expect(problemOf(() => parseRate("1.01"))).toEqual(["rate", "1.01"]);
    expect(problemOf(() => parseLatency("1e3"))).toEqual(["latency", "1e3"]);
    expect(problemOf(() => parseLatency("600001"))).toEqual(["latency", "600001"]);
    expect(problemOf(() => parseLatency("100:2"))).toEqual(["latency-rate", "2"]);
    expect(problemOf(() => parseOperationFault("RunInstances"))).toEqual(["operation", "RunInstances"]);
    expect(problemOf(() => parseOperationFault("ec3:RunInstances"))).toEqual(["service", "ec3"]);
    expect(problemOf(() => parseOperationFault("ec2:RunInstances=boom"))).toEqual(["kind", "boom"]);
  });

  it("orders the faults: named operations first, then throttling, 5xx split evenly, latency; zeros add none", () => {
    const specs = faultSpecsOf({
      fail: [{ service: "ec2", operation: "RunInstances", kind: "throttle" }],
      throttle: 0.2,
      fiveXx: 0.1,
      latency: { ms: 300, rate: 0.5 },
    });
    expect(specs.map((s) => s.kind)).toEqual(["throttle", "throttle", "error500", "unavailable503", "slow"]);
    const [p500, p503] = [specs[2]?.rate ?? 0, specs[3]?.rate ?? 0];
    expect(p500).toBeCloseTo(0.05);
    expect(p500 + (1 - p500) * p503).toBeCloseTo(0.1);
    expect(faultSpecsOf({ throttle: 0, fiveXx: 0, latency: { ms: 0, rate: 1 } })).toEqual([]);
    expect(faultSpecsOf({ latency: { ms: 100, rate: 0 } })).toEqual([]);
  });
});
