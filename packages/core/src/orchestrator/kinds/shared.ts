import { createHash } from "node:crypto";
import { ProviderError } from "../../errors.js";
import type { ResourceService, ResourceState } from "../../resources/common.js";
import type { KindHandler } from "./types.js";

/** A short digest for inputs: a change shows, the value does not. */
export const hash = (s: string): string => createHash("sha256").update(s).digest("hex").slice(0, 16);

/** An input value as a string: strings as they are, anything else as JSON. */
export const str = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v ?? null));

/** The input of a value a dependency decides: always differs, so dependents follow their dependencies. */
export const AFTER = "(known after apply)";

/** A handler over one resource service; the spec is built only when a call needs it. */
export function serviceHandler<Spec, State extends ResourceState>(
  svc: ResourceService<Spec, State>,
  spec: () => Spec,
): KindHandler<State> {
  return {
    create: (ctx) => svc.create(spec(), ctx),
    update: (s, ctx) => {
      if (!svc.update) throw new ProviderError(`${ctx.resource}: the provider cannot update it in place`);
      return svc.update(s, spec(), ctx);
    },
    delete: (s, ctx) => svc.delete(s, ctx),
    read: (s, ctx) => svc.read(s, ctx),
    find: (t, ctx) => svc.findByTags(t, ctx),
  };
}

/** How plans explain deleting a replaced resource that is not a server. */
export const replacedReason = (resource: string, state: ResourceState): string =>
  `the ${resource} ${state.id} that was replaced: deleted once its successor serves and DNS points at it`;
