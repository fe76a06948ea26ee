/**
 * Cloudflare's v4 REST API, as far as the official `cloudflare` npm client uses it for DNS: zones, DNS records
 * (list with filters and paging, get, create, PUT, PATCH, delete), token verification, Bearer authentication
 * and the per-token rate limit. Point the client at `endpoint()` (`…/client/v4`) with `baseURL`.
 */
import { createHash } from "node:crypto";
import type { CloudContext, CloudHandler, CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import { watchState } from "../persistence.js";
import type { FaultKind, InventoryItem } from "../types.js";
import { CLOUDFLARE_TEST_TOKEN } from "./credentials.js";
import { CfError, cfErrors, errorResponse, jsonHeaders, okBody, type ResultInfo } from "./envelope.js";
import { RateLimiter } from "./limits.js";
import { type CfRecord, type CfZone, type CloudflareState, recordJson, zoneJson } from "./model.js";
import { checkConflicts, parseBody, recordFilter, recordOrder, validateRecord } from "./records.js";
import { filterZones } from "./zones.js";

export { CLOUDFLARE_TEST_TOKEN };

const PREFIX = "/client/v4";
const HEX32 = /^[0-9a-f]{32}$/;

/** What a handler returns inside the success envelope. */
interface Answer {
  result: unknown;
  info?: ResultInfo;
  messages?: unknown[];
}

type Handler = (req: CloudRequest) => Answer;

/** One page of `items` by `page`/`per_page`; past the last page the page is empty, which ends the client's iterator. */
function paginate<T>(items: readonly T[], q: URLSearchParams, perPageDefault: number, perPageMax: number) {
  const num = (key: string, dflt: number) => {
    const n = Number.parseInt(q.get(key) ?? "", 10);
    return Number.isFinite(n) && n > 0 ? n : dflt;
  };
  const page = num("page", 1);
  const perPage = Math.min(num("per_page", perPageDefault), perPageMax);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const info: ResultInfo = {
    page,
    per_page: perPage,
    count: slice.length,
    total_count: items.length,
    total_pages: Math.ceil(items.length / perPage),
  };
  return { slice, info };
}

/** Bearer token from `Authorization`, or undefined when absent. */
const bearer = (auth: string | string[] | undefined): string | undefined => {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(Array.isArray(auth) ? (auth[0] ?? "") : (auth ?? ""));
  return m?.[1];
};

/** Injected faults as the API would send them; 5xx codes and texts are not verified. */
const FAULTS: Record<Exclude<FaultKind, "slow">, () => CfError> = {
  throttle: () => cfErrors.rateLimited(1, {}),
  error500: () => new CfError(500, { code: 10001, message: "Internal server error" }),
  unavailable503: () => new CfError(503, { code: 10001, message: "Service unavailable" }),
};

export class CloudflareCloud implements CloudHandler {
  readonly name = "cloudflare";
  /** The state as stored (what is persisted); `state` is a watched view of it once `watch` is called. */
  #raw: CloudflareState = { version: 1, accountId: "", zones: {}, records: {} };
  #view: CloudflareState = this.#raw;
  #onChange: (() => void) | undefined;
  readonly #ctx: CloudContext;
  readonly #tokens: ReadonlySet<string>;
  readonly #limiter: RateLimiter;

  constructor(ctx: CloudContext) {
    this.#ctx = ctx;
    const fx = ctx.options.fixtures?.cloudflare;
    this.#tokens = new Set(fx?.tokens?.length ? fx.tokens : [CLOUDFLARE_TEST_TOKEN]);
    const windowSeconds = fx?.rateLimit?.windowSeconds ?? 300;
    this.#limiter = new RateLimiter({
      requests: fx?.rateLimit?.requests ?? 1200,
      windowMs: Math.max(1, windowSeconds * 1000 * ctx.timeScale),
    });
  }

  endpoint(baseUrl: string): string {
    return `${baseUrl}${PREFIX}`;
  }

  get state(): CloudflareState {
    return this.#view;
  }

  set state(s: CloudflareState) {
    this.#raw = s;
    this.#view = this.#onChange ? watchState(s, this.#onChange) : s;
    this.#onChange?.();
  }

  snapshot(): unknown {
    return this.#raw;
  }

  restore(data: unknown): void {
    const s = data as CloudflareState | undefined;
    if (s && s.version === 1) this.state = s;
  }

  watch(onChange: () => void): void {
    this.#onChange = onChange;
    this.#view = watchState(this.#raw, onChange);
  }

  /** Seeds the account and the fixture zones (default `example.com` on the Free plan), keeping restored ones. */
  init(): void {
    this.state.accountId ||= this.#ctx.rng.hex(32);
    const zones = this.#ctx.options.fixtures?.cloudflare?.zones ?? ["example.com"];
    for (const z of zones) {
      const { name, plan = "free" } = typeof z === "string" ? { name: z } : z;
      const n = name.toLowerCase().replace(/\.$/, "");
      if (Object.values(this.state.zones).some((x) => x.name === n)) continue;
      const id = this.#ctx.rng.hex(32);
      this.state.zones[id] = { id, name: n, plan, createdAt: this.#ctx.now() };
    }
  }

  inventory(opts: { includeDefaults: boolean }): InventoryItem[] {
    const out: InventoryItem[] = [];
    if (opts.includeDefaults) {
      for (const z of Object.values(this.state.zones))
        out.push({
          cloud: "cloudflare",
          service: "zones",
          type: "zone",
          id: z.id,
          name: z.name,
          state: "active",
          tags: {},
        });
    }
    for (const r of Object.values(this.state.records)) {
      const tags: Record<string, string> = {};
      for (const t of r.tags) {
        const i = t.indexOf(":");
        tags[i < 0 ? t : t.slice(0, i)] = i < 0 ? "" : t.slice(i + 1);
      }
      out.push({
        cloud: "cloudflare",
        service: "dns",
        type: "dns-record",
        id: r.id,
        name: r.name,
        state: "active",
        tags,
        zoneId: r.zoneId,
        ...(r.comment !== null ? { comment: r.comment } : {}),
      });
    }
    return out;
  }

  route(req: CloudRequest): RoutedCall | undefined {
    if (req.path !== PREFIX && !req.path.startsWith(`${PREFIX}/`)) return undefined;
    const rest = req.path.slice(PREFIX.length).replace(/\/+$/, "");
    const [service, operation, handler] = this.#resolve(req.method, rest);
    return {
      service,
      operation,
      run: async () => this.#run(req, handler),
      fault: (kind) => errorResponse(FAULTS[kind](), this.#ctx.rng.hex(16)),
    };
  }

  /** Maps method and path to the operation that serves it. */
  #resolve(method: string, rest: string): [string, string, Handler] {
    const seg = rest.split("/").filter(Boolean);
    const [a, zoneId = "", b, recordId = ""] = seg;
    if (a === "user" && seg[1] === "tokens" && seg[2] === "verify" && seg.length === 3 && method === "GET")
      return ["user", "VerifyToken", (req) => this.#verify(req)];
    if (a === "zones" && seg.length === 1 && method === "GET")
      return ["zones", "ListZones", (req) => this.#listZones(req.query)];
    if (a === "zones" && seg.length === 2 && method === "GET")
      return [
        "zones",
        "GetZone",
        () => ({ result: zoneJson(this.#zone(zoneId, rest), this.state.accountId) }),
      ];
    if (a === "zones" && b === "dns_records" && seg.length === 3) {
      if (method === "GET")
        return ["dns", "ListDnsRecords", (req) => this.#listRecords(this.#zone(zoneId, rest), req.query)];
      if (method === "POST")
        return ["dns", "CreateDnsRecord", (req) => this.#create(this.#zone(zoneId, rest), req.body)];
    }
    if (a === "zones" && b === "dns_records" && seg.length === 4) {
      const ops: Record<string, [string, Handler]> = {
        GET: [
          "GetDnsRecord",
          () => ({ result: recordJson(this.#record(this.#zone(zoneId, rest), recordId)) }),
        ],
        PUT: ["UpdateDnsRecord", (req) => this.#update(this.#zone(zoneId, rest), recordId, req.body, false)],
        PATCH: ["EditDnsRecord", (req) => this.#update(this.#zone(zoneId, rest), recordId, req.body, true)],
        DELETE: ["DeleteDnsRecord", () => this.#delete(this.#zone(zoneId, rest), recordId)],
      };
      const op = ops[method];
      if (op) return ["dns", op[0], op[1]];
    }
    return [
      "api",
      `${method} ${rest}`,
      () => {
        throw cfErrors.noRoute();
      },
    ];
  }

  /** Authentication, then the rate limit, then the operation; API errors become failure envelopes. */
  #run(req: CloudRequest, handler: Handler): HttpResponse {
    const ray = this.#ctx.rng.hex(16);
    let rate: Record<string, string> = {};
    try {
      const token = bearer(req.headers.authorization);
      if (token === undefined) throw cfErrors.missingAuth();
      if (!this.#tokens.has(token)) throw cfErrors.invalidToken();
      const decision = this.#limiter.take(token, this.#ctx.now());
      rate = decision.headers;
      if (!decision.allowed) throw cfErrors.rateLimited(decision.retryAfterSeconds, rate);
      const answer = handler(req);
      return {
        status: 200,
        headers: jsonHeaders(ray, rate),
        body: okBody(answer.result, answer.info, answer.messages),
      };
    } catch (err) {
      if (!(err instanceof CfError)) throw err;
      return errorResponse(new CfError(err.status, err.item, { ...rate, ...err.headers }), ray);
    }
  }

  /** A zone by id: a malformed id does not route (7003); an unknown one is not the token's to see (10000). */
  #zone(id: string, path: string): CfZone {
    if (!HEX32.test(id)) throw cfErrors.badIdentifier(path);
    const z = this.state.zones[id];
    if (!z) throw cfErrors.authentication();
    return z;
  }

  #record(zone: CfZone, id: string): CfRecord {
    const r = this.state.records[id];
    if (!r || r.zoneId !== zone.id) throw cfErrors.recordNotFound();
    return r;
  }

  #zoneRecords(zone: CfZone): CfRecord[] {
    return Object.values(this.state.records).filter((r) => r.zoneId === zone.id);
  }

  // putyourlightson/craft-cloudflare#88 shows the real answer of GET /user/tokens/verify.
  #verify(req: CloudRequest): Answer {
    const token = bearer(req.headers.authorization) ?? "";
    const id = createHash("sha256").update(`token:${token}`).digest("hex").slice(0, 32);
    return {
      result: { id, status: "active" },
      messages: [{ code: 10000, message: "This API Token is valid and active", type: null }],
    };
  }

  #listZones(q: URLSearchParams): Answer {
    const zones = filterZones(Object.values(this.state.zones), q, this.state.accountId);
    const { slice, info } = paginate(zones, q, 20, 50);
    return { result: slice.map((z) => zoneJson(z, this.state.accountId)), info };
  }

  #listRecords(zone: CfZone, q: URLSearchParams): Answer {
    const records = this.#zoneRecords(zone).filter(recordFilter(q)).sort(recordOrder(q));
    const { slice, info } = paginate(records, q, 100, 5_000_000);
    return { result: slice.map(recordJson), info };
  }

  #create(zone: CfZone, body: string): Answer {
    const input = validateRecord(zone, parseBody(body));
    checkConflicts(input, this.#zoneRecords(zone));
    const now = this.#ctx.now();
    const r: CfRecord = {
      id: this.#ctx.rng.hex(32),
      zoneId: zone.id,
      ...input,
      createdAt: now,
      modifiedAt: now,
      ...(input.comment !== null ? { commentModifiedAt: now } : {}),
      ...(input.tags.length > 0 ? { tagsModifiedAt: now } : {}),
    };
    this.state.records[r.id] = r;
    return { result: recordJson(r) };
  }

  /** PUT replaces every settable field; PATCH merges the body onto the stored record first. */
  #update(zone: CfZone, id: string, body: string, merge: boolean): Answer {
    const r = this.#record(zone, id);
    const patch = parseBody(body);
    const { name, type, content, ttl, proxied, comment, tags } = r;
    const input = validateRecord(
      zone,
      merge ? { name, type, content, ttl, proxied, comment, tags, ...patch } : patch,
    );
    checkConflicts(
      input,
      this.#zoneRecords(zone).filter((x) => x.id !== r.id),
    );
    const now = this.#ctx.now();
    if (input.comment !== r.comment) r.commentModifiedAt = now;
    if (input.tags.join("\n") !== r.tags.join("\n")) r.tagsModifiedAt = now;
    Object.assign(r, input, { modifiedAt: now });
    return { result: recordJson(r) };
  }

  #delete(zone: CfZone, id: string): Answer {
    const r = this.#record(zone, id);
    delete this.state.records[r.id];
    return { result: { id: r.id } };
  }
}

/** The `CloudFactory` registered as `cloudflare`. */
export function createCloudflareCloud(ctx: CloudContext): CloudHandler {
  return new CloudflareCloud(ctx);
}
