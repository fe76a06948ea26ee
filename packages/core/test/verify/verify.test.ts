import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
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
  openssl([
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"],
    ...["-subj", `/CN=${cn}`, "-addext", `subjectAltName=${san}`, "-keyout", key, "-out", cert],
  ]);
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
}

/** A CA (like Rancher's dynamiclistener-ca) and a leaf for `host` signed by it, made with the openssl CLI. */
function caSigned(dir: string, host: string): { ca: string; key: string; cert: string } {
  const f = (n: string) => join(dir, n);
  openssl([
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"],
    ...["-subj", "/O=dynamiclistener-org/CN=dynamiclistener-ca", "-keyout", f("ca.key"), "-out", f("ca.pem")],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  openssl([
    ...["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-subj", `/CN=${host}`, "-keyout", f("leaf.key"), "-out", f("leaf.csr")],
  ]);
  writeFileSync(f("leaf.ext"), `subjectAltName=DNS:${host}\nextendedKeyUsage=serverAuth\n`);
  openssl([
    ...["x509", "-req", "-in", f("leaf.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial"],
    ...["-days", "2", "-extfile", f("leaf.ext"), "-out", f("leaf.pem")],
  ]);
  return {
    ca: readFileSync(f("ca.pem"), "utf8"),
    key: readFileSync(f("leaf.key"), "utf8"),
    cert: readFileSync(f("leaf.pem"), "utf8"),
  };
}

function openssl(args: string[]): void {
  const r = spawnSync("openssl", args);
  if (r.status !== 0) throw new Error(r.stderr.toString());
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

  const TOKEN = "token-abc12:secretsecret";
  let rancherCa: string;

  beforeAll(async () => {
    requireTools(["openssl"]);
    dir = mkdtempSync(join(tmpdir(), "k3sinfra-verify-"));
    const signed = caSigned(dir, HOST);
    rancherCa = signed.ca;
    const selfSigned = certificate(dir, "rancher", HOST, `DNS:${HOST}`);
    const traefik = certificate(dir, "traefik", "TRAEFIK DEFAULT CERT", "DNS:0a1b2c.3d4e5f.traefik.default");
    const other = certificate(dir, "other", "other.example.test", "DNS:other.example.test");
    type Handler = (req: IncomingMessage, res: ServerResponse) => void;
    const json = (res: ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    // What Rancher answers: /ping, the CA it publishes without login, and server-url only to a token.
    const rancherApi =
      (opts: { cacerts?: string; serverUrl?: string; ping?: { status: number; body: string } }): Handler =>
      (req, res) => {
        if (req.headers.host !== HOST) return json(res, 400, { message: "bad host" });
        if (req.url === "/ping") {
          const p = opts.ping ?? { status: 200, body: "pong" };
          res.writeHead(p.status, p.status === 302 ? { location: `https://${HOST}/ping` } : {});
          return res.end(p.body);
        }
        if (req.url === "/v3/settings/cacerts" && opts.cacerts)
          return json(res, 200, { value: opts.cacerts });
        if (req.url === "/v3/settings/server-url") {
          if (req.headers.authorization !== `Bearer ${TOKEN}`)
            return json(res, 401, { type: "error", status: "401", message: "must authenticate" });
          return json(res, 200, { id: "server-url", value: opts.serverUrl ?? `https://${HOST}` });
        }
        return json(res, 404, { message: "not found" });
      };
    const https = async (name: string, tls: { key: string; cert: string }, handler: Handler) => {
      const s = await listen(createHttpsServer(tls, handler));
      servers.push(s);
      ports[name] = portOf(s);
    };
    const http = async (name: string, handler: Handler) => {
      const s = await listen(createHttpServer(handler));
      servers.push(s);
      ports[name] = portOf(s);
    };
    await https("rancher", signed, rancherApi({ cacerts: signed.ca }));
    await https("selfsigned", selfSigned, rancherApi({}));
    await https(
      "wrongurl",
      signed,
      rancherApi({ cacerts: signed.ca, serverUrl: "https://other.example.test" }),
    );
    await https("traefik", traefik, (_req, res) => {
      res.writeHead(404);
      res.end("404 page not found\n");
    });
    await https("other", other, rancherApi({}));
    await https("loop", signed, rancherApi({ cacerts: signed.ca, ping: { status: 302, body: "" } }));
    const redirectTo =
      (location: string | undefined, status = 302): Handler =>
      (req, res) => {
        if (req.headers.host !== HOST || req.url !== "/") return json(res, 400, { message: "bad request" });
        res.writeHead(status, location ? { location } : {});
        res.end(location ? "" : "Rancher over plain HTTP");
      };
    await http("http", redirectTo(`https://${HOST}/`));
    await http("http301", redirectTo(`https://${HOST}/`, 301));
    await http("plain", redirectTo(undefined, 200));
    await http("httpsElsewhere", redirectTo("https://other.example.test/"));
    await http("httpLoop", redirectTo(`http://${HOST}/`));
    await http("http404", (_req, res) => {
      res.writeHead(404);
      res.end("404 page not found\n");
    });
    const closed = await listen(createServer());
    ports.closed = portOf(closed);
    await new Promise((r) => closed.close(r));
  });

  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (https: string, over: Partial<VerifyInput> & { http?: string } = {}) => {
    const { http = "http", ...rest } = over;
    return verifyCluster({
      hostname: HOST,
      expectedTargets: { ips: [LB_IP] },
      resolver: resolver({ [HOST]: [LB_IP] }),
      connect: (port) => ({ host: "127.0.0.1", port: port === 80 ? ports[http]! : ports[https]! }),
      timeoutMs: 5_000,
      ...rest,
    });
  };

  it("passes every check when DNS, ports, redirect, certificate and Rancher are right", async () => {
    const checks = await run("rancher", { ca: [rancherCa], rancherToken: TOKEN });
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ["dns", "pass"],
      ["tcp:80", "pass"],
      ["tcp:443", "pass"],
      ["redirect", "pass"],
      ["tls", "pass"],
      ["ping", "pass"],
      ["server-url", "pass"],
    ]);
    const by = byName(checks);
    expect(by.redirect!.detail).toBe(`http://${HOST}/ redirects (302) to https://${HOST}/`);
    expect(by.tls!.detail).toContain("trusted by this machine");
    expect(by["server-url"]!.detail).toBe(`Rancher's server-url is https://${HOST}`);
  });

  it("passes a certificate from Rancher's own CA (published at /v3/settings/cacerts) and says browsers warn", async () => {
    const tls = byName(await run("rancher", { ca: [] })).tls!;
    expect(tls.status).toBe("pass");
    expect(tls.detail).toContain("signed by Rancher's own CA");
    expect(tls.detail).toContain("does not trust");
  });

  it("fails a certificate this machine does not trust when Rancher publishes no CA for it", async () => {
    const tls = byName(await run("selfsigned", { ca: [rancherCa] })).tls!;
    expect(tls).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("not trusted by this machine"),
    });
    // Its own CA does not rescue a certificate the published CA did not sign.
    const checks = byName(await run("selfsigned", { ca: [] }));
    expect(checks.tls!.status).toBe("fail");
    expect(checks.ping!.status).toBe("pass");
  });

  it("skips server-url without a token (Rancher shows it only to a logged-in user) and fails a wrong one", async () => {
    const anonymous = byName(await run("rancher", { ca: [rancherCa] }))["server-url"]!;
    expect(anonymous).toMatchObject({ status: "skip", detail: expect.stringContaining("logged-in user") });
    expect(anonymous.detail).toContain("HTTP 401");
    const wrong = byName(await run("wrongurl", { ca: [rancherCa], rancherToken: TOKEN }))["server-url"]!;
    expect(wrong).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("is https://other.example.test, not https://rancher.example.test"),
    });
    const refused = byName(await run("rancher", { ca: [rancherCa], rancherToken: "token-x:wrong" }))[
      "server-url"
    ]!;
    expect(refused).toMatchObject({ status: "fail", detail: expect.stringContaining("refused the token") });
  });

  it("checks that plain HTTP redirects to https://<hostname>/", async () => {
    expect(byName(await run("rancher", { http: "http301" })).redirect!.status).toBe("pass");
    const plain = byName(await run("rancher", { http: "plain" })).redirect!;
    expect(plain).toMatchObject({ status: "fail", detail: expect.stringContaining("answered HTTP 200") });
    const elsewhere = byName(await run("rancher", { http: "httpsElsewhere" })).redirect!;
    expect(elsewhere).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("to https://other.example.test/, not to https://rancher.example.test/"),
    });
    expect(byName(await run("rancher", { http: "httpLoop" })).redirect!.status).toBe("fail");
    expect(byName(await run("rancher", { http: "http404" })).redirect).toMatchObject({
      status: "skip",
      detail: expect.stringContaining("no Rancher ingress yet"),
    });
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
    const checks = byName(await run("traefik", { http: "http404" }));
    expect(checks.redirect!.status).toBe("skip");
    expect(checks["server-url"]).toMatchObject({ status: "skip", detail: expect.stringContaining("404") });
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
    expect(checks.redirect!.status).toBe("pass");
    for (const name of ["tls", "ping", "server-url"])
      expect(checks[name], name).toMatchObject({ status: "skip", detail: "port 443 is not reachable" });
    const no80 = byName(await run("rancher", { http: "closed", ca: [rancherCa] }));
    expect(no80["tcp:80"]!.status).toBe("fail");
    expect(no80.redirect).toMatchObject({ status: "skip", detail: "port 80 is not reachable" });
    expect(no80.ping!.status).toBe("pass");
  });

  it("skips the HTTP(S) checks when tls is false, and stops on abort", async () => {
    const checks = byName(await run("rancher", { tls: false }));
    expect(["redirect", "tls", "ping", "server-url"].map((n) => checks[n]!.status)).toEqual([
      "skip",
      "skip",
      "skip",
      "skip",
    ]);
    await expect(run("rancher", { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });
});

it("offline: every check is skipped with the reason, and nothing is resolved or connected", async () => {
  const touched: string[] = [];
  const checks = await verifyCluster({
    hostname: HOST,
    expectedTargets: { ips: [LB_IP] },
    resolver: {
      resolve4: async (h) => {
        touched.push(h);
        return [];
      },
      resolveCname: async (h) => {
        touched.push(h);
        return [];
      },
    },
    connect: (port) => {
      touched.push(String(port));
      return { host: "127.0.0.1", port: 9 };
    },
    offline: "the emulated cloud serves no DNS and no traffic",
  });
  expect(checks.map((c) => [c.name, c.status])).toEqual(
    ["dns", "tcp:80", "tcp:443", "redirect", "tls", "ping", "server-url"].map((n) => [n, "skip"]),
  );
  expect(new Set(checks.map((c) => c.detail))).toEqual(
    new Set(["the emulated cloud serves no DNS and no traffic"]),
  );
  expect(touched).toEqual([]);
});
