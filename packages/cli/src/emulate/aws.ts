import type { EmulatedCloudModule } from "./types.js";

// An ACM certificate ARN (what validation accepts); anything else is left for validation to refuse.
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-zA-Z-]+$/;

/** EC2, RDS, ELBv2, Route 53, IAM, SSM, ACM and STS on one endpoint. */
export const awsCloud: EmulatedCloudModule = {
  cloud: "aws",
  providers: ["aws", "route53"],
  compute: true,
  dns: true,
  realVars: [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  ],
  realOptions: ["endpoint", "vpcId", "subnetIds", "hostedZoneId", "amiId"],
  fixtures: ({ zone, hostname, certificate }) => ({
    aws: {
      // The config's zone already exists, as it must in a real account.
      hostedZones: zone ? [zone] : [],
      // The L7 certificate is issued for the Rancher hostname, as the preflight demands of a real account.
      certificates:
        certificate && hostname && ACM_ARN.test(certificate)
          ? [{ arn: certificate, domainName: hostname }]
          : [],
    },
  }),
  env: (emulator) => ({
    ...(emulator.endpoints.aws ? { AWS_ENDPOINT_URL: emulator.endpoints.aws } : {}),
    AWS_ACCESS_KEY_ID: emulator.credentials.aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulator.credentials.aws.secretAccessKey,
  }),
  // An emulated RDS endpoint is a made-up host name; with a real MariaDB behind it, the emulator proxies it on a
  // local port, which is where the readiness check connects (as through a tunnel).
  datastoreAddress: (emulator, endpoint) => {
    const id = endpoint.host.split(".")[0];
    return emulator
      .inventory({ cloud: "aws" })
      .find((i) => i.service === "rds" && i.type === "db-instance" && i.id === id)?.connect;
  },
};
