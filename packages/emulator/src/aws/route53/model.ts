/**
 * Amazon Route 53: the persisted shapes, record ordering, and the REST routes of the operations.
 */
import type { XmlNode } from "../../xml.js";
import type { Tags } from "../kernel/common.js";
import { AWS_DURATIONS } from "../kernel/durations.js";
import { AwsError } from "../kernel/errors.js";

export const XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/";

export interface RecordSet {
  name: string;
  type: string;
  ttl?: number;
  values?: string[];
  alias?: { hostedZoneId: string; dnsName: string; evaluateTargetHealth: boolean };
  setIdentifier?: string;
  weight?: number;
  changeId?: string;
}

export interface HostedZone {
  id: string;
  name: string;
  callerReference: string;
  comment?: string;
  privateZone: boolean;
  vpc?: { region: string; id: string };
  fixture: boolean;
  tags: Tags;
  nameServers: string[];
  records: RecordSet[];
  createdAt: number;
}

export interface Change {
  id: string;
  submittedAt: number;
  comment?: string;
}

export interface Route53State {
  zones: Record<string, HostedZone>;
  changes: Record<string, Change>;
  /** CallerReference -> hosted zone id. */
  callerReferences: Record<string, string>;
}

/** Seconds at time scale 1: changes propagate to all Route 53 servers "generally within 60 seconds" (GetChange reference). */
export const ROUTE53_DURATIONS = AWS_DURATIONS.route53;

/** Normalise a DNS name: lower case, trailing dot (Route 53 treats both forms as identical). */
export function fqdn(name: string): string {
  const n = name.trim().toLowerCase().replace(/\\052/g, "*");
  return n.endsWith(".") ? n : `${n}.`;
}

/** Route 53's ordering: by DNS name with labels reversed (com.example.www), then by type (ListResourceRecordSets reference). */
export function reversedKey(name: string): string {
  return fqdn(name).slice(0, -1).split(".").reverse().join(".");
}

export function compareRecords(a: { name: string; type: string }, b: { name: string; type: string }): number {
  const ka = reversedKey(a.name);
  const kb = reversedKey(b.name);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

export const noSuchZone = (id: string) =>
  new AwsError("NoSuchHostedZone", `No hosted zone found with ID: ${id}`, 404);
export const stripPrefix = (id: string) => id.replace(/^\/?(hostedzone|change|delegationset)\//, "");

export const txt = (x: XmlNode | XmlNode[] | undefined): string | undefined =>
  typeof x === "string" ? x : undefined;
export const node = (x: XmlNode | XmlNode[] | undefined): Record<string, XmlNode | XmlNode[]> | undefined =>
  x && typeof x === "object" && !Array.isArray(x) ? x : undefined;

export interface Route {
  operation: string;
  params: Record<string, string>;
}

export function matchRoute(method: string, path: string): Route | undefined {
  const p = decodeURIComponent(path.replace(/^\/2013-04-01/, "")).replace(/\/+$/, "");
  if (p === "/hostedzonesbyname" && method === "GET")
    return { operation: "ListHostedZonesByName", params: {} };
  if (p === "/hostedzonecount" && method === "GET") return { operation: "GetHostedZoneCount", params: {} };
  if (p === "/hostedzone") {
    if (method === "GET") return { operation: "ListHostedZones", params: {} };
    if (method === "POST") return { operation: "CreateHostedZone", params: {} };
  }
  const rrset = /^\/hostedzone\/([^/]+)\/rrset$/.exec(p);
  if (rrset) {
    if (method === "POST") return { operation: "ChangeResourceRecordSets", params: { Id: rrset[1]! } };
    if (method === "GET") return { operation: "ListResourceRecordSets", params: { Id: rrset[1]! } };
  }
  const zone = /^\/hostedzone\/([^/]+)$/.exec(p);
  if (zone) {
    if (method === "GET") return { operation: "GetHostedZone", params: { Id: zone[1]! } };
    if (method === "DELETE") return { operation: "DeleteHostedZone", params: { Id: zone[1]! } };
  }
  const change = /^\/change\/([^/]+)$/.exec(p);
  if (change && method === "GET") return { operation: "GetChange", params: { Id: change[1]! } };
  const tags = /^\/tags\/([^/]+)\/([^/]+)$/.exec(p);
  if (tags) {
    const params = { ResourceType: tags[1]!, ResourceId: tags[2]! };
    if (method === "GET") return { operation: "ListTagsForResource", params };
    if (method === "POST") return { operation: "ChangeTagsForResource", params };
  }
  return undefined;
}

export interface R53Call {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, XmlNode | XmlNode[]>;
  now: number;
}

export interface R53Result {
  root: string;
  body: Record<string, unknown>;
  status?: number;
  headers?: Record<string, string>;
}
