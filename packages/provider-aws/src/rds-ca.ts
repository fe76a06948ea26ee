import { InvalidConfigError } from "@k3sinfra/core";

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * The official Amazon RDS CA bundle (intermediate and root certificates) for one region, to pass as
 * `datastore.tls.caUrl`: `https://truststore.pki.rds.amazonaws.com/<region>/<region>-bundle.pem`, with
 * GovCloud and China on their own hosts
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html#UsingWithRDS.SSL.RegionCertificates,
 * https://docs.amazonaws.cn/en_us/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html). The regional bundle
 * is a few KB; the global one is about 165 KB. Throws `InvalidConfigError` for a malformed region.
 */
export function awsRdsCaUrl(region: string): string {
  if (!REGION.test(region))
    throw new InvalidConfigError([{ path: "region", message: `${region} is not an AWS region name` }]);
  const path = `${region}/${region}-bundle.pem`;
  if (region.startsWith("us-gov-")) return `https://truststore.pki.us-gov-west-1.rds.amazonaws.com/${path}`;
  if (region.startsWith("cn-")) return `https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/${path}`;
  return `https://truststore.pki.rds.amazonaws.com/${path}`;
}
