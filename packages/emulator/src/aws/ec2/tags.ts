/**
 * EC2 tags: CreateTags, DeleteTags, DescribeTags on any taggable resource.
 */
import type { QueryOp } from "../kernel/call.js";
import type { Tags } from "../kernel/common.js";
import { objList, str, strList } from "../kernel/query.js";
import { applyFilters, checkEc2Tags, paginate, readFilters } from "./filters.js";
import type { Ec2Service } from "./service.js";

export const tagsOps = (svc: Ec2Service): Record<string, QueryOp> => ({
  CreateTags: (input, call) => {
    const ids = strList(input, "ResourceId");
    const tags: Tags = {};
    for (const t of objList(input, "Tag")) tags[str(t, "Key") ?? ""] = str(t, "Value") ?? "";
    const targets = ids.map((id) => svc.taggable(call.region, id, call.now));
    for (const t of targets) checkEc2Tags({ ...t.tags, ...tags });
    for (const t of targets) Object.assign(t.tags, tags);
    return { return: true };
  },

  DeleteTags: (input, call) => {
    const ids = strList(input, "ResourceId");
    const tagList = objList(input, "Tag");
    const targets = ids.map((id) => svc.taggable(call.region, id, call.now));
    for (const t of targets) {
      if (tagList.length === 0) {
        for (const k of Object.keys(t.tags)) delete t.tags[k];
        continue;
      }
      for (const tag of tagList) {
        const k = str(tag, "Key") ?? "";
        const v = str(tag, "Value");
        // With a value, only a matching tag is deleted (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html).
        if (v === undefined || t.tags[k] === v) delete t.tags[k];
      }
    }
    return { return: true };
  },

  DescribeTags: (input, call) => {
    const r = svc.region(call.region);
    type Row = { resourceId: string; resourceType: string; key: string; value: string };
    const rows: Row[] = [];
    const push = (id: string, type: string, tags: Tags) => {
      for (const [key, value] of Object.entries(tags))
        rows.push({ resourceId: id, resourceType: type, key, value });
    };
    for (const v of Object.values(r.vpcs)) push(v.id, "vpc", v.tags);
    for (const s of Object.values(r.subnets)) push(s.id, "subnet", s.tags);
    for (const g of Object.values(r.groups)) push(g.id, "security-group", g.tags);
    for (const i of svc.visibleInstances(call.region, call.now)) {
      push(i.id, "instance", i.tags);
      for (const v of i.volumes) push(v.id, "volume", v.tags);
    }
    const filtered = applyFilters(
      rows,
      readFilters(input),
      {
        "resource-id": (x) => x.resourceId,
        "resource-type": (x) => x.resourceType,
        key: (x) => x.key,
        value: (x) => x.value,
      },
      (x) => ({ [x.key]: x.value }),
    );
    const { page, nextToken } = paginate(filtered, input);
    return { tagSet: page, nextToken };
  },
});
