/**
 * Google Cloud as its Node clients call it over HTTP/REST: Compute Engine v1 (compute.ts) with zonal,
 * regional and global operations. Every request needs an `Authorization` header (the clients send the
 * service account's self-signed JWT or an OAuth token); the project is taken from the path, and a project
 * seen for the first time has the default network. Point the clients at `endpoint()` with
 * `apiEndpoint`/`port`/`protocol: "http"`.
 */
import type { CloudContext, CloudHandler, CloudRequest, RoutedCall } from "../cloud.js";
import { watchState } from "../persistence.js";
import type { InventoryItem } from "../types.js";
import { Compute } from "./compute.js";
import { emptyState, type GcpState, statusAt } from "./model.js";

export class GcpCloud implements CloudHandler {
  readonly name = "gcp";
  #raw: GcpState = emptyState();
  #view: GcpState = this.#raw;
  #onChange: (() => void) | undefined;
  readonly #compute: Compute;

  constructor(ctx: CloudContext) {
    const state = () => this.#view;
    this.#compute = new Compute(state, ctx);
  }

  endpoint(baseUrl: string): string {
    return baseUrl;
  }

  route(req: CloudRequest): RoutedCall | undefined {
    return this.#compute.route(req);
  }

  inventory(opts: { includeDefaults: boolean }): InventoryItem[] {
    this.#compute.sweep();
    const items: InventoryItem[] = [];
    for (const r of Object.values(this.#view.compute)) {
      const seeded = r.name === "default" && (r.collection === "networks" || r.collection === "subnetworks");
      if (seeded && !opts.includeDefaults) continue;
      const item: InventoryItem = {
        cloud: "gcp",
        service: "compute",
        type: r.collection,
        id: r.path,
        name: r.name,
        state: r.deleteAt !== undefined ? "DELETING" : (statusAt(r.timeline, this.#now()) ?? "READY"),
        tags: { ...((r.body.labels as Record<string, string> | undefined) ?? {}) },
      };
      if (r.scope.kind !== "global") item.region = r.scope.name.replace(/-[a-z]$/, "");
      if (typeof r.body.description === "string") item.comment = r.body.description;
      items.push(item);
    }
    return items;
  }

  #now(): number {
    return this.#compute.now;
  }

  snapshot(): unknown {
    return this.#raw;
  }

  restore(data: unknown): void {
    const s = data as GcpState | undefined;
    if (s && s.version === 1) {
      this.#raw = { ...emptyState(), ...s };
      this.#view = this.#onChange ? watchState(this.#raw, this.#onChange) : this.#raw;
    }
  }

  watch(onChange: () => void): void {
    this.#onChange = onChange;
    this.#view = watchState(this.#raw, onChange);
  }

  init(): void {}
}

export const createGcpCloud = (ctx: CloudContext): CloudHandler => new GcpCloud(ctx);
