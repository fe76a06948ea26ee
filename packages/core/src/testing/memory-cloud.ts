import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { AlreadyExistsError, K3sinfraError, ThrottledError } from "../errors.js";
import type { Tags } from "../resources/common.js";

/** One object in the fake cloud. */
export interface MemoryObject {
  readonly kind: "network" | "node" | "datastore" | "loadBalancer" | "dnsRecord" | "secret";
  readonly id: string;
  readonly name: string;
  readonly token: string;
  tags: Record<string, string>;
  data: Record<string, unknown>;
}

/** A call the fake cloud received. */
export interface MemoryCall {
  readonly op: string;
  readonly kind: MemoryObject["kind"];
  readonly mutating: boolean;
}

/** Thrown by the fake cloud to simulate the process dying right after the cloud did the work. */
export class SimulatedCrash extends Error {
  constructor(call: number, op: string) {
    super(`simulated crash after mutating call #${call} (${op})`);
    this.name = "SimulatedCrash";
  }
}

export interface MemoryCloudOptions {
  /** Persist the fake cloud to this JSON file, so separate processes (CLI runs) see the same objects. */
  readonly persistPath?: string | undefined;
}

/**
 * An in-memory cloud for tests and dry runs. It records every call, enforces the rules the contracts rely
 * on (unique names, deletion protection) and fails or "crashes" at the k-th mutating call on demand.
 */
export class MemoryCloud {
  readonly objects = new Map<string, MemoryObject>();
  readonly calls: MemoryCall[] = [];
  /** Throw `SimulatedCrash` after performing the k-th mutating call (1-based). */
  crashAt: number | undefined;
  /** Throw a retryable throttling error instead of performing the k-th mutating call. */
  throttleAt: number | undefined;
  /** Throw a non-retryable error instead of performing the k-th mutating call. */
  failAt: number | undefined;
  /**
   * Test back door: how long a create or delete of each kind stays in progress, counted in status polls — a
   * logical clock, so tests of ordering need no wall-clock sleep. A service that waits as a real cloud's does
   * polls `progress` until it answers done (each poll a recorded read); the in-memory provider's own services
   * do not wait. Default: done at the first poll.
   */
  readonly delays: Partial<
    Record<MemoryObject["kind"], { readonly create?: number; readonly delete?: number }>
  > = {};
  readonly #progress = new Map<string, number>();
  #mutations = 0;
  #counter = 0;
  readonly #persistPath: string | undefined;

  constructor(options: MemoryCloudOptions = {}) {
    this.#persistPath = options.persistPath;
    if (this.#persistPath) {
      try {
        const saved = JSON.parse(readFileSync(this.#persistPath, "utf8")) as {
          counter: number;
          objects: MemoryObject[];
        };
        this.#counter = saved.counter;
        for (const o of saved.objects) this.objects.set(o.id, o);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
  }

  /** Number of mutating calls so far. */
  get mutations(): number {
    return this.#mutations;
  }

  /** Every live object, with its tags: the back door tests verify through. */
  inventory(): MemoryObject[] {
    return [...this.objects.values()];
  }

  /** Objects carrying every given tag. */
  withTags(tags: Tags, kind?: MemoryObject["kind"]): MemoryObject[] {
    return this.inventory().filter(
      (o) => (!kind || o.kind === kind) && Object.entries(tags).every(([k, v]) => o.tags[k] === v),
    );
  }

  /** Records a read. */
  read(op: string, kind: MemoryObject["kind"]): void {
    this.calls.push({ op, kind, mutating: false });
  }

  /**
   * One status poll of the create or delete of `key` (a resource or object id): recorded as the read
   * `poll-<op>`; true once it has been polled more than `delays[kind][op]` times.
   */
  progress(kind: MemoryObject["kind"], op: "create" | "delete", key: string): boolean {
    this.read(`poll-${op}`, kind);
    const k = `${kind}:${op}:${key}`;
    const polls = (this.#progress.get(k) ?? 0) + 1;
    const done = polls > (this.delays[kind]?.[op] ?? 0);
    if (done) this.#progress.delete(k);
    else this.#progress.set(k, polls);
    return done;
  }

  /** Runs a mutating call with fault injection around it. */
  mutate<T>(op: string, kind: MemoryObject["kind"], fn: () => T): T {
    this.calls.push({ op, kind, mutating: true });
    const n = ++this.#mutations;
    if (n === this.throttleAt)
      throw new ThrottledError(`${op}: rate exceeded (injected)`, { retryAfterSeconds: 0 });
    if (n === this.failAt)
      throw new K3sinfraError("ProviderError", `${op}: injected failure at mutating call #${n}`);
    const result = fn();
    this.#save();
    if (n === this.crashAt) throw new SimulatedCrash(n, op);
    return result;
  }

  /** Creates an object, or returns the one made earlier with the same idempotency token. */
  put(
    kind: MemoryObject["kind"],
    name: string,
    token: string,
    tags: Tags,
    data: Record<string, unknown>,
  ): MemoryObject {
    const same = this.inventory().find((o) => o.kind === kind && o.token === token);
    if (same) return same;
    if (this.inventory().some((o) => o.kind === kind && o.name === name)) {
      throw new AlreadyExistsError(`${kind} ${name} already exists with another idempotency token`);
    }
    const id = `${kind}-${(++this.#counter).toString(16).padStart(6, "0")}`;
    const obj: MemoryObject = { kind, id, name, token, tags: { ...tags }, data };
    this.objects.set(id, obj);
    return obj;
  }

  // Back doors: drift made outside k3sinfra, as a user in a console would. They are not provider calls, so
  // they are not recorded in `calls` and never fault.

  /** Stops a node (a provider's `update` starts it again). */
  stopNode(id: string): void {
    this.#change(id, "node", (o) => {
      o.data = { ...o.data, status: "stopped" };
    });
  }

  /** Deletes an object behind k3sinfra's back (a node terminated in the console). */
  deleteObject(id: string): void {
    if (!this.objects.delete(id)) throw new Error(`no object ${id}`);
    this.#save();
  }

  /** Adds an ingress rule to a network that its spec does not have (its `rulesDigest` changes). */
  changeNetworkRules(id: string, rule = "nodes tcp 22 from 0.0.0.0/0"): void {
    this.#change(id, "network", (o) => {
      o.data = { ...o.data, rules: [...(o.data.rules as string[]), rule] };
    });
  }

  /** Removes one node from a load balancer's targets. */
  deregisterTarget(lbId: string, nodeId: string): void {
    this.#change(lbId, "loadBalancer", (o) => {
      o.data = { ...o.data, targets: (o.data.targets as string[]).filter((t) => t !== nodeId) };
    });
  }

  /** Makes a node's load balancer health checks fail (`true`) or pass again (`false`). */
  failHealthChecks(nodeId: string, failing = true): void {
    this.#change(nodeId, "node", (o) => {
      o.data = { ...o.data, healthFailing: failing };
    });
  }

  /** Sets what a node's console shows (its boot script's stage lines), as a failing boot would leave it. */
  setBootLog(nodeId: string, log: string): void {
    this.#change(nodeId, "node", (o) => {
      o.data = { ...o.data, bootLog: log };
    });
  }

  // Read-only back doors for the conformance suite: the cloud's own view of an object, not the provider's.

  /** Lifecycle status as the cloud would report it; objects other than nodes are ready once they exist. */
  status(id: string): string | undefined {
    const o = this.objects.get(id);
    if (!o) return undefined;
    const ready = {
      node: "running",
      datastore: "available",
      loadBalancer: "active",
      network: "available",
      secret: "available",
    };
    return (o.data.status as string | undefined) ?? (o.kind === "dnsRecord" ? "INSYNC" : ready[o.kind]);
  }

  /** A DNS record's type and values as stored. */
  record(id: string): { type: string; values: string[]; inSync: boolean } | undefined {
    const o = this.objects.get(id);
    if (o?.kind !== "dnsRecord") return undefined;
    return { type: o.data.type as string, values: [...(o.data.values as string[])], inSync: true };
  }

  /** Node ids registered with a load balancer. */
  targets(lbId: string): string[] {
    const o = this.objects.get(lbId);
    return o?.kind === "loadBalancer" ? [...((o.data.targets as string[] | undefined) ?? [])] : [];
  }

  /** Values published to a node, as its bootstrap would read them. */
  published(nodeId: string): Record<string, string> {
    const o = this.objects.get(nodeId);
    return { ...((o?.data.published as Record<string, string> | undefined) ?? {}) };
  }

  #change(id: string, kind: MemoryObject["kind"], fn: (o: MemoryObject) => void): void {
    const o = this.objects.get(id);
    if (!o || o.kind !== kind) throw new Error(`no ${kind} ${id}`);
    fn(o);
    this.#save();
  }

  #save(): void {
    if (!this.#persistPath) return;
    mkdirSync(dirname(this.#persistPath), { recursive: true });
    const tmp = `${this.#persistPath}.tmp`;
    writeFileSync(tmp, JSON.stringify({ counter: this.#counter, objects: this.inventory() }, null, 2), {
      mode: 0o600,
    });
    renameSync(tmp, this.#persistPath);
  }
}
