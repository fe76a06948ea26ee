import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";

// The root export of @k3sinfra/core is its public API: named exports only, and any change to the list is a
// change to that API, made on purpose (update the list with `vitest -u` and say so in the commit).
describe("@k3sinfra/core's root export", () => {
  const names = Object.keys(core).sort();

  it("has no default export", () => {
    expect(names).not.toContain("default");
  });

  it("is exactly the checked-in list of names", async () => {
    await expect(`${names.join("\n")}\n`).toMatchFileSnapshot("./fixtures/core-exports.txt");
  });
});
