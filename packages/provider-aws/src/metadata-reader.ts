import type { MetadataReader } from "@k3sinfra/core";

/**
 * How an EC2 node reads a value the provider published (`AwsNodeService.publish`): IMDSv2 instance tags,
 * key `k3sinfra:<key>`. Tags in instance metadata must be enabled on the instance
 * (MetadataOptions.InstanceMetadataTags=enabled); tag changes show up while it runs.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html
 */
export const AWS_METADATA_READER: MetadataReader = [
  "  t=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \\",
  "    http://169.254.169.254/latest/api/token) || return 1",
  '  curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $t" \\',
  '    "http://169.254.169.254/latest/meta-data/tags/instance/k3sinfra:$1"',
].join("\n");
