import { Readable } from "node:stream";
import type { PlannedChange, ProgressEvent } from "@k3sinfra/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CliIo } from "../src/io.js";
import { main } from "../src/main.js";
import { LiveRenderer } from "../src/render/progress.js";
import { makeStyle } from "../src/render/style.js";
import { INTERRUPT_NOTICE } from "../src/signals.js";
import { tempDir, writeMemoryConfig } from "./helpers.js";
import { Screen } from "./screen.js";

const plain = makeStyle(false);
const ev = (
  resource: string,
  action: "create" | "delete" | "read",
  phase: "start" | "progress" | "done" | "failed" | "skipped",
  extra: { message?: string; elapsedMs?: number } = {},
): ProgressEvent => ({ type: "resource", resource, action, phase, ...extra });
const SPINNERS = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

afterEach(() => {
  vi.useRealTimers();
});

describe("live view on a terminal", () => {
  it("reads vanish once done (failed ones stay), and a later delete gets its own row and clock", () => {
    const screen = new Screen();
    const r = new LiveRenderer(screen.writer(), plain);
    r.onEvent(ev("network", "read", "start"));
    r.onEvent(ev("network", "read", "done"));
    r.onEvent(ev("dns", "read", "start"));
    r.onEvent(ev("dns", "read", "failed", { message: "403 Forbidden" }));
    r.onEvent(ev("node-0", "read", "start"));
    r.note("redraw");
    // The vanished read still counts in the footer.
    expect(screen.text().split("\n").at(-1)).toMatch(/^ {2}1 done · 1 in progress · 1 failed · \S+$/);
    r.onEvent(ev("node-0", "read", "done"));
    r.onEvent(ev("network", "delete", "skipped", { message: "kept until the failures are fixed" }));
    r.stop();
    const lines = screen.text().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("redraw");
    expect(lines[1]).toMatch(/^ {2}✗ dns\s+read\s+\S+\s+403 Forbidden$/);
    expect(lines[2]).toMatch(/^ {2}- network\s+delete\s+\S+\s+kept until the failures are fixed$/);
  });

  it("prints information as a note above the area, dimmed on a color terminal, never as a warning", () => {
    const screen = new Screen();
    const r = new LiveRenderer(screen.writer(), plain);
    r.onEvent(ev("bootstrap", "create", "start"));
    r.onEvent({ type: "info", message: "Datastore check skipped: not reachable from this machine." });
    r.onEvent(ev("bootstrap", "create", "done", { elapsedMs: 100 }));
    r.stop();
    const lines = screen.text().split("\n");
    expect(lines[0]).toBe("Note: Datastore check skipped: not reachable from this machine.");
    expect(screen.text()).not.toContain("Warning");
    let colored = "";
    const c = new LiveRenderer(
      { write: (s: string) => (colored += s), columns: 80, rows: 50 },
      makeStyle(true),
    );
    c.onEvent({ type: "info", message: "expected" });
    c.stop();
    expect(colored).toBe(`${makeStyle(true).dim("Note: expected")}\n`);
  });

  it("cuts a long message to the terminal's width, with an ellipsis", () => {
    const screen = new Screen();
    const r = new LiveRenderer(screen.writer(60), plain);
    r.onEvent(ev("node-0", "create", "start", { message: `waiting: instance ${"i".repeat(80)} is pending` }));
    r.stop();
    const line = screen.text();
    expect(line.length).toBe(59);
    expect(line.endsWith("i…")).toBe(true);
  });

  it("freezes a finished row's elapsed time even when the event carries none", () => {
    vi.useFakeTimers({ now: 0 });
    const screen = new Screen();
    const r = new LiveRenderer(screen.writer(), plain);
    r.onEvent(ev("node-0", "create", "start"));
    r.onEvent(ev("datastore", "create", "start"));
    vi.setSystemTime(2_500);
    r.onEvent(ev("node-0", "create", "done"));
    vi.advanceTimersByTime(10_000);
    r.onEvent(ev("datastore", "create", "done", { elapsedMs: 12_500 }));
    r.stop();
    expect(screen.text()).toMatch(/✓ node-0\s+create\s+2\.5s\s+done/);
    expect(screen.text()).toMatch(/✓ datastore\s+create\s+12\.5s\s+done/);
  });

  it("never grows taller than the terminal: finished rows fold into one line, the last frame lists all", () => {
    vi.useFakeTimers();
    const screen = new Screen();
    const r = new LiveRenderer(screen.writer(80, 8), plain);
    for (let i = 0; i < 10; i++) r.onEvent(ev(`node-${i}`, "create", "start"));
    for (let i = 0; i < 7; i++) r.onEvent(ev(`node-${i}`, "create", "done", { elapsedMs: 1000 }));
    vi.advanceTimersByTime(100);
    const live = screen.text().split("\n");
    expect(live.length).toBeLessThanOrEqual(6);
    expect(live[0]).toMatch(/✓ \d+ more finished/);
    for (const i of [7, 8, 9]) expect(screen.text()).toMatch(new RegExp(`node-${i}\\s+create`));
    // Many in flight at once: cut with a count, still within the height.
    for (let i = 10; i < 20; i++) r.onEvent(ev(`node-${i}`, "create", "start"));
    vi.advanceTimersByTime(100);
    expect(screen.text().split("\n").length).toBeLessThanOrEqual(6);
    expect(screen.text()).toMatch(/… and \d+ more in progress/);
    for (let i = 7; i < 20; i++) r.onEvent(ev(`node-${i}`, "create", "done", { elapsedMs: 1000 }));
    r.stop();
    const final = screen.text().split("\n");
    expect(final).toHaveLength(20);
    expect(final.every((l) => /^ {2}✓ node-\d+\s+create\s+1\.0s\s+done$/.test(l))).toBe(true);
  });

  it("while work runs, a footer counts done, in progress and waiting against the plan; the last frame has none", () => {
    const screen = new Screen();
    const r = new LiveRenderer(screen.writer(), plain);
    const change = (resource: string): PlannedChange => ({
      resource,
      kind: "nodes",
      action: "create",
      reason: "new",
      dependsOn: [],
    });
    r.onEvent({
      type: "plan",
      plan: { cluster: "c", empty: false, warnings: [], changes: ["a", "b", "c", "d"].map(change) },
    });
    r.onEvent(ev("a", "create", "start"));
    r.onEvent(ev("b", "create", "start"));
    r.onEvent(ev("a", "create", "done", { elapsedMs: 10 }));
    r.settle(); // settle draws the frame as it stands, footer excluded, and starts afresh
    r.onEvent(ev("c", "create", "start"));
    r.onEvent({
      type: "plan",
      plan: { cluster: "c", empty: false, warnings: [], changes: ["c", "d", "e"].map(change) },
    });
    r.note("redraw now");
    expect(screen.text().split("\n").at(-1)).toMatch(/^ {2}0\/3 done · 1 in progress · 2 waiting · \S+$/);
    r.onEvent(ev("c", "create", "failed", { message: "boom" }));
    r.note("redraw again");
    expect(screen.text().split("\n").at(-1)).toMatch(/^ {2}0\/3 done · 2 waiting · 1 failed · \S+$/);
    // Without a plan event (destroy), the command says how many to expect.
    r.settle();
    r.expect(2);
    r.onEvent(ev("x", "delete", "start"));
    r.note("redraw once more");
    expect(screen.text().split("\n").at(-1)).toMatch(/^ {2}0\/2 done · 1 in progress · 1 waiting · \S+$/);
    r.onEvent(ev("x", "delete", "done", { elapsedMs: 5 }));
    r.stop();
    expect(screen.text()).not.toMatch(/done ·/);
  });

  it("after Ctrl-C, resources that stop are shown as interrupted, not as failures", () => {
    const screen = new Screen();
    const r = new LiveRenderer(screen.writer(), plain);
    r.onEvent(ev("datastore", "create", "start", { message: "waiting: RDS instance is creating" }));
    r.interrupted();
    r.note(INTERRUPT_NOTICE);
    r.onEvent(ev("datastore", "create", "failed", { message: "The operation was aborted." }));
    r.stop();
    const lines = screen.text().split("\n");
    expect(lines).toEqual([
      INTERRUPT_NOTICE,
      expect.stringMatching(/^ {2}■ datastore\s+create\s+\S+\s+interrupted \(The operation was aborted\.\)$/),
    ]);
  });

  it("draws each frame in one write, so the terminal never shows a half-erased area", () => {
    const writes: string[] = [];
    const r = new LiveRenderer({ write: (s: string) => writes.push(s), columns: 80, rows: 50 }, plain);
    r.onEvent(ev("node-0", "create", "start"));
    r.onEvent(ev("node-0", "create", "progress", { message: "pending" }));
    r.note("a note");
    r.stop();
    const redraws = writes.filter((w) => w.includes("A\r\x1b[0J"));
    expect(redraws.length).toBeGreaterThan(0);
    // The erase is always followed, in the same write, by the redrawn row.
    for (const w of redraws) expect(w.slice(w.indexOf("\x1b[0J"))).toContain("node-0");
  });
});

/** Runs the CLI in-process as on a terminal: stdout and stderr land on one screen, as they do for a person. */
const onTerminal = async (
  args: readonly string[],
  opts: { stdin?: string | "nothing typed"; abortWhen?: (screen: string) => boolean } = {},
): Promise<{ code: number; screen: string; stdout: string }> => {
  const screen = new Screen();
  const controller = new AbortController();
  let stdout = "";
  const check = () => {
    if (opts.abortWhen?.(screen.text()) && !controller.signal.aborted) controller.abort(new Error("SIGINT"));
  };
  const io: CliIo = {
    stdout: {
      write: (s: string) => {
        stdout += s;
        screen.write(s.replace(/\n/g, "\r\n").replace(/\r\r/g, "\r"));
      },
      columns: 100,
    },
    stderr: {
      write: (s: string) => {
        screen.write(s);
        check();
      },
      columns: 100,
      rows: 40,
    },
    env: {},
    isTTY: true,
    // The terminal echoes what the person types, newline included.
    stdin: new Readable({
      read() {
        if (opts.stdin === "nothing typed") return; // waits, as a person thinking it over
        if (opts.stdin !== undefined) {
          screen.write(opts.stdin.replace(/\n/g, "\r\n"));
          this.push(opts.stdin);
        }
        this.push(null);
      },
    }),
    signal: controller.signal,
  };
  const code = await main(["node", "k3sinfra", ...args], io);
  return { code, screen: screen.text(), stdout };
};

describe("a whole command on a terminal (plan, prompt, live view and result on one screen)", () => {
  it("up: the plan, the answered prompt, every resource once and finished, then outputs and the verdict", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const { code, screen } = await onTerminal(["--config", config, "up"], { stdin: "yes\n" });
    expect(code).toBe(0);
    expect(screen).toContain("Plan: 8 to create");
    expect(screen).toContain("Only 'yes' will be accepted:");
    for (const r of [
      "network",
      "datastore",
      "node-0",
      "node-1",
      "load-balancer",
      "dns-record",
      "bootstrap",
    ]) {
      const rows = screen.split("\n").filter((l) => new RegExp(`^ {2}\\S ${r}\\s+create\\s`).test(l));
      expect(rows, r).toHaveLength(1);
      expect(rows[0], r).toMatch(/^ {2}✓ /);
    }
    expect(screen).not.toMatch(SPINNERS);
    expect(screen.match(/Secrets are masked/g)).toHaveLength(1);
    expect(screen.trimEnd().split("\n").at(-1)).toMatch(
      /^Up complete: 8 created, 0 updated, 0 replaced, 0 deleted in \S+\. Rancher: https:\/\/rancher\.example\.com$/,
    );
  });

  it("destroy: the refresh reads do not overwrite the list, the protection notice or the prompt", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    expect((await onTerminal(["--config", config, "up", "--yes"])).code).toBe(0);
    const { code, screen } = await onTerminal(["--config", config, "destroy"], { stdin: "no\n" });
    expect(code).toBe(1);
    expect(screen).toContain("k3sinfra will delete cluster memtest:");
    expect(screen).toMatch(/^ {2}- {2}node-0\s+nodes/m);
    expect(screen).toContain("deletion protection");
    expect(screen).toContain("Do you really want to destroy cluster memtest? This cannot be undone.");
    expect(screen).toContain("Destroy cancelled; nothing was deleted.");
    expect(screen).not.toMatch(/\sread\s/);
  });

  it("Ctrl-C at the prompt: exit 130, nothing changed, and no talk of calls in flight", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const { code, screen } = await onTerminal(["--config", config, "up"], {
      stdin: "nothing typed",
      abortWhen: (s) => s.includes("Only 'yes' will be accepted:"),
    });
    expect(code).toBe(130);
    expect(screen).toMatch(
      /Only 'yes' will be accepted: \nInterrupted at the confirmation prompt; nothing was changed\.$/,
    );
    expect(screen).not.toContain(INTERRUPT_NOTICE);
    expect(screen).not.toContain("State keeps");
  });

  it("Ctrl-C during up: the notice shows once through the live view, and the run ends interrupted (130)", async () => {
    const dir = await tempDir();
    const config = await writeMemoryConfig(dir);
    const { code, screen } = await onTerminal(["--config", config, "up", "--yes"], {
      abortWhen: (s) => /node-0\s+create/.test(s),
    });
    expect(code).toBe(130);
    expect(screen.split(INTERRUPT_NOTICE)).toHaveLength(2);
    expect(screen).toContain("Interrupted. State keeps every resource that finished");
    expect(screen).not.toMatch(SPINNERS);
  });
});
