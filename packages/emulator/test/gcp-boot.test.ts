/**
 * The boot timeline of a k3sinfra server on Google Cloud (gcp/boot-timeline.ts over the shared src/boot/): its
 * bootstrap's stages on serial port 1 (`instances.getSerialPortOutput`, through the official client), backend
 * health gated on K3s being ready, and the back doors that make its bootstrap fail at a stage until cleared.
 * Time moves only through the `clock` option: no sleeping, no races.
 */
import {
  InstanceGroupsClient,
  InstancesClient,
  RegionBackendServicesClient,
  RegionHealthChecksClient,
} from "@google-cloud/compute";
import { afterEach, describe, expect, it } from "vitest";
import type { Emulator, EmulatorOptions } from "../src/index.js";
import { clientOptions, NO_RETRY, PROJECT, protoFields, raw, startGcp } from "./gcp-helpers.js";

const S = 1000;
/** An instance is RUNNING 15 s after its insert: its boot starts then. */
const STAGING = 15 * S;
const REGION = "us-central1";
const ZONE = "us-central1-a";
const project = PROJECT;
const T0 = Date.parse("2026-03-01T12:00:00Z");
/** systemd's restart delay grows to 300 s: a cleared fault is retried within this (attempt included). */
const MAX_RETRY = 310 * S;

/** A k3sinfra server's user data as the provider sets it (`user-data` metadata, plain `#cloud-config`). */
const K3SINFRA_USER_DATA =
  "#cloud-config\nwrite_files:\n  - path: /usr/local/sbin/k3sinfra-bootstrap\n    content: |\n      #!/bin/sh\nruncmd:\n  - [/usr/local/sbin/k3sinfra-bootstrap]\n";

/** The last stage line of a console, as `up` reads it (core's ready.ts `lastStage`). */
const lastStage = (log: string): { stage: string; failure?: string } | undefined => {
  let last: { stage: string; failure?: string } | undefined;
  for (const m of log.matchAll(/k3sinfra-bootstrap: stage=([a-z0-9-]+)(?: failed: (.*))?/g))
    last = { stage: m[1]!, ...(m[2] ? { failure: m[2] } : {}) };
  return last;
};

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

async function setup(options: EmulatorOptions = {}) {
  const clock = { now: T0 };
  emu = await startGcp({ timeScale: 1, clock: () => clock.now, ...options });
  const e = emu;
  const o = clientOptions(e);
  const instances = new InstancesClient(o);
  const advance = (ms: number) => {
    clock.now += ms;
  };
  const launch = async (name: string, userData?: string, labels: Record<string, string> = {}) => {
    await instances.insert(
      {
        project,
        zone: ZONE,
        instanceResource: {
          name,
          machineType: `zones/${ZONE}/machineTypes/e2-standard-2`,
          labels,
          disks: [
            {
              boot: true,
              initializeParams: {
                sourceImage: "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
              },
            },
          ],
          networkInterfaces: [{ network: "global/networks/default" }],
          ...(userData ? { metadata: { items: [{ key: "user-data", value: userData }] } } : {}),
        },
      },
      NO_RETRY,
    );
    return name;
  };
  /** Serial port 1 as `gcloud compute instances get-serial-port-output` reads it. */
  const serial = async (instance: string, extra: { port?: number; start?: number } = {}) =>
    (await instances.getSerialPortOutput({ project, zone: ZONE, instance, ...extra }, NO_RETRY))[0];
  const console = async (instance: string) => (await serial(instance)).contents ?? "";
  return { e, clock, advance, launch, serial, console, instances, o };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** A passthrough backend service over one instance group holding `members`; `health()` by member name. */
async function backend(c: Setup, members: string[]) {
  const hcs = new RegionHealthChecksClient(c.o);
  const bss = new RegionBackendServicesClient(c.o);
  const groups = new InstanceGroupsClient(c.o);
  await hcs.insert(
    {
      project,
      region: REGION,
      healthCheckResource: { name: "hc", type: "TCP", tcpHealthCheck: { port: 443 } },
    },
    NO_RETRY,
  );
  await groups.insert({ project, zone: ZONE, instanceGroupResource: { name: "ig" } }, NO_RETRY);
  await groups.addInstances(
    {
      project,
      zone: ZONE,
      instanceGroup: "ig",
      instanceGroupsAddInstancesRequestResource: {
        instances: members.map((m) => ({ instance: `zones/${ZONE}/instances/${m}` })),
      },
    },
    NO_RETRY,
  );
  await bss.insert(
    {
      project,
      region: REGION,
      backendServiceResource: {
        name: "bs",
        loadBalancingScheme: "EXTERNAL",
        protocol: "TCP",
        healthChecks: [`regions/${REGION}/healthChecks/hc`],
        backends: [{ group: `zones/${ZONE}/instanceGroups/ig`, balancingMode: "CONNECTION" }],
      },
    },
    NO_RETRY,
  );
  return async (): Promise<Record<string, string>> => {
    const [out] = await bss.getHealth(
      {
        project,
        region: REGION,
        backendService: "bs",
        resourceGroupReferenceResource: { group: `zones/${ZONE}/instanceGroups/ig` },
      },
      NO_RETRY,
    );
    return Object.fromEntries(
      (out.healthStatus ?? []).map((s) => [s.instance!.split("/").pop()!, s.healthState!]),
    );
  };
}

describe("gcp emulator: getSerialPortOutput and the boot timeline", () => {
  it("serial port 1 shows the kernel, cloud-init and the bootstrap's stages reached so far, by byte offset", async () => {
    const c = await setup();
    await c.launch("srv", K3SINFRA_USER_DATA);
    await c.launch("plain");

    // Staging: the API refuses while the VM does not run.
    c.advance(5 * S);
    const early = await raw(
      c.e,
      "GET",
      `/compute/v1/projects/${project}/zones/${ZONE}/instances/srv/serialPort`,
    );
    expect(early.status).toBe(400);
    expect(JSON.stringify(early.json)).toContain("resourceNotReady");

    c.advance(STAGING - 5 * S + 41 * S);
    const first = await c.serial("srv");
    expect(first.contents).toMatch(/^\[ {4}0\.000000\] Linux version .*-gcp/);
    expect(first.contents).toContain("console=ttyS0");
    expect(first.contents).toContain("running 'modules:final'");
    expect(first.contents).toContain("         Starting k3sinfra-bootstrap.service...");
    expect(first.contents).toContain(
      `${new Date(T0 + STAGING + 40 * S).toISOString().slice(0, 19)}Z k3sinfra-bootstrap: stage=secrets start\n`,
    );
    expect(lastStage(first.contents!)).toEqual({ stage: "secrets" });
    expect(first.kind).toBe("compute#serialPortOutput");
    const size = Buffer.byteLength(first.contents!);
    expect(Number(first.start)).toBe(0);
    expect(Number(first.next)).toBe(size);

    // The next read from `next` holds only what was written since.
    c.advance(60 * S); // running + 101 s: installing K3s
    const more = await c.serial("srv", { start: Number(first.next) });
    expect(Number(more.start)).toBe(size);
    expect(more.contents).toMatch(/^\S+ k3sinfra-bootstrap: stage=secrets ok\n/);
    expect(lastStage(more.contents!)).toEqual({ stage: "k3s-install" });
    expect(first.contents! + more.contents!).toBe(await c.console("srv"));
    // A negative start: the most recent bytes.
    const tail = await c.serial("srv", { start: -40 });
    expect(Buffer.byteLength(tail.contents!)).toBe(40);
    expect(Number(tail.next)).toBe(Number(more.next));
    // Past the end: nothing, `next` where asked.
    const past = await c.serial("srv", { start: Number(more.next) + 10 });
    expect(past.contents ?? "").toBe("");
    expect(Number(past.next)).toBe(Number(more.next) + 10);
    // The other serial ports are empty; there are four.
    expect((await c.serial("srv", { port: 2 })).contents ?? "").toBe("");
    const five = await raw(
      c.e,
      "GET",
      `/compute/v1/projects/${project}/zones/${ZONE}/instances/srv/serialPort?port=5`,
    );
    expect(five.status).toBe(400);

    c.advance(60 * S); // running + 161 s: done
    const done = await c.console("srv");
    expect(done).toMatch(/k3sinfra-bootstrap: stage=kubeconfig ok\n.*k3sinfra-bootstrap: stage=done ok\n/);
    expect(done).toContain("[  OK  ] Finished k3sinfra-bootstrap.service.");
    expect(done).not.toContain("failed");

    // Not a k3sinfra server: cloud-init finishes, no stage line.
    const other = await c.console("plain");
    expect(other).toContain("Datasource DataSourceGCELocal.");
    expect(other).not.toContain("k3sinfra-bootstrap");
  });

  it("answers the fields of the compute package's SerialPortOutput message", async () => {
    const c = await setup();
    await c.launch("srv", K3SINFRA_USER_DATA);
    c.advance(STAGING + 60 * S);
    const res = await raw(
      c.e,
      "GET",
      `/compute/v1/projects/${project}/zones/${ZONE}/instances/srv/serialPort?port=1&start=0`,
    );
    expect(res.status).toBe(200);
    const fields = protoFields("@google-cloud/compute", ["google", "cloud", "compute", "v1"])(
      "SerialPortOutput",
    );
    expect(Object.keys(res.json).filter((k) => !fields.has(k))).toEqual([]);
    expect(res.json.selfLink).toMatch(
      /\/projects\/k3sinfra-test\/zones\/us-central1-a\/instances\/srv\/serialPort$/,
    );
  });

  it("a stopped instance has no serial output; started again, a new boot begins at offset 0", async () => {
    const c = await setup();
    await c.launch("srv", K3SINFRA_USER_DATA);
    c.advance(STAGING + 200 * S);
    expect(lastStage(await c.console("srv"))).toEqual({ stage: "done" });
    await c.instances.stop({ project, zone: ZONE, instance: "srv" }, NO_RETRY);
    c.advance(30 * S);
    const stopped = await raw(
      c.e,
      "GET",
      `/compute/v1/projects/${project}/zones/${ZONE}/instances/srv/serialPort`,
    );
    expect(stopped.status).toBe(400);
    await c.instances.start({ project, zone: ZONE, instance: "srv" }, NO_RETRY);
    c.advance(STAGING + 41 * S);
    const again = await c.console("srv");
    expect(again).toMatch(/^\[ {4}0\.000000\] Linux version/);
    expect(lastStage(again)).toEqual({ stage: "secrets" });
  });
});

describe("gcp emulator: backend health follows the boot timeline", () => {
  it("a k3sinfra server is HEALTHY once its K3s is ready, another instance once it runs", async () => {
    const c = await setup({ bootTimeMs: 300_000 });
    await c.launch("srv", K3SINFRA_USER_DATA);
    await c.launch("plain");
    const health = await backend(c, ["srv", "plain"]);
    c.advance(STAGING + S);
    expect(await health()).toEqual({ srv: "UNHEALTHY", plain: "HEALTHY" });
    // bootTimeMs 300 s stretches the boot ×2: `k3s-ready` from 220 s after running, K3s ready at 280 s (not 140 s).
    c.advance(230 * S);
    expect(await health()).toEqual({ srv: "UNHEALTHY", plain: "HEALTHY" });
    expect(lastStage(await c.console("srv"))).toEqual({ stage: "k3s-ready" });
    c.advance(50 * S);
    expect(await health()).toEqual({ srv: "HEALTHY", plain: "HEALTHY" });
    expect(await c.console("srv")).toContain("k3sinfra-bootstrap: stage=k3s-ready ok");
  });

  it("failBootstrap by labels keeps a server UNHEALTHY, its console failing at the stage, until cleared", async () => {
    const c = await setup();
    const reason = "cannot connect to the datastore at 10.0.0.5:3306 (timed out)";
    // As the CLI's K3SINFRA_EMULATE_FAIL_BOOT and core's tags say it: matched against the labels as written.
    const target = { tags: { "k3sinfra:cluster": "Demo", "k3sinfra:resource": "node-1" } };
    c.e.failBootstrap(target, "datastore", reason);
    await c.launch("n0", K3SINFRA_USER_DATA, { "k3sinfra-cluster": "demo", "k3sinfra-resource": "node-0" });
    await c.launch("n1", K3SINFRA_USER_DATA, { "k3sinfra-cluster": "demo", "k3sinfra-resource": "node-1" });
    const health = await backend(c, ["n0", "n1"]);
    c.advance(STAGING + 200 * S);
    expect(await health()).toEqual({ n0: "HEALTHY", n1: "UNHEALTHY" });
    const failing = await c.console("n1");
    expect(lastStage(failing)).toEqual({ stage: "datastore", failure: reason });
    expect(failing).toContain("[FAILED] Failed to start k3sinfra-bootstrap.service.");
    // systemd keeps restarting it; it keeps failing.
    c.advance(3_600 * S);
    expect(await health()).toEqual({ n0: "HEALTHY", n1: "UNHEALTHY" });
    expect(lastStage(await c.console("n1"))).toEqual({ stage: "datastore", failure: reason });

    // Cleared: the next restart passes the stage; K3s is ready ~95 s (datastore → k3s-ready) later.
    c.e.clearBootstrapFault(target);
    c.advance(MAX_RETRY + 100 * S);
    expect(await health()).toEqual({ n0: "HEALTHY", n1: "HEALTHY" });
    c.advance(60 * S);
    const log = await c.console("n1");
    expect(log).toContain(`k3sinfra-bootstrap: stage=datastore failed: ${reason}`);
    expect(log).toMatch(/k3sinfra-bootstrap: stage=done ok\n/);
    expect(lastStage(log)).toEqual({ stage: "done" });
  });

  it("failBootstrap by instance name or path; unknown instances throw; a fault after K3s is ready keeps it healthy", async () => {
    const c = await setup();
    await c.launch("srv", K3SINFRA_USER_DATA);
    const health = await backend(c, ["srv"]);
    expect(() => c.e.failBootstrap("nope", "datastore")).toThrow(/no instance nope/);
    expect(() => c.e.failBootstrap("srv", "nonsense" as never)).toThrow(/unknown boot stage/);
    c.e.failBootstrap("srv", "kubeconfig", "secret store refused the write");
    c.advance(STAGING + 200 * S);
    expect(await health()).toEqual({ srv: "HEALTHY" });
    expect(lastStage(await c.console("srv"))).toEqual({
      stage: "kubeconfig",
      failure: "secret store refused the write",
    });
    c.e.clearBootstrapFault(`projects/${project}/zones/${ZONE}/instances/srv`);
    c.advance(MAX_RETRY + 10 * S);
    expect(lastStage(await c.console("srv"))).toEqual({ stage: "done" });
  });

  it("bootFaults fails matching instances from the start", async () => {
    const c = await setup({
      bootFaults: [
        { tags: { "k3sinfra:resource": "node-0" }, stage: "k3s-install", reason: "no route to get.k3s.io" },
      ],
    });
    await c.launch("n0", K3SINFRA_USER_DATA, { "k3sinfra-resource": "node-0" });
    const health = await backend(c, ["n0"]);
    c.advance(STAGING + 300 * S);
    expect(await health()).toEqual({ n0: "UNHEALTHY" });
    expect(lastStage(await c.console("n0"))).toEqual({
      stage: "k3s-install",
      failure: "no route to get.k3s.io",
    });
  });
});
