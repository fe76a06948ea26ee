import { describe, expect, it } from "vitest";
import { parseFailBoot } from "../src/emulate.js";
import { UsageError } from "../src/render/errors.js";

describe("K3SINFRA_EMULATE_FAIL_BOOT", () => {
  it("names a server, the stage its bootstrap fails at and, optionally, why", () => {
    expect(parseFailBoot(undefined)).toBeUndefined();
    expect(parseFailBoot("")).toBeUndefined();
    expect(parseFailBoot("node-1:datastore")).toEqual({ node: "node-1", stage: "datastore" });
    expect(parseFailBoot(" node-0:k3s-install:curl: (6) Could not resolve host ")).toEqual({
      node: "node-0",
      stage: "k3s-install",
      reason: "curl: (6) Could not resolve host",
    });
  });
  it("refuses anything else as a usage error, listing the stages", () => {
    expect(() => parseFailBoot("node-1")).toThrow(UsageError);
    expect(() => parseFailBoot("server-1:datastore")).toThrow(UsageError);
    expect(() => parseFailBoot("node-1:boot")).toThrow(/secrets, metadata, datastore, k3s-install/);
  });
});
