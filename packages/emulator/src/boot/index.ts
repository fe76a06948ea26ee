/**
 * The boot of a k3sinfra server as any cloud shows it, cloud-neutral (it imports no cloud folder): the stages,
 * the fault book, the timeline and its console rendering. A cloud supplies its instance's boot start, tags and
 * first console lines, and renders the result through its own API (docs/emulator.md, "The boot of a k3sinfra
 * server").
 */
export { BootFaultBook, type BootFaultOption, type FaultSubject } from "./faults.js";
export {
  BOOT_STAGES,
  type BootFault,
  type BootFaultRule,
  type BootTimelineState,
  checkStage,
  DEFAULT_BOOT_TIME_MS,
  DEFAULT_REASON,
  iso,
  type Line,
  matches,
  STAGE_OFFSETS,
  type Timeline,
} from "./model.js";
export { type BootInput, bootTimeline, consoleText, failedBefore, stretchOf } from "./timeline.js";
