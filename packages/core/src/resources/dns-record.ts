import { token } from "../tokens.js";
import type { ResourceService, ResourceState } from "./common.js";

/** What the record points at. `ALIAS` is a provider-side alias record to a load balancer of the same cloud. */
export type DnsTarget =
  | { readonly type: "A"; readonly addresses: readonly string[] }
  | { readonly type: "CNAME"; readonly hostname: string }
  | { readonly type: "ALIAS"; readonly dnsName: string; readonly zoneId: string };

/** The Rancher hostname record. */
export interface DnsRecordSpec {
  /** The DNS zone (domain) that holds the record, e.g. `example.com`. */
  readonly zone: string;
  /** Fully qualified name, e.g. `rancher.example.com`; never changes after creation. */
  readonly hostname: string;
  /** Where it points. */
  readonly target: DnsTarget;
  /** TTL in seconds (ignored for alias records). */
  readonly ttl: number;
  /** The DNS service's proxy (`capabilities.dnsProxy`); off by default because it breaks Rancher's strict agent TLS. */
  readonly proxied: boolean;
}

/** A record as built. */
export interface DnsRecordState extends ResourceState {
  /** The provider's zone id. */
  readonly zoneId: string;
  /** Fully qualified name. */
  readonly hostname: string;
  /** Record type written. */
  readonly type: "A" | "CNAME" | "ALIAS";
  /** Values written (addresses, target host name or alias DNS name). */
  readonly values: readonly string[];
  /** TTL in seconds. */
  readonly ttl: number;
}

/** DNS for the Rancher URL. */
export interface DnsRecordService extends ResourceService<DnsRecordSpec, DnsRecordState> {}

/** Injection token for the DnsRecordService contract. */
export const DnsRecordService = token<DnsRecordService>("DnsRecordService");
