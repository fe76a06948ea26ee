/**
 * The plug-in point for clouds. A cloud is one folder under src/ exporting a `CloudFactory`; it is
 * listed once in `clouds.ts`. The framework (emulator.ts) owns the HTTP server, fault injection,
 * the request log, call counts and persistence; a cloud only routes and answers requests.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Rng } from "./rng.js";
import type { EmulatorOptions, FaultKind, InventoryItem } from "./types.js";

export interface CloudRequest {
  method: string;
  /** Path without the query string, e.g. `/2013-04-01/hostedzone/Z1`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A request a cloud recognised: who it is for, how to answer it, and how to fail it on purpose. */
export interface RoutedCall {
  service: string;
  operation: string;
  run(): Promise<HttpResponse>;
  /** The wire response of an injected fault (`slow` never reaches here). */
  fault(kind: Exclude<FaultKind, "slow">): HttpResponse;
}

export interface CloudContext {
  options: EmulatorOptions;
  timeScale: number;
  /** Seeded RNG for ids and generated values (its state is persisted). */
  rng: Rng;
  log(line: string): void;
  /** Wall-clock milliseconds; resource states are derived from it lazily. */
  now(): number;
}

export interface CloudHandler {
  readonly name: string;
  /** Served over HTTPS (a CA made at start, `Emulator.caPem`): `endpoint` then receives the HTTPS base URL. */
  readonly tls?: boolean;
  /** The endpoint clients of this cloud are pointed at, given the server's base URL. */
  endpoint(baseUrl: string): string;
  /** Recognise a request, or return undefined when it is not for this cloud. */
  route(req: CloudRequest): RoutedCall | undefined;
  inventory(opts: { includeDefaults: boolean }): InventoryItem[];
  /** JSON-serialisable state; `restore` receives what `snapshot` returned (possibly from another process). */
  snapshot(): unknown;
  restore(data: unknown): void;
  /**
   * Call `onChange` whenever the state changes (persistence writes only then; `persistence.ts` `watchState`).
   * A cloud without it is serialised and compared after every request instead.
   */
  watch?(onChange: () => void): void;
  /** Called after `restore` (or on a fresh start): seed defaults and fixtures idempotently. */
  init(): Promise<void> | void;
  close?(): Promise<void>;
  /** Test back door (`Emulator.setTargetHealth`): true when this cloud has the instance. */
  setTargetHealth?(instanceId: string, mode: "unhealthy" | "auto"): boolean;
}

export type CloudFactory = (ctx: CloudContext) => CloudHandler;

/** Imports a cloud's module when an emulator first serves it. */
export type CloudLoader = () => Promise<CloudFactory>;

const registry = new Map<string, CloudLoader>();

/** Register a cloud under a name usable in `EmulatorOptions.clouds`. */
export function registerCloud(name: string, factory: CloudFactory): void {
  registry.set(name, async () => factory);
}

/**
 * Register a cloud whose module is imported only when an emulator serves it: `--emulate` of an AWS config loads
 * neither the GCP nor the Azure emulator (the built-in clouds, clouds.ts).
 */
export function registerCloudLoader(name: string, load: CloudLoader): void {
  registry.set(name, load);
}

export async function loadCloudFactory(name: string): Promise<CloudFactory | undefined> {
  return registry.get(name)?.();
}

export function registeredClouds(): string[] {
  return [...registry.keys()];
}
