import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { RDSClient } from "@aws-sdk/client-rds";
import { Route53Client } from "@aws-sdk/client-route-53";
import { type Emulator, type EmulatorOptions, startEmulator } from "../src/index.js";

export const UBUNTU_SSM =
  "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";

export interface Clients {
  emu: Emulator;
  ec2: EC2Client;
  rds: RDSClient;
  elb: ElasticLoadBalancingV2Client;
  r53: Route53Client;
}

export function clientConfig(emu: Emulator, extra: Record<string, unknown> = {}) {
  return {
    endpoint: emu.url,
    region: "us-east-1",
    credentials: emu.credentials.aws,
    maxAttempts: 1,
    ...extra,
  };
}

export async function start(
  opts: EmulatorOptions = {},
  clientExtra: Record<string, unknown> = {},
): Promise<Clients> {
  const emu = await startEmulator({ timeScale: 0.001, seed: 42, log: () => {}, ...opts });
  const cfg = clientConfig(emu, clientExtra);
  return {
    emu,
    ec2: new EC2Client(cfg),
    rds: new RDSClient(cfg),
    elb: new ElasticLoadBalancingV2Client(cfg),
    r53: new Route53Client(cfg),
  };
}

/** Waiter timing for timeScale 0.001. */
export const fast = { maxWaitTime: 10, minDelay: 0.02, maxDelay: 0.05 };

export async function errorOf(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; Code?: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as {
      name: string;
      message: string;
      Code?: string;
      $metadata?: { httpStatusCode?: number };
    };
    return { name: err.name, message: err.message, Code: err.Code, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to fail");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
