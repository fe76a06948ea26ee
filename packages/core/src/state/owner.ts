import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import type { LockInfo } from "./types.js";

/** Who holds a lock, as a process on this machine: what the lock records so another run can check on it. */
export interface ProcessIdentity {
  readonly host: string;
  readonly pid: number;
  /**
   * `<boot id>/<pid namespace>/<start time in clock ticks>` on Linux, so a pid reused after the holder died,
   * a reboot, or another container with the same host name is never mistaken for the holder; absent elsewhere.
   */
  readonly processStart?: string;
}

/** Reads a /proc file; undefined where /proc does not exist (macOS, Windows) or the process is gone. */
function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Field 22 (starttime) of `/proc/<pid>/stat`, and whether the process has exited but was not reaped yet
 * (a zombie); undefined when the file cannot be read.
 */
export function procStat(pid: number | "self"): { start: string; exited: boolean } | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 2 (comm) is in parentheses and may itself contain spaces or `)`: count from the last `)`.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const start = fields[19];
  if (start === undefined || !/^\d+$/.test(start)) return undefined;
  return { start, exited: fields[0] === "Z" || fields[0] === "X" };
}

/** `<boot id>/<pid namespace>`: pids are comparable only between processes that share both. */
function pidScope(): string | undefined {
  const boot = readProc("/proc/sys/kernel/random/boot_id")?.trim();
  let namespace: string | undefined;
  try {
    namespace = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1];
  } catch {
    namespace = undefined;
  }
  return boot && namespace ? `${boot}/${namespace}` : undefined;
}

/** This process, as a lock records it. */
export function currentProcess(): ProcessIdentity {
  const scope = pidScope();
  const start = scope && procStat("self")?.start;
  return {
    host: hostname(),
    pid: process.pid,
    ...(scope && start ? { processStart: `${scope}/${start}` } : {}),
  };
}

/** True when a process with this pid exists (possibly another user's: EPERM still means it exists). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Why the lock's holder is certainly gone, or undefined when it may still be running (or we cannot tell).
 * Only a holder on this host, in this boot and pid namespace, can be checked: any doubt leaves the lock to its
 * lease, because taking over a live holder's lock would let two runs change one cluster.
 */
export function ownerGone(info: LockInfo, self: ProcessIdentity = currentProcess()): string | undefined {
  const { host, pid, processStart } = info;
  if (host === undefined || pid === undefined || host !== self.host) return undefined;
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (processStart !== undefined || self.processStart !== undefined) {
    // Both must come from /proc in the same boot and pid namespace, else the pids name different processes.
    if (processStart === undefined || self.processStart === undefined) return undefined;
    const cut = processStart.lastIndexOf("/");
    if (processStart.slice(0, cut) !== self.processStart.slice(0, self.processStart.lastIndexOf("/")))
      return undefined;
    const now = procStat(pid);
    // Unreadable yet existing: /proc mounted with hidepid hides other users' processes; assume it runs.
    if (now === undefined)
      return pidExists(pid) ? undefined : `its process (pid ${pid}) is no longer running`;
    if (now.exited) return `its process (pid ${pid}) has exited`;
    if (now.start !== processStart.slice(cut + 1))
      return `its process (pid ${pid}) is no longer running; that pid now belongs to another process`;
    return undefined;
  }
  return pidExists(pid) ? undefined : `its process (pid ${pid}) is no longer running`;
}
