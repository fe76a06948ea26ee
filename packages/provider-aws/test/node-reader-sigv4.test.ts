import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { beforeAll, expect, it } from "vitest";
import { describeWith, pythonSign, type SignedRequest, writeProgram } from "./node-reader-run.js";

/** The SDK's hash interface over node:crypto, as `@aws-crypto/sha256-js` would provide it. */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key =
      typeof secret === "string"
        ? Buffer.from(secret, "utf8")
        : secret instanceof ArrayBuffer
          ? Buffer.from(secret)
          : secret === undefined
            ? undefined
            : Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength);
    this.h = key === undefined ? createHash("sha256") : createHmac("sha256", key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === "string") this.h.update(data, "utf8");
    else if (data instanceof ArrayBuffer) this.h.update(Buffer.from(data));
    else this.h.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

interface Case {
  readonly title: string;
  readonly op: "get" | "put";
  readonly name: string;
  readonly value?: string;
  readonly region: string;
  readonly endpoint: string;
  readonly date: Date;
  readonly sessionToken?: string;
}

const KEY = {
  accessKeyId: "ASIAEXAMPLEKEYID1234",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
// A session token as IMDS hands them out: long, base64 with + / =.
const TOKEN = `IQoJb3JpZ2luX2VjE${"Ab+/".repeat(90)}Zz==`;
const KUBECONFIG =
  'apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTi==\n    server: https://127.0.0.1:6443\n  name: default\nusers:\n- name: default\n  user:\n    client-key-data: "a\\tb"\n';

const CASES: Case[] = [
  {
    title: "GetParameter with a session token, us-east-1",
    op: "get",
    name: "/k3sinfra/prod/k3s-token",
    region: "us-east-1",
    endpoint: "https://ssm.us-east-1.amazonaws.com/",
    date: new Date("2024-02-29T23:59:59Z"),
    sessionToken: TOKEN,
  },
  {
    title: "PutParameter with unicode, quotes and backslashes, no session token, eu-west-3",
    op: "put",
    name: "/k3sinfra/prod/kubeconfig",
    value: 'héllo ✓ 🔑 "quoted" back\\slash\ttab\nnew line',
    region: "eu-west-3",
    endpoint: "https://ssm.eu-west-3.amazonaws.com",
    date: new Date("2025-01-01T00:00:00Z"),
  },
  {
    title: "PutParameter of a kubeconfig with a session token, China partition endpoint",
    op: "put",
    name: "/k3sinfra/c-1/kubeconfig",
    value: KUBECONFIG,
    region: "cn-north-1",
    endpoint: "https://ssm.cn-north-1.amazonaws.com.cn/",
    date: new Date("2031-12-31T12:34:56Z"),
    sessionToken: TOKEN,
  },
  {
    title: "GetParameter through a local endpoint with a port (the emulator), ap-southeast-3",
    op: "get",
    name: "/k3sinfra/x/datastore-password",
    region: "ap-southeast-3",
    endpoint: "http://127.0.0.1:4566/",
    date: new Date("2026-07-04T05:06:07Z"),
    sessionToken: "short-token",
  },
];

const amzDate = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** Signs with `@smithy/signature-v4` the request Python built, minus what the signer generates itself. */
async function smithySign(c: Case, py: SignedRequest, body: Uint8Array = Buffer.from(py.body, "utf8")) {
  const url = new URL(py.url);
  const generated = new Set(["authorization", "x-amz-date", "x-amz-security-token"]);
  const headers = Object.fromEntries(
    Object.entries(py.headers).filter(([name]) => !generated.has(name.toLowerCase())),
  );
  const signer = new SignatureV4({
    service: "ssm",
    region: c.region,
    credentials: { ...KEY, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) },
    sha256: Sha256,
    // x-amz-content-sha256 is S3's; SSM requests carry none (the SDK's SSM client sends none either).
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === "" ? undefined : Number(url.port),
      path: url.pathname,
      query: {},
      headers,
      body,
    },
    { signingDate: c.date },
  );
  return signed.headers;
}

describeWith(["python3"])("node-side SigV4 signer (Python) against @smithy/signature-v4", () => {
  let program: string;
  beforeAll(() => {
    program = writeProgram();
  });
  const sign = (c: Case) =>
    pythonSign(program, {
      op: c.op,
      name: c.name,
      value: c.value,
      region: c.region,
      endpoint: c.endpoint,
      date: amzDate(c.date),
      ...KEY,
      sessionToken: c.sessionToken,
    });

  it.each(CASES)("$title: the same Authorization header, byte for byte", async (c) => {
    const py = sign(c);
    const smithy = await smithySign(c, py);
    expect(py.headers.Authorization).toBe(smithy.authorization);
    expect(py.headers["X-Amz-Date"]).toBe(smithy["x-amz-date"]);
    expect(py.headers["X-Amz-Security-Token"]).toBe(smithy["x-amz-security-token"]);
    expect(py.headers.Authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${KEY.accessKeyId}/${amzDate(c.date).slice(0, 8)}/${c.region}/ssm/aws4_request, SignedHeaders=content-type;host;x-amz-date;${c.sessionToken ? "x-amz-security-token;" : ""}x-amz-target, Signature=[0-9a-f]{64}$`,
      ),
    );
  });

  it.each(CASES)("$title: the request is what SSM's awsJson1_1 protocol expects", (c) => {
    const py = sign(c);
    expect(py.url).toBe(c.endpoint.replace(/\/?$/, "/"));
    expect(py.headers.Host).toBe(new URL(c.endpoint).host);
    expect(py.headers["Content-Type"]).toBe("application/x-amz-json-1.1");
    expect(py.headers["X-Amz-Target"]).toBe(
      c.op === "get" ? "AmazonSSM.GetParameter" : "AmazonSSM.PutParameter",
    );
    expect(JSON.parse(py.body)).toEqual(
      c.op === "get"
        ? { Name: c.name, WithDecryption: true }
        : { Name: c.name, Value: c.value, Type: "SecureString", Overwrite: true },
    );
    // The canonical request hashes the UTF-8 body, and the string to sign hashes the canonical request.
    const hex = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
    expect(py.canonicalRequest.split("\n").at(-1)).toBe(hex(Buffer.from(py.body, "utf8")));
    expect(py.stringToSign.split("\n").at(-1)).toBe(hex(py.canonicalRequest));
  });

  it("the comparison can fail: a changed body byte or date gives smithy another signature", async () => {
    const c = CASES[1]!;
    const py = sign(c);
    const body = Buffer.from(py.body, "utf8");
    body.writeUInt8(body.readUInt8(body.length - 3) ^ 1, body.length - 3);
    expect((await smithySign(c, py, body)).authorization).not.toBe(py.headers.Authorization);
    const later = { ...c, date: new Date(c.date.getTime() + 1000) };
    expect((await smithySign(later, py)).authorization).not.toBe(py.headers.Authorization);
  });
});
