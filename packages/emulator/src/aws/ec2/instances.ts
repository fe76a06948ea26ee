/**
 * EC2 instances: DescribeInstances, DescribeInstanceStatus, TerminateInstances, ModifyInstanceAttribute
 * (RunInstances is run-instances.ts, Stop/StartInstances instance-state.ts).
 */
import type { Call, QueryOp } from "../kernel/call.js";
import { elapsed } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { lastStart } from "../kernel/power.js";
import { bool, str, strList } from "../kernel/query.js";
import type { Instance } from "../kernel/shapes.js";
import { applyFilters, type Filter, paginate, readFilters } from "./filters.js";
import { STATE_CODES } from "./instance-state.js";
import { reservationOut } from "./output.js";
import { runInstances } from "./run-instances.js";
import { EC2_DURATIONS, type Ec2Service, ID_PATTERNS } from "./service.js";

export const instancesOps = (svc: Ec2Service): Record<string, QueryOp> => ({
  RunInstances: (input, call) => runInstances(svc, input, call),

  DescribeInstances: (input, call) => {
    const ids = strList(input, "InstanceId");
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html (MaxResults can't be combined with InstanceIds)
    if (ids.length && str(input, "MaxResults") !== undefined) {
      throw new AwsError(
        "InvalidParameterCombination",
        "The parameter instancesSet cannot be used with the parameter maxResults",
      );
    }
    let instances = svc.visibleInstances(call.region, call.now);
    if (ids.length) {
      for (const id of ids)
        if (!ID_PATTERNS.i!.test(id))
          throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
      const missing = ids.filter((id) => !instances.some((i) => i.id === id));
      if (missing.length === 1)
        throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${missing[0]}' does not exist`);
      if (missing.length > 1)
        throw new AwsError(
          "InvalidInstanceID.NotFound",
          `The instance IDs '${missing.join(", ")}' do not exist`,
        );
      instances = instances.filter((i) => ids.includes(i.id));
    }
    instances = filterInstances(svc, instances, readFilters(input), call);
    // Paginate over reservations (MaxResults 5-1000).
    const r = svc.region(call.region);
    const byRes = new Map<string, Set<string>>();
    for (const i of instances)
      byRes.set(i.reservationId, (byRes.get(i.reservationId) ?? new Set()).add(i.id));
    const reservations = [...byRes.keys()].map((id) => r.reservations[id]!).filter(Boolean);
    const { page, nextToken } = paginate(reservations, input);
    return {
      reservationSet: page.map((res) => reservationOut(svc, call.region, res, call.now, byRes.get(res.id))),
      nextToken,
    };
  },

  DescribeInstanceStatus: (input, call) => {
    const ids = strList(input, "InstanceId");
    const all = bool(input, "IncludeAllInstances") ?? false;
    let instances = svc.visibleInstances(call.region, call.now);
    if (ids.length) instances = instances.filter((i) => ids.includes(i.id));
    instances = instances.filter((i) => all || svc.instanceState(i, call.now) === "running");
    return {
      instanceStatusSet: instances.map((i) => {
        const state = svc.instanceState(i, call.now);
        const ok =
          state === "running" && elapsed(call.now, lastStart(i), EC2_DURATIONS.pending * 3, svc.scale);
        const status = state !== "running" ? "not-applicable" : ok ? "ok" : "initializing";
        return {
          instanceId: i.id,
          availabilityZone: i.az,
          instanceState: { code: STATE_CODES[state], name: state },
          systemStatus: {
            status,
            details: [{ name: "reachability", status: ok ? "passed" : "initializing" }],
          },
          instanceStatus: {
            status,
            details: [{ name: "reachability", status: ok ? "passed" : "initializing" }],
          },
        };
      }),
    };
  },

  TerminateInstances: (input, call) => {
    const ids = strList(input, "InstanceId");
    // Terminating is idempotent; an unknown id fails the whole request
    // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html).
    const found = ids.map((id) => {
      if (!ID_PATTERNS.i!.test(id)) throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
      const i = svc.getInstance(call.region, id, call.now);
      if (!i) throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
      return i;
    });
    for (const i of found) {
      if (i.disableApiTermination) {
        throw new AwsError(
          "OperationNotPermitted",
          `The instance '${i.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
        );
      }
    }
    return {
      instancesSet: found.map((i) => {
        const before = svc.instanceState(i, call.now);
        if (i.terminatedAt === undefined) i.terminatedAt = call.now;
        const after = svc.instanceState(i, call.now);
        return {
          instanceId: i.id,
          previousState: { code: STATE_CODES[before], name: before },
          currentState: { code: STATE_CODES[after], name: after },
        };
      }),
    };
  },

  ModifyInstanceAttribute: (input, call) => {
    const id = str(input, "InstanceId")!;
    const i = svc.getInstance(call.region, id, call.now);
    if (!i) throw new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    const groups = strList(input, "GroupId");
    if (groups.length) {
      for (const g of groups) {
        const sg = svc.getGroup(call.region, g);
        if (sg.vpcId !== i.vpcId)
          throw new AwsError(
            "InvalidGroup.NotFound",
            `The security group '${g}' does not exist in VPC '${i.vpcId}'`,
          );
      }
      i.groupIds = groups;
    }
    const dat = bool(input, "DisableApiTermination.Value");
    if (dat !== undefined) i.disableApiTermination = dat;
    const attr = str(input, "Attribute");
    if (attr === "disableApiTermination") i.disableApiTermination = str(input, "Value") === "true";
    return { return: true };
  },
});

export function filterInstances(
  svc: Ec2Service,
  instances: Instance[],
  filters: Filter[],
  call: Call,
): Instance[] {
  return applyFilters(
    instances,
    filters,
    {
      "instance-id": (i) => i.id,
      "instance-state-name": (i) => svc.instanceState(i, call.now),
      "instance-state-code": (i) => String(STATE_CODES[svc.instanceState(i, call.now)]),
      "client-token": (i) => i.clientToken,
      "vpc-id": (i) => i.vpcId,
      "subnet-id": (i) => i.subnetId,
      "availability-zone": (i) => i.az,
      "instance-type": (i) => i.type,
      "image-id": (i) => i.imageId,
      "private-ip-address": (i) => i.privateIp,
      "ip-address": (i) => i.publicIp,
      "reservation-id": (i) => i.reservationId,
      "key-name": (i) => i.keyName,
      "instance.group-id": (i) => i.groupIds,
      "network-interface.group-id": (i) => i.groupIds,
      "metadata-options.http-tokens": (i) => i.metadata.httpTokens,
    },
    (i) => i.tags,
  );
}
