import type { ACM } from "@aws-sdk/client-acm";
import type { EC2 } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2 } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { IAM } from "@aws-sdk/client-iam";
import type { RDS } from "@aws-sdk/client-rds";
import type { Route53 } from "@aws-sdk/client-route-53";
import type { SSM } from "@aws-sdk/client-ssm";
import type { STS } from "@aws-sdk/client-sts";
import { token } from "@k3sinfra/core/internal";

/**
 * The native AWS clients, created on first use: the escape hatch for what the contracts do not cover.
 * They retry nothing themselves (`maxAttempts: 1`): `awsCall` retries through core's `withRetry`,
 * so there is one backoff policy and one retry budget per call (not SDK attempts × ours), it honours the
 * caller's signal and it reports throttling.
 */
export interface AwsClients {
  /** EC2: VPCs, subnets, security groups, instances. */
  ec2(): Promise<EC2>;
  /** RDS: the MySQL datastore. */
  rds(): Promise<RDS>;
  /** ELBv2: NLB/ALB, target groups, listeners. */
  elbv2(): Promise<ElasticLoadBalancingV2>;
  /** Route 53: hosted zones and records. */
  route53(): Promise<Route53>;
  /** STS: who the credentials belong to (the preflight's credentials check). */
  sts(): Promise<STS>;
  /** SSM Parameter Store: the public parameters that name today's AMIs. */
  ssm(): Promise<SSM>;
  /** ACM: the L7 load balancer's certificate. */
  acm(): Promise<ACM>;
  /** IAM: roles and instance profiles. */
  iam(): Promise<IAM>;
}

/** Injection token for the lazily-created AWS clients of one cluster container. */
export const AwsClients = token<AwsClients>("AwsClients");

/** What every client is built from. */
export interface AwsClientSettings {
  /** Region from the config. */
  readonly region: string;
  /** An AWS-compatible endpoint (the emulator), or undefined for the real service endpoints. */
  readonly endpoint?: string | undefined;
  /** Static keys from the provider context's environment; unset: the SDK's default credential chain. */
  readonly credentials?:
    | { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }
    | undefined;
  /** Named profile from the provider context's environment (AWS_PROFILE). */
  readonly profile?: string | undefined;
}

/** Reads client settings from a provider context's env and options: explicit values beat the environment. */
export const clientSettings = (
  region: string,
  endpoint: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): AwsClientSettings => {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return {
    region,
    endpoint: endpoint ?? (env.AWS_ENDPOINT_URL || undefined),
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined }
        : undefined,
    profile: env.AWS_PROFILE || undefined,
  };
};

/** Creates each SDK client the first time it is asked for; importing this module loads no SDK. */
export class LazyAwsClients implements AwsClients {
  readonly #settings: AwsClientSettings;
  #ec2: Promise<EC2> | undefined;
  #rds: Promise<RDS> | undefined;
  #elbv2: Promise<ElasticLoadBalancingV2> | undefined;
  #route53: Promise<Route53> | undefined;
  #sts: Promise<STS> | undefined;
  #ssm: Promise<SSM> | undefined;
  #acm: Promise<ACM> | undefined;
  #iam: Promise<IAM> | undefined;

  constructor(settings: AwsClientSettings) {
    this.#settings = settings;
  }

  #config() {
    const s = this.#settings;
    return {
      region: s.region,
      maxAttempts: 1,
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      ...(s.credentials ? { credentials: s.credentials } : {}),
      ...(s.profile && !s.credentials ? { profile: s.profile } : {}),
    };
  }

  ec2(): Promise<EC2> {
    this.#ec2 ??= import("@aws-sdk/client-ec2").then((m) => new m.EC2(this.#config()));
    return this.#ec2;
  }

  rds(): Promise<RDS> {
    this.#rds ??= import("@aws-sdk/client-rds").then((m) => new m.RDS(this.#config()));
    return this.#rds;
  }

  elbv2(): Promise<ElasticLoadBalancingV2> {
    this.#elbv2 ??= import("@aws-sdk/client-elastic-load-balancing-v2").then(
      (m) => new m.ElasticLoadBalancingV2(this.#config()),
    );
    return this.#elbv2;
  }

  route53(): Promise<Route53> {
    this.#route53 ??= import("@aws-sdk/client-route-53").then((m) => new m.Route53(this.#config()));
    return this.#route53;
  }

  sts(): Promise<STS> {
    this.#sts ??= import("@aws-sdk/client-sts").then((m) => new m.STS(this.#config()));
    return this.#sts;
  }

  ssm(): Promise<SSM> {
    this.#ssm ??= import("@aws-sdk/client-ssm").then((m) => new m.SSM(this.#config()));
    return this.#ssm;
  }

  acm(): Promise<ACM> {
    this.#acm ??= import("@aws-sdk/client-acm").then((m) => new m.ACM(this.#config()));
    return this.#acm;
  }

  iam(): Promise<IAM> {
    this.#iam ??= import("@aws-sdk/client-iam").then((m) => new m.IAM(this.#config()));
    return this.#iam;
  }
}
