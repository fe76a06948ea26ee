/**
 * Elastic Load Balancing v2 tags and SSL policies.
 */
import type { QueryOp } from "../kernel/call.js";
import { AwsError } from "../kernel/errors.js";
import { strList } from "../kernel/query.js";
import { DEFAULT_SSL_POLICY, readTags } from "./model.js";
import type { Elbv2Service } from "./service.js";

export const tagOps = (svc: Elbv2Service): Record<string, QueryOp> => ({
  AddTags: (input, call) => {
    const arns = strList(input, "ResourceArns.member");
    const tags = readTags(input);
    const targets = arns.map((a) => svc.tagsOf(call.region, a));
    for (const t of targets)
      if (Object.keys({ ...t, ...tags }).length > 50)
        throw new AwsError(
          "TooManyTags",
          "The quota for the number of tags that can be assigned to a load balancer has been reached",
        );
    for (const t of targets) Object.assign(t, tags);
    return {};
  },

  RemoveTags: (input, call) => {
    const arns = strList(input, "ResourceArns.member");
    const keys = strList(input, "TagKeys.member");
    for (const a of arns) {
      const t = svc.tagsOf(call.region, a);
      for (const k of keys) delete t[k];
    }
    return {};
  },

  DescribeTags: (input, call) => {
    const arns = strList(input, "ResourceArns.member");
    return {
      TagDescriptions: arns.map((a) => ({
        ResourceArn: a,
        Tags: Object.entries(svc.tagsOf(call.region, a)).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  },

  DescribeSSLPolicies: () => ({
    SslPolicies: [DEFAULT_SSL_POLICY, "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-3-2021-06"].map(
      (n) => ({
        SslProtocols: ["TLSv1.2"],
        Name: n,
      }),
    ),
  }),
});
