import type { KMS } from "@aws-sdk/client-kms";
import { type KeyWrapper, StateKeyError } from "@k3sinfra/core";
import type { AwsClientSettings } from "../clients.js";
import { awsCodes, mapAwsError } from "../errors.js";

/**
 * Wraps the state secrets' data key with a KMS key (envelope encryption): GenerateDataKey makes it, Decrypt
 * unwraps it, both bound to the state's lineage as encryption context
 * (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#enveloping). Whoever may use the key
 * (a CI role, the platform team) can read the secrets; no key file is passed around.
 */
export class KmsKeyWrapper implements KeyWrapper {
  readonly name = "kms";
  readonly keyId: string;
  readonly #settings: AwsClientSettings;
  #client: Promise<KMS> | undefined;

  constructor(keyId: string, settings: AwsClientSettings) {
    this.keyId = keyId;
    this.#settings = settings;
  }

  #kms(): Promise<KMS> {
    const s = this.#settings;
    this.#client ??= import("@aws-sdk/client-kms").then(
      (m) =>
        new m.KMS({
          region: s.region,
          ...(s.endpoint ? { endpoint: s.endpoint } : {}),
          ...(s.credentials ? { credentials: s.credentials } : {}),
          ...(s.profile && !s.credentials ? { profile: s.profile } : {}),
        }),
    );
    return this.#client;
  }

  async generate(context: Readonly<Record<string, string>>): Promise<{ plaintext: Buffer; wrapped: string }> {
    const kms = await this.#kms();
    try {
      const out = await kms.generateDataKey({
        KeyId: this.keyId,
        KeySpec: "AES_256",
        EncryptionContext: { ...context },
      });
      if (!out.Plaintext || !out.CiphertextBlob) throw new Error("GenerateDataKey returned no key");
      return {
        plaintext: Buffer.from(out.Plaintext),
        wrapped: Buffer.from(out.CiphertextBlob).toString("base64"),
      };
    } catch (error) {
      throw this.#explain(error, "make a data key with");
    }
  }

  async unwrap(wrapped: string, context: Readonly<Record<string, string>>): Promise<Buffer> {
    const kms = await this.#kms();
    try {
      const out = await kms.decrypt({
        CiphertextBlob: Buffer.from(wrapped, "base64"),
        EncryptionContext: { ...context },
        KeyId: this.keyId,
      });
      if (!out.Plaintext) throw new Error("Decrypt returned no key");
      return Buffer.from(out.Plaintext);
    } catch (error) {
      throw this.#explain(error, "unwrap the state's data key with");
    }
  }

  /** KMS's refusals as StateKeyError naming the key and what to do; anything else as the mapped AWS error. */
  #explain(error: unknown, what: string): Error {
    const codes = awsCodes(error);
    const key = `KMS key ${this.keyId} (${this.#settings.region})`;
    if (codes.includes("IncorrectKeyException") || codes.includes("InvalidCiphertextException"))
      return new StateKeyError(
        `Cannot ${what} ${key}: the state's secrets were sealed under another KMS key (or the state was modified). Set state.kmsKeyId to the key that wrote them; nothing was changed.`,
        { cause: error },
      );
    if (codes.includes("NotFoundException"))
      return new StateKeyError(
        `Cannot ${what} ${key}: no such key in that region. Check state.kmsKeyId and state.region; nothing was changed.`,
        { cause: error },
      );
    if (codes.includes("DisabledException") || codes.includes("KMSInvalidStateException"))
      return new StateKeyError(
        `Cannot ${what} ${key}: the key is disabled or pending deletion; nothing was changed.`,
        { cause: error },
      );
    if (codes.includes("AccessDeniedException"))
      return new StateKeyError(
        `Cannot ${what} ${key}: these credentials may not use it (kms:GenerateDataKey and kms:Decrypt are needed); nothing was changed.`,
        { cause: error },
      );
    return mapAwsError(error, `KMS ${what.split(" ")[0]} with ${key}`);
  }
}
