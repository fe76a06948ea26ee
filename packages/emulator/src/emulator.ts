import { randomInt } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AZURE_TEST_CREDENTIALS } from "./azure/credentials.js";
import {
  type CloudContext,
  type CloudHandler,
  type CloudRequest,
  type HttpResponse,
  loadCloudFactory,
  type RoutedCall,
} from "./cloud.js";
import { CLOUDFLARE_TEST_TOKEN } from "./cloudflare/credentials.js";
import "./clouds.js";
import { AWS_TEST_CREDENTIALS } from "./aws/kernel/credentials.js";
import { http, https } from "./node-http.js";
import { type Emit, emitJson, StateFile } from "./persistence.js";
import { Rng } from "./rng.js";
import { makeTlsMaterial } from "./tls.js";
import type {
  BootFaultTarget,
  BootReport,
  BootStage,
  Emulator,
  EmulatorOptions,
  FaultKind,
  FaultSpec,
  InventoryFilter,
  InventoryItem,
  RequestLogEntry,
} from "./types.js";

export { AWS_TEST_CREDENTIALS };

const SERVICE_ALIASES: Record<string, string> = { elasticloadbalancing: "elbv2", "route-53": "route53" };

/**
 * A fault as a proxy in front of the API answers it: a status line's text, no error document, no request id
 * header. The AWS SDK cannot parse it and throws a deserialization error (aws/aws-sdk-js-v3#4592).
 */
const plainTextFault = (kind: Exclude<FaultKind, "slow">): HttpResponse => {
  const [status, text] =
    kind === "unavailable503"
      ? [503, "Service Unavailable"]
      : kind === "throttle"
        ? [429, "Too Many Requests"]
        : [500, "Internal Server Error"];
  return { status, headers: { "content-type": "text/plain" }, body: text };
};

interface FaultState {
  spec: FaultSpec;
  matches: number;
  fired: number;
}

interface PersistFile {
  version: 1;
  rng: number[];
  clouds: Record<string, unknown>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[k3sinfra-emulator] ${line}\n`));
  const seed = opts.seed ?? randomInt(0, 2 ** 31);
  const rng = new Rng(seed);
  const faultRng = new Rng(seed ^ 0x5bd1e995);
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale >= 0)) throw new Error(`timeScale must be >= 0, got ${timeScale}`);
  const virtual = opts.virtualClock;
  const now = virtual ? virtual.now : (opts.clock ?? (() => Date.now()));
  const ctx: CloudContext = { options: opts, timeScale, rng, log, now };
  // The request log's time: the virtual clock's when there is one (benchmarks measure emulated spans by it).
  const logTime = virtual ? virtual.now : () => Date.now();

  const names = opts.clouds ?? ["aws"];
  const clouds: CloudHandler[] = [];
  for (const name of names) {
    const factory = await loadCloudFactory(name);
    if (!factory) throw new Error(`unknown cloud "${name}"`);
    clouds.push(factory(ctx));
  }

  // Persistence: restore first, then let each cloud seed its defaults/fixtures idempotently.
  let file: StateFile | undefined;
  // Clouds that cannot say when their state changes are serialised and compared after every request.
  let untracked = false;
  let lastText = "";
  if (opts.persistPath) {
    // The state holds sealed secrets and key material: only the owner may read it. A directory we create is
    // 0700; an existing one is the caller's to choose (the file itself is always 0600).
    const dir = dirname(opts.persistPath);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const existed = opts.persistPath !== undefined && existsSync(opts.persistPath);
  if (opts.persistPath && existed) {
    const data = JSON.parse(readFileSync(opts.persistPath, "utf8")) as PersistFile;
    if (data.version === 1) {
      rng.setState(data.rng);
      for (const c of clouds) if (data.clouds[c.name] !== undefined) c.restore(data.clouds[c.name]);
    }
  }
  if (opts.persistPath) {
    // The clouds' states are serialised as they are, without copies; the RNG's with them, so ids generated
    // after a restart don't collide.
    const serialise = (emit: Emit): void => {
      const data: PersistFile = { version: 1, rng: rng.getState(), clouds: {} };
      for (const c of clouds) data.clouds[c.name] = c.snapshot();
      emitJson(data, emit);
    };
    const stateFile = new StateFile(opts.persistPath, serialise, opts.onPersist);
    for (const c of clouds) {
      if (c.watch) c.watch(() => stateFile.changed());
      else untracked = true;
    }
    file = stateFile;
  }
  for (const c of clouds) await c.init();
  // A new file, or seeds and fixtures the restored state lacked, are written before anyone can call.
  if (file && (!existed || !file.clean)) file.writeSync();

  /** Write what changed (if anything) and wait until it is on disk; a failed write is logged, not thrown. */
  const flush = async (): Promise<void> => {
    if (!file) return;
    if (untracked) {
      // Compare the whole state with what was last seen: a change is whatever serialises differently.
      const data: PersistFile = { version: 1, rng: rng.getState(), clouds: {} };
      for (const c of clouds) data.clouds[c.name] = c.snapshot();
      const text = JSON.stringify(data);
      if (text !== lastText) file.changed();
      lastText = text;
    }
    try {
      await file.flush();
    } catch (err) {
      log(`could not persist state to ${opts.persistPath}: ${(err as Error).message}`);
    }
  };
  /** After a back door's change: written in the background (and before `stop()` resolves). */
  const persistSoon = (): void => {
    void flush();
  };

  const faults: FaultState[] = (opts.faults ?? []).map((spec) => ({ spec, matches: 0, fired: 0 }));
  const requestLog: RequestLogEntry[] = [];
  const counts: Record<string, number> = {};

  const pickFaults = (cloud: string, call: RoutedCall): FaultSpec[] => {
    const fired: FaultSpec[] = [];
    for (const f of faults) {
      const s = f.spec;
      if (s.cloud && s.cloud !== cloud) continue;
      if (s.service && (SERVICE_ALIASES[s.service] ?? s.service) !== call.service) continue;
      if (s.operation && s.operation !== call.operation) continue;
      f.matches++;
      const limit = s.times ?? (s.atCall !== undefined ? 1 : Number.POSITIVE_INFINITY);
      if (f.fired >= limit) continue;
      const hit = s.atCall !== undefined ? f.matches === s.atCall : faultRng.next() < (s.rate ?? 1);
      if (!hit) continue;
      f.fired++;
      fired.push(s);
    }
    return fired;
  };

  const dispatch = async (req: CloudRequest): Promise<HttpResponse> => {
    let call: RoutedCall | undefined;
    let cloud: CloudHandler | undefined;
    for (const c of clouds) {
      call = c.route(req);
      if (call) {
        cloud = c;
        break;
      }
    }
    if (!call || !cloud) {
      requestLog.push({
        cloud: "unknown",
        service: "unknown",
        operation: `${req.method} ${req.path}`,
        status: 404,
        at: logTime(),
      });
      return {
        status: 404,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: `k3sinfra emulator: nothing handles ${req.method} ${req.path}` }),
      };
    }
    const key = `${call.service}:${call.operation}`;
    counts[key] = (counts[key] ?? 0) + 1;
    const generation = file?.generation ?? 0;
    const fired = pickFaults(cloud.name, call);
    let faultKind: string | undefined;
    for (const f of fired) {
      if (f.kind === "slow") {
        faultKind ??= "slow";
        await sleep(f.delayMs ?? 1000);
      }
    }
    const hard = fired.find((f) => f.kind !== "slow");
    let res: HttpResponse;
    if (hard && hard.kind !== "slow") {
      faultKind = hard.kind;
      res = hard.plainText ? plainTextFault(hard.kind) : call.fault(hard.kind);
    } else {
      try {
        res = await call.run();
      } catch (err) {
        log(`internal error in ${key}: ${(err as Error).stack ?? err}`);
        res = call.fault("error500");
      }
    }
    const entry: RequestLogEntry = {
      cloud: cloud.name,
      service: call.service,
      operation: call.operation,
      status: res.status,
      at: logTime(),
    };
    if (faultKind) entry.fault = faultKind;
    requestLog.push(entry);
    // A request that changed the state is answered once its change is on disk (as a real cloud's would be
    // durable): a client killed after the answer finds the resource after a restart. Reads write nothing.
    if (file && (untracked || file.generation !== generation)) await flush();
    return res;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // Emulated time stands still from the request's arrival until its answer has left.
    const release = virtual?.hold();
    if (release) res.once("close", release);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://emulator.local");
      const creq: CloudRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      dispatch(creq).then(
        (out) => {
          res.writeHead(out.status, { ...out.headers, "content-length": Buffer.byteLength(out.body) });
          res.end(out.body);
        },
        (err: unknown) => {
          log(`request failed: ${(err as Error).stack ?? err}`);
          res.writeHead(500);
          res.end();
        },
      );
    });
  };
  const server = http.createServer(handle);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  // Clouds whose clients speak only HTTPS (Azure) get a second listener, with a CA made now that tests trust.
  let tls: { server: HttpsServer; url: string; caPem: string } | undefined;
  if (clouds.some((c) => c.tls)) {
    const material = makeTlsMaterial(addr.address);
    const httpsServer = https().createServer({ key: material.key, cert: material.cert }, handle);
    await new Promise<void>((resolve, reject) => {
      httpsServer.once("error", reject);
      httpsServer.listen(opts.tlsPort ?? 0, opts.host ?? "127.0.0.1", () => resolve());
    });
    const port = (httpsServer.address() as AddressInfo).port;
    tls = { server: httpsServer, url: `https://${host}:${port}`, caPem: material.caPem };
  }
  const endpoints: Emulator["endpoints"] = {};
  for (const c of clouds)
    (endpoints as Record<string, string>)[c.name] = c.endpoint(c.tls && tls ? tls.url : url);

  let stopped = false;
  return {
    url,
    ...(tls ? { httpsUrl: tls.url, caPem: tls.caPem } : {}),
    endpoints,
    credentials: {
      aws: { ...AWS_TEST_CREDENTIALS },
      azure: { ...AZURE_TEST_CREDENTIALS },
      cloudflare: { apiToken: opts.fixtures?.cloudflare?.tokens?.[0] ?? CLOUDFLARE_TEST_TOKEN },
    },
    inventory(filter: InventoryFilter = {}): InventoryItem[] {
      const out: InventoryItem[] = [];
      for (const c of clouds) {
        if (filter.cloud && filter.cloud !== c.name) continue;
        for (const item of c.inventory({ includeDefaults: filter.includeDefaults ?? false })) {
          if (filter.tags && !Object.entries(filter.tags).every(([k, v]) => item.tags[k] === v)) continue;
          out.push(item);
        }
      }
      return out;
    },
    requestLog: () => requestLog.map((e) => ({ ...e })),
    callCounts: () => ({ ...counts }),
    addFault(f: FaultSpec): void {
      faults.push({ spec: f, matches: 0, fired: 0 });
    },
    clearFaults(): void {
      faults.length = 0;
    },
    imdsEndpoint: (instanceId: string): string => `${url}/imds/${instanceId}`,
    bootNodes(): BootReport[] {
      // The clouds that play server 0's kubeconfig write (aws/boot/simulation.ts, gcp/boot.ts).
      const reports = clouds.flatMap((c) => (c as { bootNodes?: () => BootReport[] }).bootNodes?.() ?? []);
      persistSoon();
      return reports;
    },
    failBootstrap(target: BootFaultTarget, stage: BootStage, reason?: string): void {
      // The clouds that boot k3sinfra servers (boot/). A `{ tags }` target reaches every one of them (each keeps
      // the rule for its own instances); an instance id the one that has it.
      type Boots = { failBootstrap?: (t: BootFaultTarget, s: string, r?: string) => boolean };
      const hits = clouds.map((c) => (c as Boots).failBootstrap?.(target, stage, reason) ?? false);
      if (!hits.includes(true)) throw new Error(`failBootstrap: no instance ${String(target)}`);
      persistSoon();
    },
    clearBootstrapFault(target: BootFaultTarget): void {
      type Boots = { clearBootstrapFault?: (t: BootFaultTarget) => boolean };
      const hits = clouds.map((c) => (c as Boots).clearBootstrapFault?.(target) ?? false);
      if (!hits.includes(true)) throw new Error(`clearBootstrapFault: no instance ${String(target)}`);
      persistSoon();
    },
    setTargetHealth(instanceId: string, mode: "unhealthy" | "auto"): void {
      if (!clouds.some((c) => c.setTargetHealth?.(instanceId, mode)))
        throw new Error(`setTargetHealth: no instance ${instanceId}`);
      persistSoon();
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (tls) {
        const secure = tls.server;
        await new Promise<void>((resolve) => {
          secure.close(() => resolve());
          secure.closeAllConnections();
        });
      }
      // Every change is on disk before stop() resolves: the last request's, a back door's, the clouds' own.
      await flush();
      for (const c of clouds) await c.close?.();
      await flush();
    },
  };
}
