import { Resolver } from "node:dns/promises";
import { AbortedError } from "../errors.js";
import { checkDns } from "./dns.js";
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
 * LB, each port accepts TCP, the certificate covers the hostname, and `https://<hostname>/ping` answers
 * `pong` (anchors-k3s.md §3.5 readiness). Before Rancher is installed Traefik serves its self-signed
 * default certificate and 404 for /ping: both are reported as `skip` with that reason, because the
 * infrastructure is right and only Rancher is missing. Never throws for a failed check; throws
 * `AbortedError` when the signal aborts.
 */
export async function verifyCluster(input: VerifyInput): Promise<VerifyCheck[]> {
  const timeoutMs = input.timeoutMs ?? 10_000;
  const resolver: VerifyResolver = input.resolver ?? new Resolver({ timeout: timeoutMs, tries: 2 });
  const target = input.connect ?? ((port: number) => ({ host: input.hostname, port }));
  const signal = input.signal;
  const guard = () => {
    if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
  };
  guard();
  const checks: VerifyCheck[] = [await checkDns(input, resolver)];

  const reachable = new Map<number, boolean>();
  for (const port of input.ports ?? [80, 443]) {
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
  if (input.tls === false) {
    checks.push({ name: "tls", status: "skip", detail: "TLS not checked (tls: false)" });
    checks.push({ name: "ping", status: "skip", detail: "https://<hostname>/ping not checked (tls: false)" });
    return checks;
  }
  if (reachable.get(443) === false) {
    checks.push({ name: "tls", status: "skip", detail: "port 443 is not reachable" });
    checks.push({ name: "ping", status: "skip", detail: "port 443 is not reachable" });
    return checks;
  }
  checks.push(await tlsCheck(input.hostname, target, timeoutMs, signal).catch(rethrowIfAborted(signal)));
  guard();
  checks.push(await pingCheck(input.hostname, target, timeoutMs, signal).catch(rethrowIfAborted(signal)));
  return checks;
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

async function tlsCheck(
  hostname: string,
  target: ConnectTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<VerifyCheck> {
  const name = "tls";
  let facts: Awaited<ReturnType<typeof tlsProbe>>;
  try {
    facts = await tlsProbe(target, hostname, timeoutMs, signal);
  } catch (e) {
    if (signal?.aborted) throw e;
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
  if (Date.parse(cert.valid_to) < Date.now())
    return { name, status: "fail", detail: `the certificate for ${hostname} expired on ${cert.valid_to}` };
  // Rancher's own CA (ingress.tls.source=rancher) is not publicly trusted: report it, do not fail on it.
  const trust = facts.trusted
    ? "trusted by this machine"
    : `not trusted by this machine (${facts.trustError})`;
  return { name, status: "pass", detail: `certificate covers ${hostname}; issuer ${issuer}; ${trust}` };
}

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
