import { randomUUID } from "node:crypto";
import { idempotencyToken, physicalName } from "../naming.js";
import type { ClusterState, Intent, ResourceKind, ResourceRecord } from "../state/types.js";
import { desiredResources, kindOf, lookupIn, type RecordedState } from "./kinds/index.js";
import type { ClusterRun } from "./run.js";

/** A typed value as the state keeps it: a JSON object of its fields. */
export const asRecord = <T extends object>(value: T): Readonly<Record<keyof T & string, unknown>> => value;

/** The resource a record is written for: its graph id, kind and provider. */
export interface RecordTarget {
  readonly id: string;
  readonly kind: ResourceKind;
  readonly provider: string;
}

/** An intent for one resource generation: the idempotency token and physical name its calls use. */
export function intent(
  run: ClusterRun,
  resource: string,
  action: Intent["action"],
  generation: number,
): Intent {
  const state = run.state;
  if (!state) throw new Error("state not loaded");
  return {
    id: randomUUID(),
    resource,
    action,
    token: idempotencyToken(state.lineage, resource, generation),
    name: physicalName(run.config.name, resource, generation),
    generation,
    startedAt: new Date().toISOString(),
  };
}

/**
 * Announces a mutating call before it is made, so a crash in the middle resumes without duplicates; the
 * intents it supersedes (by default every other one of the resource) leave the journal in the same write.
 * Returns the intent's id, which `record`, `forget` or `clear` takes out of the journal once the call is done.
 */
export async function journal(
  run: ClusterRun,
  resource: string,
  action: Intent["action"],
  generation: number,
  supersedes: (i: Intent) => boolean = (i) => i.resource === resource,
): Promise<string> {
  const next = intent(run, resource, action, generation);
  await run.save((s) => ({ journal: [...s.journal.filter((i) => !supersedes(i)), next] }));
  return next.id;
}

/** Takes a finished call's intent out of the journal (plus whatever else `extra` writes at the same time). */
export async function clear(
  run: ClusterRun,
  intentId: string,
  extra: (s: ClusterState) => Partial<ClusterState> = () => ({}),
): Promise<void> {
  await run.save((s) => ({ journal: s.journal.filter((i) => i.id !== intentId), ...extra(s) }));
}

/** The records after a finished create or update, with inputs computed against the states as they are now. */
function recordsWith(
  run: ClusterRun,
  s: ClusterState,
  d: RecordTarget,
  generation: number,
  state: RecordedState,
): Record<string, ResourceRecord> {
  const now = new Date().toISOString();
  const prev = s.resources[d.id];
  const written: ResourceRecord = {
    resource: d.id,
    kind: d.kind,
    provider: d.provider,
    generation,
    inputs: {},
    state,
    createdAt: prev?.generation === generation ? prev.createdAt : now,
    updatedAt: now,
  };
  const resources = { ...s.resources, [d.id]: written };
  // Inputs are computed against the states as they are now, so the next plan sees no difference.
  const desired = desiredResources(run.resolved).find((x) => x.id === d.id);
  const inputs = desired ? kindOf(desired.kind).inputs(run.builder(s), desired, lookupIn(resources)) : {};
  return { ...resources, [d.id]: { ...written, inputs } };
}

/** Records a finished create or update and clears its intent, in one write (with `extra`, if any). */
export async function record(
  run: ClusterRun,
  d: RecordTarget,
  generation: number,
  state: RecordedState,
  intentId: string,
  extra: (s: ClusterState) => Partial<ClusterState> = () => ({}),
): Promise<void> {
  await run.save((s) => ({
    resources: recordsWith(run, s, d, generation, state),
    journal: s.journal.filter((i) => i.id !== intentId),
    ...extra(s),
  }));
}

/**
 * Drops a deleted resource from state. With `next`, the replacement's create intent is journaled in the same
 * write, so a crash right after never loses the new generation (reusing the old one would replay the old
 * idempotency token, which a cloud may answer with the terminated instance).
 */
export async function forget(
  run: ClusterRun,
  id: string,
  intentId: string | undefined,
  next?: Intent,
): Promise<void> {
  await run.save((s) => {
    const { [id]: _gone, ...rest } = s.resources;
    const journal = s.journal.filter((i) => i.id !== intentId && !(next && i.resource === id));
    if (next) journal.push(next);
    return { resources: rest, journal };
  });
}
