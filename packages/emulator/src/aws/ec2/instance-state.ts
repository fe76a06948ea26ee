/**
 * EC2 instance power operations: StopInstances / StartInstances and the state walk they start (kernel/power.ts
 * derives the state lazily from timestamps like every other lifecycle in the emulator).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html
 */
import type { Call } from "../kernel/call.js";
import { AwsError } from "../kernel/errors.js";
import type { Powered } from "../kernel/power.js";
import { strList, type Tree } from "../kernel/query.js";

/** What the power operations need from the EC2 service. */
export interface PowerHost<I extends Powered> {
  getInstance(region: string, id: string, now: number): I | undefined;
  instanceState(i: I, now: number): string;
  newPublicIp(): string;
}

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** StopInstances and StartInstances, all-or-nothing like the real API. */
export function powerOps<I extends Powered>(host: PowerHost<I>) {
  const resolve = (input: Tree, call: Call): I[] =>
    strList(input, "InstanceId").map((id) => {
      if (!INSTANCE_ID.test(id)) throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
      const i = host.getInstance(call.region, id, call.now);
      if (!i) throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
      return i;
    });
  const change = (i: I, call: Call, apply: () => void) => {
    const before = host.instanceState(i, call.now);
    apply();
    const after = host.instanceState(i, call.now);
    return {
      instanceId: i.id,
      previousState: { code: STATE_CODES[before], name: before },
      currentState: { code: STATE_CODES[after], name: after },
    };
  };
  return {
    // Stopping a stopping/stopped instance is a no-op; pending, shutting-down and terminated ones cannot be
    // stopped (IncorrectInstanceState). The public IPv4 is released on stop and a new one given on start:
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-instance-addressing.html#concepts-public-addresses
    StopInstances: (input: Tree, call: Call) => {
      const found = resolve(input, call);
      for (const i of found) {
        const s = host.instanceState(i, call.now);
        if (s !== "running" && s !== "stopping" && s !== "stopped")
          throw new AwsError(
            "IncorrectInstanceState",
            `This instance '${i.id}' is not in a state from which it can be stopped.`,
          );
      }
      return {
        instancesSet: found.map((i) =>
          change(i, call, () => {
            if (host.instanceState(i, call.now) !== "running") return;
            i.power = { action: "stop", at: call.now, publicIp: i.publicIp !== undefined };
            i.publicIp = undefined;
          }),
        ),
      };
    },
    // Starting a pending/running instance is a no-op; only a stopped one starts (a stopping one cannot yet).
    StartInstances: (input: Tree, call: Call) => {
      const found = resolve(input, call);
      for (const i of found) {
        const s = host.instanceState(i, call.now);
        if (s !== "stopped" && s !== "pending" && s !== "running")
          throw new AwsError(
            "IncorrectInstanceState",
            `The instance '${i.id}' is not in a state from which it can be started.`,
          );
      }
      return {
        instancesSet: found.map((i) =>
          change(i, call, () => {
            if (host.instanceState(i, call.now) !== "stopped") return;
            const hadIp = i.power?.publicIp === true;
            i.power = { action: "start", at: call.now };
            if (hadIp) i.publicIp = host.newPublicIp();
          }),
        ),
      };
    },
  };
}

/** https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html */
export const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};
