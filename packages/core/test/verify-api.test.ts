import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { up, verify } from "../src/index.js";
import { memoryConfig, world } from "./helpers.js";

const listen = (s: Server) =>
  new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as { port: number }).port)));

describe("verify (API)", () => {
  it("checks the recorded cluster: DNS must point at the recorded LB, each port is probed", async () => {
    const w = world();
    const config = memoryConfig();
    const { outputs } = await up(config, w.options);
    const lbIp = outputs.loadBalancer.ips?.[0] ?? "";
    const http = createServer((socket) => socket.end());
    const port80 = await listen(http);
    try {
      const resolver = (answer: string[]) => ({
        resolve4: async (host: string) => (host === "rancher.example.com" ? answer : []),
        resolveCname: async () => Promise.reject(Object.assign(new Error("ENODATA"), { code: "ENODATA" })),
      });
      // 443 points at a port nobody listens on.
      const connect = (port: number) => ({ host: "127.0.0.1", port: port === 80 ? port80 : 1 });
      const good = await verify(config, {
        ...w.options,
        resolver: resolver([lbIp]),
        connect,
        timeoutMs: 2_000,
      });
      expect(good.map((c) => [c.name, c.status])).toEqual([
        ["dns", "pass"],
        ["tcp:80", "pass"],
        ["tcp:443", "fail"],
        // Port 80 accepts and hangs up without an HTTP answer: no redirect to https.
        ["redirect", "fail"],
        ["tls", "skip"],
        ["ping", "skip"],
        ["server-url", "skip"],
      ]);
      expect(good.find((c) => c.name === "redirect")?.detail).toContain("http://rancher.example.com/ failed");
      const wrong = await verify(config, {
        ...w.options,
        resolver: resolver(["192.0.2.99"]),
        connect,
        timeoutMs: 2_000,
      });
      expect(wrong.find((c) => c.name === "dns")).toMatchObject({ status: "fail" });
      expect(wrong.find((c) => c.name === "dns")?.detail).toContain(lbIp);
    } finally {
      http.close();
    }
  });
});
