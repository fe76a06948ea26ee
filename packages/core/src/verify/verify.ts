import { AbortedError } from "../errors.js";
import { checkDns } from "./dns.js";
import { httpGet } from "./http.js";
import { tcpProbe, tlsProbe } from "./net.js";
import { httpsPing } from "./ping.js";
import type { ConnectTarget, VerifyCheck, VerifyInput, VerifyResolver } from "./types.js";

const reason = (e: unknown): string => {
  const err = e as { code?: string; message?: string };
  return err.code && !err.message?.includes(err.code)
    ? `${err.code}: ${err.message}`
    : (err.message ?? String(e));
};

/**
 * Checks the cluster from this machine, as a Rancher user would reach it: the hostname resolves to the
 * LB, each port accepts TCP, `http://<hostname>/` redirects to `https://<hostname>/`, the certificate is
 * valid and covers the hostname, `https://<hostname>/ping` answers `pong` (the checks docs/cli.md lists under `verify`),
 * and Rancher's `server-url` setting is `https://<hostname>`. Before Rancher is installed Traefik serves its
 * self-signed default certificate and 404: those are reported as `skip` with that reason, because the
 * infrastructure is right and only Rancher is missing. Never throws for a failed check; throws
 * `AbortedError` when the signal aborts.
 */
export async function verifyCluster(input: VerifyInput): Promise<VerifyCheck[]> {
  const ports = input.ports ?? [80, 443];
  if (input.offline !== undefined) {
    const names = ["dns", ...ports.map((p) => `tcp:${p}`), "redirect", "tls", "ping", "server-url"];
    return names.map((name) => ({ name, status: "skip" as const, detail: input.offline! }));
  }
  const timeoutMs = input.timeoutMs ?? 10_000;
  const resolver: VerifyResolver =
    input.resolver ??
    new (process.getBuiltinModule("node:dns/promises").Resolver)({ timeout: timeoutMs, tries: 2 });
  const target = input.connect ?? ((port: number) => ({ host: input.hostname, port }));
  const signal = input.signal;
  const guard = () => {
    if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
  };
  guard();
  const checks: VerifyCheck[] = [await checkDns(input, resolver)];

  const reachable = new Map<number, boolean>();
  for (const port of ports) {
    guard();
    const name = `tcp:${port}`;
    try {
      await tcpProbe(target, port, timeoutMs, signal);
      reachable.set(port, true);
      checks.push({ name, status: "pass", detail: `${input.hostname}:${port} accepts connections` });
    } catch (e) {
      guard();
      reachable.set(port, false);
      checks.push({
        name,
        status: "fail",
        detail: `${input.hostname}:${port} does not accept connections (${reason(e)}); check the LB listener and firewall`,
      });
    }
  }

  guard();
  const later = ["tls", "ping", "server-url"];
  if (input.tls === false) {
    for (const name of ["redirect", ...later])
      checks.push({ name, status: "skip", detail: "not checked (tls: false)" });
    return checks;
  }
  const ctx: CheckContext = { hostname: input.hostname, target, timeoutMs, signal, ca: input.ca };
  if (reachable.get(80) === false)
    checks.push({ name: "redirect", status: "skip", detail: "port 80 is not reachable" });
  else checks.push(await redirectCheck(ctx).catch(rethrowIfAborted(signal)));
  if (reachable.get(443) === false) {
    for (const name of later) checks.push({ name, status: "skip", detail: "port 443 is not reachable" });
    return checks;
  }
  guard();
  checks.push(await tlsCheck(ctx).catch(rethrowIfAborted(signal)));
  guard();
  checks.push(await pingCheck(input.hostname, target, timeoutMs, signal).catch(rethrowIfAborted(signal)));
  guard();
  checks.push(await serverUrlCheck(ctx, input.rancherToken).catch(rethrowIfAborted(signal)));
  return checks;
}

interface CheckContext {
  readonly hostname: string;
  readonly target: ConnectTarget;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly ca?: readonly string[] | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * `http://<hostname>/` must send the browser to `https://<hostname>/`: Rancher redirects plain HTTP itself
 * (rancher/dynamiclistener's HTTP redirect, skipped only for X-Forwarded-Proto https), and on L7 the LB's
 * port 80 listener redirects before Rancher sees the request.
 */
async function redirectCheck(ctx: CheckContext): Promise<VerifyCheck> {
  const name = "redirect";
  const url = `http://${ctx.hostname}/`;
  let res: Awaited<ReturnType<typeof httpGet>>;
  try {
    res = await httpGet(ctx.target, {
      hostname: ctx.hostname,
      path: "/",
      https: false,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
    });
  } catch (e) {
    if (ctx.signal?.aborted) throw e;
    return { name, status: "fail", detail: `${url} failed (${reason(e)})` };
  }
  if (REDIRECTS.has(res.status)) {
    let to: URL | undefined;
    try {
      to = new URL(res.location ?? "", url);
    } catch {
      to = undefined;
    }
    if (
      to &&
      to.protocol === "https:" &&
      to.hostname.toLowerCase() === ctx.hostname.toLowerCase() &&
      !to.port
    )
      return { name, status: "pass", detail: `${url} redirects (${res.status}) to ${to.href}` };
    return {
      name,
      status: "fail",
      detail: `${url} redirects (${res.status}) to ${res.location ?? "nowhere"}, not to https://${ctx.hostname}/`,
    };
  }
  if (res.status === 404)
    return { name, status: "skip", detail: `${url} answered 404: no Rancher ingress yet (install Rancher)` };
  return {
    name,
    status: "fail",
    detail:
      `${url} answered HTTP ${res.status} instead of redirecting to https://${ctx.hostname}/; ` +
      "plain HTTP must not serve Rancher (L7: the LB's port 80 listener redirects; L4: Rancher does)",
  };
}

const rethrowIfAborted =
  (signal: AbortSignal | undefined) =>
  (e: unknown): never => {
    if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
    throw e;
  };

// Traefik's generated certificate (CN "TRAEFIK DEFAULT CERT", SAN <random>.traefik.default).
const isTraefikDefault = (cn: unknown, san: string | undefined): boolean =>
  cn === "TRAEFIK DEFAULT CERT" || /\.traefik\.default\b/.test(san ?? "");

async function tlsCheck(ctx: CheckContext): Promise<VerifyCheck> {
  const name = "tls";
  const { hostname } = ctx;
  let facts: Awaited<ReturnType<typeof tlsProbe>>;
  try {
    facts = await tlsProbe(ctx.target, hostname, ctx.timeoutMs, ctx.signal, ctx.ca);
  } catch (e) {
    if (ctx.signal?.aborted) throw e;
    return { name, status: "fail", detail: `TLS handshake with ${hostname}:443 failed (${reason(e)})` };
  }
  const { cert } = facts;
  const subject = cert.subject?.CN;
  const issuer = cert.issuer?.CN ?? cert.issuer?.O ?? "unknown issuer";
  if (isTraefikDefault(subject, cert.subjectaltname))
    return {
      name,
      status: "skip",
      detail: "Traefik's default certificate is served: Rancher (and its certificate) is not installed yet",
    };
  if (facts.identityError)
    return {
      name,
      status: "fail",
      detail: `the certificate (${cert.subjectaltname ?? `CN=${subject}`}) does not cover ${hostname}: ${facts.identityError}`,
    };
  const now = Date.now();
  if (Date.parse(cert.valid_to) < now)
    return { name, status: "fail", detail: `the certificate for ${hostname} expired on ${cert.valid_to}` };
  if (Date.parse(cert.valid_from) > now)
    return {
      name,
      status: "fail",
      detail: `the certificate for ${hostname} is not valid before ${cert.valid_from}`,
    };
  const covers = `certificate covers ${hostname}, valid until ${cert.valid_to}, issuer ${issuer}`;
  if (facts.trusted) return { name, status: "pass", detail: `${covers}; trusted by this machine` };
  // Rancher's own CA (ingress.tls.source=rancher, the default on L4) is trusted by no browser: it is right
  // when the chain verifies against the CA Rancher publishes without login at /v3/settings/cacerts, which
  // is what its agents check (rancher/rancher pkg/multiclustermanager/routes.go).
  const rancherCa = await rancherCacerts(ctx);
  if (rancherCa) {
    const again = await tlsProbe(ctx.target, hostname, ctx.timeoutMs, ctx.signal, [rancherCa]).catch(
      () => undefined,
    );
    if (again?.trusted)
      return {
        name,
        status: "pass",
        detail:
          `${covers}; signed by Rancher's own CA (ingress.tls.source=rancher), which this machine does not ` +
          "trust (browsers warn; agents verify it with /v3/settings/cacerts)",
      };
  }
  return {
    name,
    status: "fail",
    detail:
      `${covers}; not trusted by this machine (${facts.trustError}): serve a certificate from a public CA ` +
      "(letsEncrypt, an LB certificate) or, for a private CA, install with privateCA=true",
  };
}

/** The CA Rancher publishes without login (`/v3/settings/cacerts`), or undefined. */
async function rancherCacerts(ctx: CheckContext): Promise<string | undefined> {
  const res = await httpGet(ctx.target, {
    hostname: ctx.hostname,
    path: "/v3/settings/cacerts",
    https: true,
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
  }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  const value = jsonValue(res.body);
  return value?.includes("BEGIN CERTIFICATE") ? value : undefined;
}

/** The `value` of a Rancher setting's JSON, or undefined. */
const jsonValue = (body: string): string | undefined => {
  try {
    const v = (JSON.parse(body) as { value?: unknown }).value;
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
};

async function pingCheck(
  hostname: string,
  target: ConnectTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<VerifyCheck> {
  const name = "ping";
  const url = `https://${hostname}/ping`;
  let res: Awaited<ReturnType<typeof httpsPing>>;
  try {
    res = await httpsPing(target, hostname, timeoutMs, signal);
  } catch (e) {
    if (signal?.aborted) throw e;
    return { name, status: "fail", detail: `${url} failed (${reason(e)})` };
  }
  if (res.status === 200 && res.body.trim() === "pong")
    return { name, status: "pass", detail: `${url} answered pong` };
  if (res.status === 404)
    return { name, status: "skip", detail: `${url} answered 404: no Rancher ingress yet (install Rancher)` };
  if (res.status >= 300 && res.status < 400)
    return {
      name,
      status: "fail",
      detail:
        `${url} redirects to ${res.location ?? "?"}; with TLS at the LB (L7), Traefik must trust the LB's ` +
        "X-Forwarded-* headers (ports.web.forwardedHeaders.trustedIPs), or Rancher loops on redirects",
    };
  return {
    name,
    status: "fail",
    detail: `${url} answered HTTP ${res.status}: ${res.body.slice(0, 100).trim()}`,
  };
}

/**
 * Rancher's `server-url` setting must be `https://<hostname>`: agents, kubeconfigs and links use it. Rancher
 * serves it only to a logged-in user (it is not among the settings its router leaves unauthenticated:
 * cacerts, first-login, ui-* — rancher/rancher pkg/multiclustermanager/routes.go), so without a token the
 * check is skipped with that reason.
 */
async function serverUrlCheck(ctx: CheckContext, token: string | undefined): Promise<VerifyCheck> {
  const name = "server-url";
  const want = `https://${ctx.hostname}`;
  const url = `${want}/v3/settings/server-url`;
  let res: Awaited<ReturnType<typeof httpGet>>;
  try {
    res = await httpGet(ctx.target, {
      hostname: ctx.hostname,
      path: "/v3/settings/server-url",
      https: true,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  } catch (e) {
    if (ctx.signal?.aborted) throw e;
    return { name, status: "fail", detail: `${url} failed (${reason(e)})` };
  }
  if (res.status === 401 || res.status === 403)
    return token
      ? { name, status: "fail", detail: `${url} refused the token (HTTP ${res.status})` }
      : {
          name,
          status: "skip",
          detail:
            `Rancher answers (HTTP ${res.status}) but shows server-url only to a logged-in user; ` +
            "give an API token (K3SINFRA_RANCHER_TOKEN) to check it",
        };
  if (res.status === 404)
    return { name, status: "skip", detail: `${url} answered 404: no Rancher ingress yet (install Rancher)` };
  if (res.status !== 200)
    return {
      name,
      status: "fail",
      detail: `${url} answered HTTP ${res.status}: ${res.body.slice(0, 100).trim()}`,
    };
  const value = jsonValue(res.body);
  if (value === undefined)
    return {
      name,
      status: "fail",
      detail: `${url} did not answer Rancher's setting JSON: ${res.body.slice(0, 100)}`,
    };
  if (value === "")
    return {
      name,
      status: "fail",
      detail: `Rancher's server-url is not set; set it to ${want} (Global Settings)`,
    };
  if (value.replace(/\/+$/, "").toLowerCase() === want.toLowerCase())
    return { name, status: "pass", detail: `Rancher's server-url is ${value}` };
  return {
    name,
    status: "fail",
    detail: `Rancher's server-url is ${value}, not ${want}: agents and kubeconfigs would use it; change it in Global Settings`,
  };
}
