import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { aws } from "@k3sinfra/provider-aws";
import { azure } from "@k3sinfra/provider-azure";
import { cloudflare } from "@k3sinfra/provider-cloudflare";
import { gcp } from "@k3sinfra/provider-gcp";
import { hosts } from "@k3sinfra/provider-hosts";
import { describe, expect, it } from "vitest";
import { supportMatrix } from "../src/support-matrix.js";

const page = fileURLToPath(new URL("../../../docs/providers.md", import.meta.url));
const START = "<!-- support-matrix:start -->";
const END = "<!-- support-matrix:end -->";

describe("docs/providers.md's support matrix", () => {
  it("is what the built-in providers' capabilities say (K3SINFRA_UPDATE_DOCS=1 rewrites it)", () => {
    const table = supportMatrix([aws, gcp, azure, hosts, cloudflare]);
    const text = readFileSync(page, "utf8");
    const [before, rest] = text.split(START) as [string, string];
    const after = rest.split(END)[1]!;
    const written = `${before}${START}\n${table}\n${END}${after}`;
    if (process.env.K3SINFRA_UPDATE_DOCS === "1") writeFileSync(page, written);
    expect(text, `docs/providers.md is out of date; the table:\n${table}`).toBe(written);
  });

  it("lists each provider's own limits: a capability taken away shows in the table", () => {
    const narrowed = { ...aws, capabilities: { ...aws.capabilities, loadBalancerModes: ["l4" as const] } };
    const row = (table: string) => table.split("\n").at(-1)!;
    expect(row(supportMatrix([narrowed]))).not.toContain("L7");
    expect(row(supportMatrix([aws]))).toContain("L4, L7");
  });
});
