import type { ClusterConfigInput } from "@k3sinfra/core";

/** The cluster every bench brings up: `count` servers over two zones, Route 53 DNS, no datastore check. */
export const benchConfig = (name: string, count: number): ClusterConfigInput => ({
  name,
  provider: "aws",
  region: "us-east-1",
  zones: ["us-east-1a", "us-east-1b"],
  nodes: { count },
  dns: { zone: "example.com" },
  rancher: { hostname: `rancher.${name}.example.com` },
  // The emulated RDS endpoint has no database behind it.
  datastore: { deletionProtection: false, check: "off" },
});
