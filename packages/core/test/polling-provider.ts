import type { ProviderDescriptor, ResourceContext } from "../src/index.js";
import { createMemoryProvider, type MemoryCloud, type MemoryObject } from "../src/testing/index.js";

/** One turn of the event loop: what a request "takes", and the wait between polls. No wall-clock time. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

const OBJECT_KIND: Readonly<Record<string, MemoryObject["kind"]>> = {
  network: "network",
  nodes: "node",
  datastore: "datastore",
  loadBalancer: "loadBalancer",
  dns: "dnsRecord",
  secretStore: "secret",
};

/** What the polling provider saw: every request and poll in order (`<resource> <method>`), and the peak in flight. */
export interface CallLog {
  readonly entries: string[];
  inFlight: number;
  peak: number;
  /** Whether a DNS deletion told not to wait for sync (`ctx.waitForSync === false`) still polls. */
  dnsDeleteIgnoresHint: boolean;
}

const isContext = (x: unknown): x is ResourceContext =>
  typeof x === "object" && x !== null && "signal" in x && "resource" in x && "poll" in x;

/**
 * The in-memory provider as a real cloud's behaves: every service method is one request that holds an API
 * slot (`ctx.limit`) for one turn of the event loop, and a create or delete then polls the cloud's status
 * (`MemoryCloud.progress`, counted against `MemoryCloud.delays`) until it is done, each poll a request and
 * the waits between polls holding no slot. A DNS deletion told `waitForSync: false` returns once accepted.
 */
export function pollingProvider(cloud: MemoryCloud, log: CallLog): ProviderDescriptor {
  const base = createMemoryProvider(cloud) as ProviderDescriptor;
  const request = async <T>(ctx: ResourceContext | undefined, what: string, fn: () => T | Promise<T>) => {
    const send = async () => {
      log.entries.push(what);
      log.inFlight++;
      log.peak = Math.max(log.peak, log.inFlight);
      try {
        await turn();
        return await fn();
      } finally {
        log.inFlight--;
      }
    };
    return ctx?.limit ? ctx.limit(send) : send();
  };
  const wrap = (svc: object, kind: MemoryObject["kind"]) =>
    new Proxy(svc, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== "function" || prop === "native" || typeof prop !== "string") return value;
        return async (...args: unknown[]) => {
          const ctx = args.find(isContext);
          const who = ctx?.resource ?? "?";
          const result = await request(ctx, `${who} ${prop}`, () => value.apply(target, args));
          if (prop !== "create" && prop !== "delete") return result;
          const noWait =
            kind === "dnsRecord" &&
            prop === "delete" &&
            ctx?.waitForSync === false &&
            !log.dnsDeleteIgnoresHint;
          while (!noWait) {
            await turn();
            if (await request(ctx, `${who} poll`, () => cloud.progress(kind, prop, who))) break;
          }
          log.entries.push(`${who} ${prop} done`);
          return result;
        };
      },
    });
  return {
    ...base,
    services(ctx) {
      const services = base.services(ctx) as Record<string, object | undefined>;
      return Object.fromEntries(
        Object.entries(services).map(([role, svc]) => {
          const kind = OBJECT_KIND[role];
          return [role, svc && kind ? wrap(svc, kind) : svc];
        }),
      ) as ReturnType<typeof base.services>;
    },
  };
}

export const newLog = (): CallLog => ({ entries: [], inFlight: 0, peak: 0, dnsDeleteIgnoresHint: false });
