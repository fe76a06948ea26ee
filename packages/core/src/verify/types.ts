/** One check's outcome. `skip` means "not applicable yet", with the reason in `detail`. */
export interface VerifyCheck {
  /** `dns`, `tcp:80`, `tcp:443`, `redirect`, `tls`, `ping`, `server-url`. */
  readonly name: string;
  readonly status: "pass" | "fail" | "skip";
  /** What was seen, and for a failure what to check. */
  readonly detail: string;
}

/** DNS lookups `verifyCluster` makes; `node:dns/promises` by default. */
export interface VerifyResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolveCname(hostname: string): Promise<string[]>;
}

/** Where to connect for a port of the hostname; by default the hostname itself. Tests point it at 127.0.0.1. */
export type ConnectTarget = (port: number) => { readonly host: string; readonly port: number };

/** What `verifyCluster` checks. */
export interface VerifyInput {
  /** The Rancher hostname. */
  readonly hostname: string;
  /** What the hostname must point at: the LB's fixed IPs and/or its DNS name (CNAME or alias target). */
  readonly expectedTargets: { readonly ips?: readonly string[]; readonly hostnames?: readonly string[] };
  /** Ports the LB must accept. Default [80, 443]. */
  readonly ports?: readonly number[];
  /** Check the 80 → 443 redirect, the certificate, `/ping` and Rancher's server-url. Default true. */
  readonly tls?: boolean;
  /**
   * Trust store the certificate is judged against (PEM certificates). Default: this machine's (Node's
   * bundled roots, NODE_EXTRA_CA_CERTS and, where Node can read it, the operating system's store).
   */
  readonly ca?: readonly string[];
  /**
   * A Rancher API token (`token-xxxxx:secret`) to read `/v3/settings/server-url`, which Rancher serves only
   * to a logged-in user; without one that check is skipped with the reason.
   */
  readonly rancherToken?: string;
  /**
   * Set when nothing can be reached from here (e.g. an emulated cloud): every check is skipped with this
   * reason, and nothing is resolved or connected.
   */
  readonly offline?: string;
  readonly resolver?: VerifyResolver;
  readonly connect?: ConnectTarget;
  /** Per-check timeout. Default 10 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}
