/**
 * Amazon RDS DB subnet groups: create, modify, describe, delete.
 */
import { xlist } from "../../xml.js";
import type { QueryOp } from "../kernel/call.js";
import { AwsError } from "../kernel/errors.js";
import { str, strList } from "../kernel/query.js";
import { checkGroupSubnets } from "./checks.js";
import { checkRdsTags, type DbSubnetGroup, groupNotFound, readTags } from "./model.js";
import type { RdsService } from "./service.js";

export const subnetGroupOps = (svc: RdsService): Record<string, QueryOp> => ({
  CreateDBSubnetGroup: (input, call) => {
    const r = svc.region(call.region);
    const name = str(input, "DBSubnetGroupName")!;
    // Name: up to 255 letters, numbers, periods, underscores, spaces or hyphens; not "default"
    // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html).
    if (!/^[A-Za-z0-9._ -]{1,255}$/.test(name) || name.toLowerCase() === "default") {
      throw new AwsError(
        "InvalidParameterValue",
        `Invalid DB subnet group name: ${name}. The name must contain only letters, digits, periods, underscores, spaces, or hyphens, and must not be "default".`,
      );
    }
    const key = name.toLowerCase();
    if (r.subnetGroups[key])
      throw new AwsError("DBSubnetGroupAlreadyExists", `The DB subnet group '${key}' already exists.`);
    const ids = strList(input, "SubnetIds.SubnetIdentifier");
    const subnets = checkGroupSubnets(svc, call.region, ids);
    const tags = readTags(input);
    checkRdsTags(tags);
    const g: DbSubnetGroup = {
      name: key,
      description: str(input, "DBSubnetGroupDescription")!,
      vpcId: subnets[0]!.vpcId,
      subnetIds: [...new Set(ids)],
      tags,
      createdAt: call.now,
    };
    r.subnetGroups[key] = g;
    return { DBSubnetGroup: svc.groupOut(call.region, g) };
  },

  ModifyDBSubnetGroup: (input, call) => {
    const r = svc.region(call.region);
    const name = str(input, "DBSubnetGroupName")!.toLowerCase();
    const g = r.subnetGroups[name];
    if (!g) throw groupNotFound(name);
    const ids = strList(input, "SubnetIds.SubnetIdentifier");
    const subnets = checkGroupSubnets(svc, call.region, ids);
    // An in-use group can't move to another VPC (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSubnetGroup.html).
    const used = svc.live(call.region, call.now).filter((d) => d.subnetGroup === name);
    if (used.length && subnets[0]!.vpcId !== g.vpcId) {
      throw new AwsError(
        "InvalidSubnet",
        "The new subnets are in a different VPC than the DB instances using this subnet group.",
      );
    }
    const azs = new Set(subnets.map((s) => s.az));
    const lost = used.find((d) => !azs.has(d.az) || (d.secondaryAz !== undefined && !azs.has(d.secondaryAz)));
    if (lost)
      throw new AwsError(
        "SubnetAlreadyInUse",
        `The DB subnet group is in use by ${lost.id} in ${lost.az}: keep a subnet in that Availability Zone.`,
      );
    g.subnetIds = [...new Set(ids)];
    g.vpcId = subnets[0]!.vpcId;
    const desc = str(input, "DBSubnetGroupDescription");
    if (desc !== undefined) g.description = desc;
    return { DBSubnetGroup: svc.groupOut(call.region, g) };
  },

  DescribeDBSubnetGroups: (input, call) => {
    const r = svc.region(call.region);
    const name = str(input, "DBSubnetGroupName");
    let groups = Object.values(r.subnetGroups);
    if (name) groups = [svc.resolveGroup(call.region, name)];
    const { page, marker } = svc.page(groups, input);
    return {
      DBSubnetGroups: xlist(
        "DBSubnetGroup",
        page.map((g) => svc.groupOut(call.region, g)),
      ),
      Marker: marker,
    };
  },

  DeleteDBSubnetGroup: (input, call) => {
    const r = svc.region(call.region);
    const name = str(input, "DBSubnetGroupName")!.toLowerCase();
    const g = r.subnetGroups[name];
    if (!g) throw groupNotFound(name);
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBSubnetGroup.html (InvalidDBSubnetGroupStateFault)
    if (svc.live(call.region, call.now).some((d) => d.subnetGroup === name)) {
      throw new AwsError(
        "InvalidDBSubnetGroupStateFault",
        `Cannot delete the subnet group '${name}' because at least one database instance: ${svc.live(call.region, call.now).find((d) => d.subnetGroup === name)!.id} is still using it.`,
      );
    }
    delete r.subnetGroups[name];
    return undefined;
  },
});
