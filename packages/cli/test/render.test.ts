import type { ClusterOutputs, Plan, StatusReport } from "@k3sinfra/core";
import {
  AbortedError,
  DeletionProtectedError,
  InvalidConfigError,
  K3sinfraError,
  LockHeldError,
  NotFoundError,
  PartialFailureError,
  PlanRefusedError,
  ProviderError,
} from "@k3sinfra/core";
import { describe, expect, it } from "vitest";
import { ExitCode } from "../src/exit-codes.js";
import { errorJson, exitCodeFor, renderError, UsageError, withStateFlags } from "../src/render/errors.js";
import { renderOutputs } from "../src/render/outputs.js";
import { planSummary, renderPlan } from "../src/render/plan.js";
import { LiveRenderer, PlainRenderer } from "../src/render/progress.js";
import { renderStatus } from "../src/render/status.js";
import { colorsEnabled, makeStyle } from "../src/render/style.js";

const plain = makeStyle(false);

const plan: Plan = {
  cluster: "prod",
  empty: false,
  warnings: ["the datastore has no high availability"],
  changes: [
    { resource: "network", kind: "network", action: "no-op", reason: "up to date", dependsOn: [] },
    { resource: "node-1", kind: "nodes", action: "create", reason: "not in state", dependsOn: ["network"] },
    {
      resource: "node-2",
      kind: "nodes",
      action: "replace",
      reason: "diskGiB changed (50 → 80): replace",
      fields: ["diskGiB"],
      dependsOn: ["network"],
    },
    {
      resource: "datastore",
      kind: "datastore",
      action: "update",
      reason: "backupRetentionDays changed",
      dependsOn: [],
    },
    { resource: "node-3", kind: "nodes", action: "delete", reason: "count lowered", dependsOn: [] },
  ],
};

describe("plan rendering", () => {
  it("shows each change with its Terraform-style symbol, reason and a summary; unchanged ones are only counted", () => {
    const text = renderPlan(plan, plain);
    expect(text).toMatch(/^\s+\+\s+node-1\s+create\s+not in state$/m);
    expect(text).toMatch(/^\s*-\/\+\s+node-2\s+replace\s+diskGiB changed \(50 → 80\): replace \[diskGiB\]$/m);
    expect(text).toMatch(/^\s+~\s+datastore\s+update\s+backupRetentionDays changed$/m);
    expect(text).toMatch(/^\s+-\s+node-3\s+delete\s+count lowered$/m);
    expect(text).not.toMatch(/^\s+network/m);
    expect(text).toContain("Plan: 1 to create, 1 to update, 1 to replace, 1 to delete (1 unchanged).");
    expect(text).toContain("Warning: the datastore has no high availability");
  });

  it("says so when nothing changes", () => {
    const text = renderPlan({ ...plan, empty: true, warnings: [], changes: [plan.changes[0]!] }, plain);
    expect(text).toContain("No changes.");
    expect(text).not.toContain("Plan:");
  });

  it("colours only when enabled, and in the summary only the counts that are not zero", () => {
    expect(renderPlan(plan, makeStyle(true))).toContain("\x1b[32m");
    const summary = planSummary({ ...plan, changes: [plan.changes[1]!] }, makeStyle(true));
    expect(summary).toContain("\x1b[32m1 to create\x1b[39m");
    expect(summary).toContain(", 0 to update, 0 to replace, 0 to delete.");
    expect(renderPlan(plan, plain)).not.toContain("\x1b[");
  });
});

describe("colours", () => {
  it("are off for NO_COLOR, --no-color and non-terminals", () => {
    expect(colorsEnabled(true, true, {})).toBe(true);
    expect(colorsEnabled(true, true, { NO_COLOR: "1" })).toBe(false);
    expect(colorsEnabled(true, false, {})).toBe(false);
    expect(colorsEnabled(false, true, {})).toBe(false);
  });
});

describe("status rendering", () => {
  const report: StatusReport = {
    cluster: "prod",
    exists: true,
    resources: [
      { resource: "network", kind: "network", status: "ok", id: "vpc-1" },
      { resource: "node-1", kind: "nodes", status: "drifted", id: "i-1", detail: "instance type differs" },
      { resource: "dns", kind: "dns", status: "missing", id: "rec-1" },
    ],
    lock: { owner: "ann@host pid 7", operation: "up", acquiredAt: "2026-01-01T00:00:00Z", id: "lock-123" },
  };
  it("is a table with counts, a next step for drift, and the lock holder", () => {
    const text = renderStatus(report, plain);
    expect(text).toMatch(/RESOURCE\s+KIND\s+STATUS\s+ID\s+DETAIL/);
    expect(text).toMatch(/node-1\s+nodes\s+drifted\s+i-1\s+instance type differs/);
    expect(text).toContain("1 ok, 1 drifted, 1 missing, 0 unknown.");
    expect(text).toContain("lock id lock-123");
    // Locked: the drift is the running up's own work, not something to repair with plan/up.
    expect(text).toContain("`k3sinfra up` is running");
    expect(text).not.toContain("k3sinfra plan");
    expect(renderStatus({ ...report, lock: undefined }, plain)).toContain(
      "Run `k3sinfra plan` to see what `k3sinfra up` would do",
    );
  });
  it("lists resources in creation order (nodes by number) and drops an all-empty DETAIL column", () => {
    const text = renderStatus(
      {
        cluster: "prod",
        exists: true,
        resources: [
          { resource: "dns-record", kind: "dns", status: "ok", id: "r" },
          { resource: "node-10", kind: "nodes", status: "ok", id: "i-10" },
          { resource: "node-2", kind: "nodes", status: "ok", id: "i-2" },
          { resource: "datastore", kind: "datastore", status: "ok", id: "db" },
          { resource: "network", kind: "network", status: "ok", id: "vpc" },
        ],
      },
      plain,
    );
    const names = [...text.matchAll(/^ {2}(\S+)\s+\S+\s+ok/gm)].map((m) => m[1]);
    expect(names).toEqual(["network", "datastore", "node-2", "node-10", "dns-record"]);
    expect(text).not.toContain("DETAIL");
  });

  it("explains a cluster with no state", () => {
    expect(renderStatus({ cluster: "x", exists: false, resources: [] }, plain)).toContain(
      "run `k3sinfra up`",
    );
  });
});

const outputs = (shown: boolean): ClusterOutputs => {
  const secret = (v: string) => (shown ? v : "********");
  return {
    cluster: "prod",
    rancherUrl: "https://rancher.example.com",
    hostname: "rancher.example.com",
    loadBalancer: { mode: "l4", hostname: "lb-1.elb.example" },
    nodes: [
      { resource: "node-1", name: "prod-node-1", zone: "a", privateIp: "10.0.0.1", publicIp: "203.0.113.1" },
      { resource: "node-2", name: "prod-node-2", zone: "b", privateIp: "10.0.1.1" },
    ],
    datastore: { host: "db.internal", port: 3306, tls: true },
    k3s: {
      version: "v1.33.12+k3s1",
      datastoreEndpoint: `mysql://k3sadmin:${secret("pa55")}@tcp(db.internal:3306)/k3s`,
      token: secret("tok3n"),
      tlsSan: ["rancher.example.com"],
      servers: [
        { node: "node-1", configYaml: `token: ${secret("tok3n")}\ntls-san:\n  - rancher.example.com\n` },
      ],
    },
    rancher: {
      version: "2.12.3",
      bootstrapPassword: secret("b00t"),
      installCommands: [
        "helm repo add rancher-stable https://releases.rancher.com/server-charts/stable",
        "helm install rancher \\\n  --set x=y",
      ],
      kubeconfigCommands: [
        "# Without SSH, use run-command.",
        "ssh node-1 sudo cat /etc/rancher/k3s/k3s.yaml",
      ],
    },
    secretsShown: shown,
  };
};

describe("outputs rendering", () => {
  it("lays out the sections a user acts on, with secrets masked and a hint to show them", () => {
    const text = renderOutputs(outputs(false), plain);
    for (const s of [
      "Rancher URL  https://rancher.example.com",
      "Load balancer",
      "lb-1.elb.example",
      "Nodes",
      "Datastore",
      "db.internal:3306",
      "K3s v1.33.12+k3s1",
      "/etc/rancher/k3s/config.yaml on node-1",
      "Rancher 2.12.3",
      "$ helm repo add rancher-stable",
      "Kubeconfig:",
      "--show-secrets",
    ]) {
      expect(text).toContain(s);
    }
    expect(text).toMatch(/prod-node-2\s+b\s+10\.0\.1\.1\s+-/);
    expect(text).not.toMatch(/pa55|tok3n|b00t/);
    expect(text).toContain(
      "copy the K3s configs and install commands from `k3sinfra outputs --show-secrets`",
    );
    // A multi-line command keeps one prompt, with its continuation aligned under it.
    expect(text).toContain("    $ helm install rancher \\\n        --set x=y");
    // Advice in a shell comment is not something to type: no prompt.
    expect(text).toContain("\n    # Without SSH, use run-command.\n    $ ssh node-1");
  });
  it("prints the secrets it is given when shown", () => {
    const text = renderOutputs(outputs(true), plain);
    expect(text).toContain("tok3n");
    expect(text).not.toContain("--show-secrets");
  });
});

describe("errors", () => {
  it("map to the documented exit codes", () => {
    expect(exitCodeFor(new InvalidConfigError([{ path: "name", message: "bad" }]))).toBe(ExitCode.Usage);
    expect(exitCodeFor(new UsageError("x"))).toBe(ExitCode.Usage);
    expect(exitCodeFor(new LockHeldError("held"))).toBe(ExitCode.Locked);
    expect(exitCodeFor(new PartialFailureError([{ resource: "node-1", error: new Error("x") }]))).toBe(
      ExitCode.Partial,
    );
    expect(exitCodeFor(new PlanRefusedError("hostname"))).toBe(ExitCode.PlanRefused);
    expect(exitCodeFor(new AbortedError())).toBe(ExitCode.Interrupted);
    expect(exitCodeFor(new ProviderError("boom"))).toBe(ExitCode.Failure);
    expect(exitCodeFor(new Error("boom"))).toBe(ExitCode.Failure);
  });

  it("print each config issue with its path", () => {
    const text = renderError(
      new InvalidConfigError([
        { path: "loadBalancer.certificate", message: "is only used with mode l7" },
        { path: "name", message: "must be 3-20 lowercase letters" },
      ]),
      plain,
      false,
    );
    expect(text).toContain("  ✗ loadBalancer.certificate: is only used with mode l7");
    expect(text).toContain("  ✗ name: must be 3-20 lowercase letters");
    expect(text).toContain("Error: the config is invalid:");
    const named = renderError(new InvalidConfigError([{ path: "name", message: "x" }]), plain, false, {
      configPath: "clusters/prod.yaml",
    });
    expect(named).toContain("Error: the config clusters/prod.yaml is invalid:");
  });

  it("print the lock holder and the force-unlock hint", () => {
    const text = renderError(
      new LockHeldError("locked by ann@host pid 7 (up) since 10:00, lock id abc"),
      plain,
      false,
    );
    expect(text).toContain("lock id abc");
    expect(text).toContain("k3sinfra force-unlock <lock-id>");
  });

  it("present a destroy stopped by the datastore's deletion protection as announced, with the flag to pass", () => {
    const error = new PartialFailureError([
      {
        resource: "datastore",
        error: new DeletionProtectedError("the datastore db has deletion protection on."),
      },
    ]);
    const text = renderError(error, plain, false, { stateFlags: " --emulate" });
    expect(text).toContain("Destroy stopped at the datastore: it has deletion protection on");
    expect(text).toContain("k3sinfra destroy --allow-protected --emulate");
    expect(text).not.toContain("Error [PartialFailure]");
    expect(exitCodeFor(error)).toBe(ExitCode.Partial);
    const other = new PartialFailureError([{ resource: "node-0", error: new Error("quota") }]);
    expect(renderError(other, plain, false)).toContain("Error [PartialFailure]");
    // By code only: the same words under another code are an ordinary failure.
    const worded = new PartialFailureError([
      {
        resource: "datastore",
        error: new K3sinfraError("DependencyViolation", "it has deletion protection on"),
      },
    ]);
    expect(renderError(worded, plain, false)).toContain("Error [PartialFailure]");
  });

  it("turn core's lock id into a force-unlock command that reaches the same state, once", () => {
    const error = new LockHeldError(
      "State for cluster c is locked by ann@host pid 7 (up). Wait for it to finish, or if that process is gone run: k3sinfra force-unlock 596c4635-36c2",
      {
        lock: {
          id: "596c4635-36c2",
          owner: "ann@host pid 7",
          operation: "up",
          acquiredAt: "2026-11-25T17:00:00Z",
        },
      },
    );
    const text = renderError(error, plain, false, { stateFlags: " --config prod.yaml --emulate" });
    expect(text).toContain(
      "Only if that run is gone: k3sinfra force-unlock 596c4635-36c2 --config prod.yaml --emulate",
    );
    expect(text.match(/Wait for it to finish/g)).toHaveLength(1);
    expect(errorJson(error)).toMatchObject({
      error: { code: "LockHeld", exitCode: 3, lockId: "596c4635-36c2" },
    });
  });

  it("add this run's --config/--emulate to the commands core's messages suggest, so they can be copied", () => {
    const error = new NotFoundError("Cluster demo has no state yet: run `k3sinfra up` first.");
    expect(renderError(error, plain, false, { stateFlags: " --emulate" })).toContain(
      "run `k3sinfra up --emulate` first.",
    );
    expect(renderError(error, plain, false)).toContain("run `k3sinfra up` first.");
    expect(withStateFlags("see `k3sinfra schema`; `k3sinfra up --emulate`", " --emulate")).toBe(
      "see `k3sinfra schema`; `k3sinfra up --emulate`",
    );
  });

  it("print code and message of SDK errors, and the stack of unexpected ones only when debugging", () => {
    expect(renderError(new ProviderError("quota"), plain, false)).toContain("Error [ProviderError]: quota");
    const unexpected = new Error("kaboom");
    expect(renderError(unexpected, plain, false)).not.toContain("at ");
    expect(renderError(unexpected, plain, false)).toContain("K3SINFRA_DEBUG=1");
    expect(renderError(unexpected, plain, true)).toContain(unexpected.stack!.split("\n")[1]!.trim());
  });

  it("have a JSON form with code, exit code and issues", () => {
    const json = errorJson(new InvalidConfigError([{ path: "name", message: "bad" }])) as {
      error: { code: string; exitCode: number; issues: unknown[] };
    };
    expect(json.error.code).toBe("InvalidConfig");
    expect(json.error.exitCode).toBe(2);
    expect(json.error.issues).toEqual([{ path: "name", message: "bad" }]);
  });
});

describe("progress", () => {
  it("plain: one timestamped line per change, repeated progress messages once", () => {
    let out = "";
    const r = new PlainRenderer({ write: (s: string) => (out += s) }, plain);
    r.onEvent({ type: "resource", resource: "node-1", action: "create", phase: "start" });
    r.onEvent({
      type: "resource",
      resource: "node-1",
      action: "create",
      phase: "progress",
      message: "pending",
    });
    r.onEvent({
      type: "resource",
      resource: "node-1",
      action: "create",
      phase: "progress",
      message: "pending",
    });
    r.onEvent({ type: "resource", resource: "node-1", action: "create", phase: "done", elapsedMs: 12_300 });
    r.onEvent({ type: "warning", message: "careful" });
    r.onEvent({ type: "info", message: "Datastore check skipped: not reachable from this machine." });
    const lines = out.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    // Information is a note, not a warning.
    expect(lines[4]).toMatch(
      /^\[\d\d:\d\d:\d\d\] Note: Datastore check skipped: not reachable from this machine\.$/,
    );
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] node-1 create start$/);
    expect(lines[1]).toMatch(/node-1 create progress: pending$/);
    expect(lines[2]).toMatch(/node-1 create done after 12\.3s$/);
    expect(lines[3]).toMatch(/Warning: careful$/);
  });

  it("plain: keeps the action from start and prints reads only when they fail", () => {
    let out = "";
    const r = new PlainRenderer({ write: (s: string) => (out += s) }, plain);
    r.onEvent({ type: "resource", resource: "db", action: "create", phase: "start" });
    r.onEvent({ type: "resource", resource: "db", action: "read", phase: "progress", message: "creating" });
    r.onEvent({ type: "resource", resource: "node-0", action: "read", phase: "start" });
    r.onEvent({ type: "resource", resource: "node-0", action: "read", phase: "done" });
    r.onEvent({ type: "resource", resource: "dns", action: "read", phase: "failed", message: "403" });
    const lines = out.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/db create progress: creating$/);
    expect(lines[2]).toMatch(/dns read failed: 403$/);
  });

  it("live: one line per resource, redrawn in place with ANSI cursor movement", () => {
    let out = "";
    const r = new LiveRenderer({ write: (s: string) => (out += s), columns: 80 }, plain);
    r.onEvent({ type: "resource", resource: "network", action: "create", phase: "start" });
    r.onEvent({
      type: "resource",
      resource: "node-1",
      action: "create",
      phase: "start",
      message: "launching",
    });
    r.onEvent({ type: "resource", resource: "network", action: "create", phase: "done", elapsedMs: 1500 });
    r.note("a note");
    r.stop();
    // The area is erased (cursor up + clear) before each redraw; the final frame shows both rows.
    const erase = ["\x1b[1A\r\x1b[0J", "\x1b[2A\r\x1b[0J", "\x1b[3A\r\x1b[0J"];
    expect(erase.some((e) => out.includes(e))).toBe(true);
    const final = out.slice(out.lastIndexOf("a note\n") + "a note\n".length);
    expect(final).toMatch(/✓ network\s+create\s+1\.5s/);
    expect(final).toMatch(/node-1\s+create\s+\S+\s+launching/);
    for (const line of final.split("\n")) expect(line.length).toBeLessThanOrEqual(120);
  });
});
