import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AbortedError } from "../../src/errors.js";
import {
  type VerifyCheck,
  type VerifyInput,
  type VerifyResolver,
  verifyCluster,
} from "../../src/verify/index.js";
import { describeWithTools, requireTools } from "../bootstrap/tools.js";

const HOST = "rancher.example.test";
const LB_IP = "203.0.113.10";
const LB_NAME = "k3s-lb-123.elb.example.test";

/** A self-signed certificate made with the openssl CLI. */
function certificate(dir: string, name: string, cn: string, san: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const r = spawnSync("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"],
    ...["-subj", `/CN=${cn}`, "-addext", `subjectAltName=${san}`, "-keyout", key, "-out", cert],
  ]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
}

/** A resolver answering from a table; a missing name is NXDOMAIN. */
const resolver = (a: Record<string, string[]>, cname: Record<string, string[]> = {}): VerifyResolver => {
  const nx = () => Object.assign(new Error("queryA ENOTFOUND"), { code: "ENOTFOUND" });
  return {
    resolve4: async (h) => a[h] ?? Promise.reject(nx()),
    resolveCname: async (h) =>
      cname[h] ?? Promise.reject(Object.assign(new Error("ENODATA"), { code: "ENODATA" })),
  };
};

const listen = <S extends Server>(s: S) => new Promise<S>((r) => s.listen(0, "127.0.0.1", () => r(s)));
const portOf = (s: Server) => (s.address() as { port: number }).port;
const byName = (checks: VerifyCheck[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

describeWithTools(["openssl"])("verifyCluster against local listeners", () => {
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  let dir: string;

  beforeAll(async () => {
    requireTools(["openssl"]);
    dir = mkdtempSync(join(tmpdir(), "k3sinfra-verify-"));
    const rancher = certificate(dir, "rancher", HOST, `DNS:${HOST}`);
    const traefik = certificate(dir, "traefik", "TRAEFIK DEFAULT CERT", "DNS:0a1b2c.3d4e5f.traefik.default");
    const other = certificate(dir, "other", "other.example.test", "DNS:other.example.test");
    const https = async (name: string, tls: { key: string; cert: string }, status: number, body: string) => {
      const s = await listen(
        createHttpsServer(tls, (req, res) => {
          const ok = req.url === "/ping" && req.headers.host === HOST;
          res.writeHead(ok ? status : 400, status === 302 ? { location: `https://${HOST}/ping` } : {});
          res.end(ok ? body : "bad request");
        }),
      );
      servers.push(s);
      ports[name] = portOf(s);
    };
    await https("rancher", rancher, 200, "pong");
    await https("traefik", traefik, 404, "404 page not found\n");
    await https("other", other, 200, "pong");
    await https("loop", rancher, 302, "");
    const plain = await listen(createServer((socket) => socket.end()));
    servers.push(plain);
    ports.http = portOf(plain);
    const closed = await listen(createServer());
    ports.closed = portOf(closed);
    await new Promise((r) => closed.close(r));
  });

  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (https: string, over: Partial<VerifyInput> = {}) =>
    verifyCluster({
      hostname: HOST,
      expectedTargets: { ips: [LB_IP] },
      resolver: resolver({ [HOST]: [LB_IP] }),
      connect: (port) => ({ host: "127.0.0.1", port: port === 80 ? ports.http! : ports[https]! }),
      timeoutMs: 5_000,
      ...over,
    });

  it("passes every check when DNS, ports, certificate and Rancher are right", async () => {
    const checks = await run("rancher");
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ["dns", "pass"],
      ["tcp:80", "pass"],
      ["tcp:443", "pass"],
      ["tls", "pass"],
      ["ping", "pass"],
    ]);
    expect(byName(checks).tls!.detail).toContain("not trusted by this machine");
  });

  it("accepts a CNAME to the LB's host name, and an alias whose A records are the LB's", async () => {
    const cname = await run("rancher", {
      expectedTargets: { hostnames: [LB_NAME] },
      resolver: resolver({ [HOST]: ["198.51.100.4"] }, { [HOST]: [`${LB_NAME}.`] }),
    });
    expect(byName(cname).dns).toMatchObject({ status: "pass", detail: expect.stringContaining("CNAME") });
    const alias = await run("rancher", {
      expectedTargets: { hostnames: [LB_NAME] },
      resolver: resolver({ [HOST]: ["198.51.100.4"], [LB_NAME]: ["198.51.100.4", "198.51.100.5"] }),
    });
    expect(byName(alias).dns!.status).toBe("pass");
  });

  it("fails DNS that points elsewhere or does not resolve", async () => {
    const elsewhere = byName(await run("rancher", { resolver: resolver({ [HOST]: ["198.51.100.99"] }) }));
    expect(elsewhere.dns).toMatchObject({ status: "fail", detail: expect.stringContaining("198.51.100.99") });
    const missing = byName(await run("rancher", { resolver: resolver({}) }));
    expect(missing.dns).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("does not resolve"),
    });
  });

  it("reports Traefik's default certificate and its 404 as skipped: Rancher is not installed yet", async () => {
    const checks = byName(await run("traefik"));
    expect(checks.tls).toMatchObject({
      status: "skip",
      detail: expect.stringContaining("Traefik's default"),
    });
    expect(checks.ping).toMatchObject({ status: "skip", detail: expect.stringContaining("404") });
  });

  it("fails a certificate that does not cover the hostname", async () => {
    const checks = byName(await run("other"));
    expect(checks.tls).toMatchObject({ status: "fail", detail: expect.stringContaining("does not cover") });
    expect(checks.ping!.status).toBe("pass");
  });

  it("fails a redirecting /ping with the forwarded-headers hint", async () => {
    const checks = byName(await run("loop"));
    expect(checks.ping).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("forwardedHeaders"),
    });
  });

  it("fails a closed port and skips what depends on 443", async () => {
    const checks = byName(await run("closed"));
    expect(checks["tcp:443"]).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("ECONNREFUSED"),
    });
    expect(checks["tcp:80"]!.status).toBe("pass");
    expect(checks.tls!.status).toBe("skip");
    expect(checks.ping!.status).toBe("skip");
  });

  it("skips TLS and /ping when tls is false, and stops on abort", async () => {
    const checks = byName(await run("rancher", { tls: false }));
    expect([checks.tls!.status, checks.ping!.status]).toEqual(["skip", "skip"]);
    await expect(run("rancher", { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });
});
