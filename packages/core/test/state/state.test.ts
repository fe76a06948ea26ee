import { describe, expect, it } from "vitest";
import { assertWritable, emptyState, nextState, StateConflictError } from "../../src/state/index.js";
import { STATE_VERSION } from "../../src/state/types.js";

describe("emptyState / nextState", () => {
  it("makes a fresh state with a new lineage each time", () => {
    const a = emptyState("prod");
    const b = emptyState("prod");
    expect(a).toMatchObject({
      version: STATE_VERSION,
      serial: 0,
      cluster: "prod",
      resources: {},
      journal: [],
    });
    expect(a.secrets).toBeUndefined();
    expect(a.lineage).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.lineage).not.toBe(b.lineage);
  });

  it("bumps the serial and keeps identity fields", () => {
    const a = emptyState("prod");
    const b = nextState(a, { hostname: "r.example.com" });
    expect(b).toMatchObject({ serial: 1, lineage: a.lineage, cluster: "prod", hostname: "r.example.com" });
    expect(nextState(b).serial).toBe(2);
    expect(a.serial).toBe(0);
  });

  it("assertWritable accepts only the next serial of the same lineage", () => {
    const a = emptyState("prod");
    const b = nextState(a);
    expect(() => assertWritable(undefined, b, "x")).not.toThrow();
    expect(() => assertWritable(a, b, "x")).not.toThrow();
    expect(() => assertWritable(b, b, "x")).toThrow(StateConflictError);
    expect(() => assertWritable(a, nextState(b), "x")).toThrow(/serial 0.*must be serial 1, not 2/);
    expect(() => assertWritable(a, nextState(emptyState("prod")), "x")).toThrow(/different state/);
  });
});
