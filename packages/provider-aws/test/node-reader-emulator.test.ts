import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { type Emulator, startEmulator } from "@k3sinfra/emulator";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith, runReader, writeProgram } from "./node-reader-run.js";

const REGION = "us-east-1";
const CLUSTER = "rdr";
const IMAGE =
  "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
const TOKEN_NAME = `/k3sinfra/${CLUSTER}/k3s-token`;
const TOKEN_VALUE = 'tökén ✓ "x" \\ value\nsecond line\n';
const OTHER_NAME = "/k3sinfra/other/k3s-token";
const OTHER_VALUE = "OtherClusterSecretValue0123456789";
const KUBECONFIG_NAME = `/k3sinfra/${CLUSTER}/kubeconfig`;
const KUBECONFIG =
  "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\nkind: Config\n";

describeWith(["python3"])("the node-side reader against the emulator's IMDSv2, IAM and SSM", () => {
  let emulator: Emulator;
  let ssm: SSMClient;
  let program: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await startEmulator({ timeScale: 0.001, seed: 7, iamPropagationMs: 0, log: () => undefined });
    const config = {
      region: REGION,
      endpoint: emulator.endpoints.aws!,
      credentials: emulator.credentials.aws,
      maxAttempts: 1,
    };
    ssm = new SSMClient(config);
    const iam = new IAMClient(config);
    const account = (await new STSClient(config).send(new GetCallerIdentityCommand({}))).Account!;
    const role = `k3sinfra-${CLUSTER}-node`;
    await iam.send(
      new CreateRoleCommand({
        RoleName: role,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      }),
    );
    // Exactly what a node needs: read the cluster's parameters, write the one kubeconfig parameter. The
    // default aws/ssm key needs no KMS statement (its key policy lets the account decrypt through SSM).
    const arn = (path: string) => `arn:aws:ssm:${REGION}:${account}:parameter${path}`;
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: role,
        PolicyName: "secrets",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "ssm:GetParameter", Resource: arn(`/k3sinfra/${CLUSTER}/*`) },
            { Effect: "Allow", Action: "ssm:PutParameter", Resource: arn(KUBECONFIG_NAME) },
          ],
        }),
      }),
    );
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: role }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: role, RoleName: role }));
    const run = await new EC2Client(config).send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        InstanceType: "m6i.xlarge",
        MinCount: 1,
        MaxCount: 1,
        IamInstanceProfile: { Name: role },
        MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled" },
      }),
    );
    const instanceId = run.Instances![0]!.InstanceId!;
    for (const [Name, Value] of [
      [TOKEN_NAME, TOKEN_VALUE],
      [OTHER_NAME, OTHER_VALUE],
    ] as const)
      await ssm.send(new PutParameterCommand({ Name, Value, Type: "SecureString" }));
    program = writeProgram();
    env = {
      K3SINFRA_IMDS_ENDPOINT: emulator.imdsEndpoint(instanceId),
      K3SINFRA_SSM_ENDPOINT: emulator.endpoints.aws!,
      K3SINFRA_SSM_RETRY_DELAY: "0.01",
    };
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("k3sinfra_secret prints exactly the SecureString's value, decrypted, and nothing else", async () => {
    const r = await runReader(program, "k3sinfra_secret", TOKEN_NAME, env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(TOKEN_VALUE);
    const calls = emulator.requestLog().filter((e) => e.service === "ssm" && e.operation === "GetParameter");
    expect(calls.at(-1)?.status).toBe(200);
  });

  it("a parameter outside the role's path: AccessDeniedException named on stderr, exit 1, no value", async () => {
    const r = await runReader(program, "k3sinfra_secret", OTHER_NAME, env);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`GetParameter ${OTHER_NAME}: AccessDeniedException`);
    expect(r.stderr).not.toContain(OTHER_VALUE);
    const missing = await runReader(program, "k3sinfra_secret", `/k3sinfra/${CLUSTER}/absent`, env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`GetParameter /k3sinfra/${CLUSTER}/absent: ParameterNotFound`);
  });

  it("k3sinfra_secret_put writes stdin as a SecureString, overwriting; the SDK reads it back", async () => {
    const first = await runReader(program, "k3sinfra_secret_put", KUBECONFIG_NAME, env, KUBECONFIG);
    expect(first.status).toBe(0);
    expect(first.stdout).toBe("");
    expect(first.stderr).toBe(`k3sinfra-ssm: wrote ${KUBECONFIG_NAME} version 1\n`);
    const second = await runReader(
      program,
      "k3sinfra_secret_put",
      KUBECONFIG_NAME,
      env,
      `${KUBECONFIG}# 2\n`,
    );
    expect(second.status).toBe(0);
    const got = await ssm.send(new GetParameterCommand({ Name: KUBECONFIG_NAME, WithDecryption: true }));
    expect(got.Parameter).toMatchObject({ Type: "SecureString", Version: 2, Value: `${KUBECONFIG}# 2\n` });
    const sealed = await ssm.send(new GetParameterCommand({ Name: KUBECONFIG_NAME }));
    expect(sealed.Parameter?.Value).not.toContain("apiVersion");
  });

  it("a put the role does not allow is refused with AccessDeniedException; the value is never printed", async () => {
    const value = "AttemptedOverwriteValue0123456789";
    const r = await runReader(program, "k3sinfra_secret_put", TOKEN_NAME, env, value);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`PutParameter ${TOKEN_NAME}: AccessDeniedException`);
    expect(r.stderr).not.toContain(value);
    const got = await ssm.send(new GetParameterCommand({ Name: TOKEN_NAME, WithDecryption: true }));
    expect(got.Parameter?.Value).toBe(TOKEN_VALUE);
  });

  it("the emulator verifies the signature: a program signing with a wrong key is refused", async () => {
    const tampered = writeProgram((text) => text.replace('("AWS4" + creds', '("AWS4x" + creds'));
    const r = await runReader(tampered, "k3sinfra_secret", TOKEN_NAME, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /GetParameter \/k3sinfra\/rdr\/k3s-token: (InvalidSignatureException|SignatureDoesNotMatch)/,
    );
  });

  it("never follows a redirect, so the signed headers and the session token go nowhere else", async () => {
    const seen: string[] = [];
    const target = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end("{}");
    });
    const redirector = createServer((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${(target.address() as AddressInfo).port}/` }).end();
    });
    await Promise.all(
      [target, redirector].map((srv) => new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok))),
    );
    try {
      const port = (redirector.address() as AddressInfo).port;
      const r = await runReader(program, "k3sinfra_secret", TOKEN_NAME, {
        ...env,
        K3SINFRA_SSM_ENDPOINT: `http://127.0.0.1:${port}/`,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`GetParameter ${TOKEN_NAME}: HTTP 302`);
      expect(seen).toEqual([]);
    } finally {
      for (const srv of [target, redirector]) srv.close();
    }
  });

  it("rides out throttling and 5xx from SSM and IMDS, saying so on stderr", async () => {
    emulator.addFault({ service: "ssm", operation: "GetParameter", kind: "throttle", times: 2 });
    emulator.addFault({ service: "imds", operation: "GetCredentials", kind: "unavailable503", times: 1 });
    try {
      const r = await runReader(program, "k3sinfra_secret", TOKEN_NAME, env);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(TOKEN_VALUE);
      expect(r.stderr).toMatch(/instance role credentials: .*HTTP 503; retrying \(1\/10\)/);
      expect(r.stderr.match(/GetParameter .*: ThrottlingException \(HTTP 400\); retrying/g)).toHaveLength(2);
    } finally {
      emulator.clearFaults();
    }
  });

  it("gives up after the bounded attempts with exit 3", async () => {
    emulator.addFault({ service: "ssm", operation: "GetParameter", kind: "error500" });
    try {
      const r = await runReader(program, "k3sinfra_secret", TOKEN_NAME, {
        ...env,
        K3SINFRA_SSM_ATTEMPTS: "3",
      });
      expect(r.status).toBe(3);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(
        /GetParameter \/k3sinfra\/rdr\/k3s-token: gave up after 3 attempts: \w+ \(HTTP 500\)/,
      );
    } finally {
      emulator.clearFaults();
    }
  });

  it("an unknown instance (no metadata service) is retried, then reported, with exit 3", async () => {
    const r = await runReader(program, "k3sinfra_secret", TOKEN_NAME, {
      ...env,
      K3SINFRA_IMDS_ENDPOINT: emulator.imdsEndpoint("i-0000000000000dead"),
      K3SINFRA_SSM_ATTEMPTS: "2",
    });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("instance role credentials: gave up after 2 attempts: IMDS");
  });
});
