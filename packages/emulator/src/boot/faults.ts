/**
 * The injected bootstrap faults of one cloud (`Emulator.failBootstrap`, `clearBootstrapFault`, the `bootFaults`
 * option), kept in its persisted state: per instance, or as rules for every instance carrying some tags (existing
 * or launched later). The cloud says what an instance's id, tags and launch time are, and how its tags match a
 * rule's (equal on AWS; as labels on Google Cloud).
 */
import type { BootStage } from "../types.js";
import {
  type BootFault,
  type BootTimelineState,
  checkStage,
  DEFAULT_REASON,
  matches,
  sameTags,
} from "./model.js";

/** What the faults need of an instance. */
export interface FaultSubject {
  id: string;
  tags: Record<string, string>;
  launchedAt: number;
}

/** An `EmulatorOptions.bootFaults` entry. */
export interface BootFaultOption {
  tags: Record<string, string>;
  stage: BootStage;
  reason?: string;
}

/** One cloud's faults over its state slice (see the module comment). */
export class BootFaultBook {
  /**
   * `state`: the persisted slice; `now`: the emulator's clock; `tagsMatch(instanceTags, wanted)`: whether an
   * instance carries a rule's tags (default: every entry equal).
   */
  constructor(
    private readonly state: () => BootTimelineState,
    private readonly now: () => number,
    private readonly tagsMatch: (
      tags: Record<string, string>,
      want: Record<string, string>,
    ) => boolean = matches,
  ) {}

  /** `EmulatorOptions.bootFaults` become rules from now on; rules of an earlier start no longer listed end now. */
  init(wanted: readonly BootFaultOption[]): void {
    const now = this.now();
    const state = this.state();
    for (const r of state.rules) {
      if (!r.fromOptions || r.until !== undefined) continue;
      if (!wanted.some((w) => sameTags(w.tags, r.tags) && w.stage === r.stage)) r.until = now;
    }
    for (const w of wanted) {
      const stage = checkStage(w.stage);
      const open = state.rules.find(
        (r) => r.fromOptions && r.until === undefined && sameTags(r.tags, w.tags) && r.stage === stage,
      );
      if (!open)
        state.rules.push({
          tags: { ...w.tags },
          stage,
          reason: w.reason ?? DEFAULT_REASON,
          since: now,
          fromOptions: true,
        });
    }
  }

  /** Fails the boot of instance `target` (an id the cloud resolved) or of every instance carrying `tags`. */
  fail(target: string | { tags: Record<string, string> }, stage: BootStage, why = DEFAULT_REASON): void {
    const now = this.now();
    // One console line.
    const reason = why.replace(/\s+/g, " ").trim() || DEFAULT_REASON;
    if (typeof target !== "string") {
      this.state().rules.push({ tags: { ...target.tags }, stage, reason, since: now });
      return;
    }
    const faults = this.state().faults;
    faults[target] ??= [];
    faults[target].push({ stage, reason, setAt: now });
  }

  /**
   * Ends the faults of instance `target`, or the rules with exactly these tags and the own faults of the
   * `instances` carrying them.
   */
  clear(target: string | { tags: Record<string, string> }, instances: Iterable<FaultSubject>): void {
    const now = this.now();
    const state = this.state();
    const end = (f: BootFault) => {
      if (f.clearedAt === undefined) f.clearedAt = now;
    };
    if (typeof target !== "string") {
      for (const r of state.rules) if (r.until === undefined && sameTags(r.tags, target.tags)) r.until = now;
      for (const i of instances)
        if (this.tagsMatch(i.tags, target.tags)) for (const f of state.faults[i.id] ?? []) end(f);
      return;
    }
    for (const f of state.faults[target] ?? []) end(f);
  }

  /** The instance's own faults and those of the rules it matches (from its launch or the rule, whichever is later). */
  of(i: FaultSubject): BootFault[] {
    const state = this.state();
    const out = [...(state.faults[i.id] ?? [])];
    for (const r of state.rules) {
      if (!this.tagsMatch(i.tags, r.tags)) continue;
      out.push({
        stage: r.stage,
        reason: r.reason,
        setAt: Math.max(r.since, i.launchedAt),
        ...(r.until !== undefined ? { clearedAt: r.until } : {}),
      });
    }
    return out;
  }
}
