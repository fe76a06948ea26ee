import type { Socket } from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";
import type { ConnectTarget } from "./types.js";

// node:net and node:tls are fetched when a probe runs, not imported: importing node:tls (as ESM) costs every
// command that loads core several milliseconds, and only `verify` connects.
const net = () => process.getBuiltinModule("node:net");
const tls = () => process.getBuiltinModule("node:tls");

/** Runs `start` with a socket-level timeout and abort; resolves with the socket once `event` fires. */
function open<S extends Socket>(
  start: () => S,
  event: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<S> {
  return new Promise((resolve, reject) => {
    const socket = start();
    const fail = (error: Error) => {
      socket.destroy();
      signal?.removeEventListener("abort", onAbort);
      reject(error);
    };
    const onAbort = () => fail(new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.setTimeout(timeoutMs, () =>
      fail(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })),
    );
    socket.once("error", fail);
    socket.once(event, () => {
      signal?.removeEventListener("abort", onAbort);
      socket.setTimeout(0);
      resolve(socket);
    });
  });
}

/** Opens and closes a TCP connection; resolves when it was accepted. */
export async function tcpProbe(
  target: ConnectTarget,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const t = target(port);
  const socket = await open(
    () => net().connect({ host: t.host, port: t.port }),
    "connect",
    timeoutMs,
    signal,
  );
  socket.destroy();
}

/** What the TLS endpoint presented. */
export interface TlsFacts {
  readonly cert: PeerCertificate;
  /** Whether this machine's trust store accepts the chain for the hostname. */
  readonly trusted: boolean;
  readonly trustError?: string | undefined;
  /** `checkServerIdentity` result: undefined when the certificate covers the hostname. */
  readonly identityError?: string | undefined;
}

// Node's bundled roots (and NODE_EXTRA_CA_CERTS) plus the operating system's store where this Node can read
// it (tls.getCACertificates, Node ≥ 22.15); older Nodes judge by their bundled roots only.
let machineStore: string[] | undefined;
const machineTrustStore = (): string[] | undefined => {
  const get = (tls() as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (!get) return undefined;
  machineStore ??= [...new Set([...get("default"), ...get("system")])];
  return machineStore;
};

/**
 * Completes a TLS handshake with SNI = hostname and reports the certificate (verification is ours, not
 * Node's): trusted means the chain verifies against `ca`, by default this machine's trust store.
 */
export async function tlsProbe(
  target: ConnectTarget,
  hostname: string,
  timeoutMs: number,
  signal?: AbortSignal,
  ca?: readonly string[],
): Promise<TlsFacts> {
  const t = target(443);
  const roots = ca ? [...ca] : machineTrustStore();
  const socket: TLSSocket = await open(
    () =>
      tls().connect({
        host: t.host,
        port: t.port,
        servername: hostname,
        rejectUnauthorized: false,
        ...(roots ? { ca: roots } : {}),
      }),
    "secureConnect",
    timeoutMs,
    signal,
  );
  const cert = socket.getPeerCertificate();
  const trustError = socket.authorizationError ? String(socket.authorizationError) : undefined;
  socket.destroy();
  return {
    cert,
    trusted: socket.authorized,
    trustError,
    identityError: tls().checkServerIdentity(hostname, cert)?.message,
  };
}
