/** One check's outcome. `skip` means "not applicable yet", with the reason in `detail`. */
export interface VerifyCheck {
  /** `dns`, `tcp:80`, `tcp:443`, `tls`, `ping`. */
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
  /** Check the certificate and `https://<hostname>/ping`. Default true. */
  readonly tls?: boolean;
  readonly resolver?: VerifyResolver;
  readonly connect?: ConnectTarget;
  /** Per-check timeout. Default 10 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}
