import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index.js";

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ timeScale: 0.001, seed: 9, log: () => {} });
});
afterAll(async () => {
  await emu.stop();
});

async function kms(operation: string, input: object, region = "us-east-1") {
  const res = await fetch(emu.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `TrentService.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(input),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("KMS on the wire", () => {
  it("wraps data keys bound to their encryption context, under the key that made them", async () => {
    const made = await kms("CreateKey", { Description: "k3sinfra state" });
    const meta = made.body.KeyMetadata as { KeyId: string; Arn: string; KeyState: string };
    expect(meta.KeyState).toBe("Enabled");
    expect(meta.Arn).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/);
    expect((await kms("CreateAlias", { AliasName: "alias/k3sinfra", TargetKeyId: meta.KeyId })).status).toBe(
      200,
    );
    const context = { "k3sinfra-lineage": "abc" };
    const dk = await kms("GenerateDataKey", {
      KeyId: "alias/k3sinfra",
      KeySpec: "AES_256",
      EncryptionContext: context,
    });
    expect(Buffer.from(String(dk.body.Plaintext), "base64")).toHaveLength(32);
    const opened = await kms("Decrypt", {
      CiphertextBlob: dk.body.CiphertextBlob,
      EncryptionContext: context,
    });
    expect(opened.body).toMatchObject({ Plaintext: dk.body.Plaintext, KeyId: meta.Arn });
    const wrongContext = await kms("Decrypt", {
      CiphertextBlob: dk.body.CiphertextBlob,
      EncryptionContext: { "k3sinfra-lineage": "xyz" },
    });
    expect([wrongContext.status, wrongContext.body.__type]).toEqual([400, "InvalidCiphertextException"]);
    const other = (await kms("CreateKey", {})).body.KeyMetadata as { KeyId: string };
    const wrongKey = await kms("Decrypt", {
      CiphertextBlob: dk.body.CiphertextBlob,
      EncryptionContext: context,
      KeyId: other.KeyId,
    });
    expect(wrongKey.body.__type).toBe("IncorrectKeyException");
    const enc = await kms("Encrypt", { KeyId: meta.Arn, Plaintext: b64("hello") });
    const dec = await kms("Decrypt", { CiphertextBlob: enc.body.CiphertextBlob });
    expect(Buffer.from(String(dec.body.Plaintext), "base64").toString()).toBe("hello");
    expect(emu.inventory().filter((i) => i.service === "kms")).toHaveLength(2);
  });

  it("answers unknown keys, other regions and bad input as KMS does", async () => {
    const missing = await kms("GenerateDataKey", { KeyId: "alias/none", KeySpec: "AES_256" });
    expect([missing.status, missing.body.__type]).toEqual([400, "NotFoundException"]);
    const key = ((await kms("CreateKey", {})).body.KeyMetadata as { KeyId: string }).KeyId;
    expect((await kms("DescribeKey", { KeyId: key }, "eu-west-1")).body.__type).toBe("NotFoundException");
    const neither = await kms("GenerateDataKey", { KeyId: key });
    expect(neither.body.__type).toBe("ValidationException");
    // The model check: KeyId is required.
    const noKey = await kms("Encrypt", { Plaintext: b64("x") });
    expect(noKey.status).toBe(400);
    expect(String(noKey.body.__type)).toMatch(/Validation/);
  });
});
