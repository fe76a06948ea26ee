/**
 * KMS (awsJson1.1, `TrentService.<Operation>`): symmetric keys this emulator holds, CreateKey, DescribeKey,
 * CreateAlias, and the envelope operations Encrypt, Decrypt and GenerateDataKey. A ciphertext blob names its
 * key and is bound to its encryption context (https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html):
 * Decrypt with another context or a tampered blob is InvalidCiphertextException, with a KeyId other than
 * the blob's is IncorrectKeyException (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { InventoryItem } from "../../types.js";
import type { Call } from "../kernel/call.js";
import { ACCOUNT_ID } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import { type JsonOp, type JsonService, jsonStr } from "../kernel/json-protocol.js";
import type { ServiceKernel } from "../kernel/lookups.js";

export interface KmsKey {
  id: string;
  arn: string;
  region: string;
  description: string;
  createdAt: number;
  enabled: boolean;
  /** The 256-bit key, hex; never leaves the emulator (as key material never leaves KMS). */
  material: string;
}

/** region → key id → key; aliases by region → `alias/<name>` → key id. */
export interface KmsState {
  keys: Record<string, Record<string, KmsKey>>;
  aliases: Record<string, Record<string, string>>;
}

const MAGIC = 0x4b; // "K": a blob of this emulator.

/** The additional data a context binds: its entries sorted, so their order does not matter. */
const aad = (context: unknown): Buffer => {
  const entries =
    context && typeof context === "object" ? Object.entries(context as Record<string, unknown>) : [];
  return Buffer.from(JSON.stringify(entries.map(([k, v]) => [k, String(v)]).sort()));
};

const notFound = (id: string) => new AwsError("NotFoundException", `Key '${id}' does not exist`);

export class KmsService implements JsonService {
  readonly name = "kms" as const;
  readonly targetPrefix = "TrentService";
  readonly model = "kms" as const;
  readonly ops: Record<string, JsonOp>;

  constructor(readonly kernel: ServiceKernel<KmsState>) {
    this.ops = {
      CreateKey: (input, call) => ({ KeyMetadata: this.#metadata(this.#create(input, call)) }),
      DescribeKey: (input, call) => ({
        KeyMetadata: this.#metadata(this.#key(jsonStr(input, "KeyId"), call)),
      }),
      CreateAlias: (input, call) => this.#alias(input, call),
      Encrypt: (input, call) => {
        const key = this.#usable(jsonStr(input, "KeyId"), call);
        const plaintext = Buffer.from(jsonStr(input, "Plaintext"), "base64");
        return {
          CiphertextBlob: this.#seal(key, plaintext, input.EncryptionContext),
          KeyId: key.arn,
          EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        };
      },
      GenerateDataKey: (input, call) => {
        const key = this.#usable(jsonStr(input, "KeyId"), call);
        const bytes = this.#dataKeyBytes(input);
        const plaintext = randomBytes(bytes);
        return {
          CiphertextBlob: this.#seal(key, plaintext, input.EncryptionContext),
          Plaintext: plaintext.toString("base64"),
          KeyId: key.arn,
        };
      },
      Decrypt: (input, call) => this.#decrypt(input, call),
    };
  }

  get state(): KmsState {
    return this.kernel.state();
  }

  #create(input: Record<string, unknown>, call: Call): KmsKey {
    if (input.KeySpec !== undefined && input.KeySpec !== "SYMMETRIC_DEFAULT")
      throw new AwsError(
        "UnsupportedOperationException",
        `The k3sinfra emulator holds symmetric keys only, not ${String(input.KeySpec)}.`,
      );
    const h = this.kernel.ctx.rng.hex(32);
    const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    const key: KmsKey = {
      id,
      arn: `arn:aws:kms:${call.region}:${ACCOUNT_ID}:key/${id}`,
      region: call.region,
      description: typeof input.Description === "string" ? input.Description : "",
      createdAt: call.now,
      enabled: true,
      material: randomBytes(32).toString("hex"),
    };
    this.state.keys[call.region] = { ...this.state.keys[call.region], [id]: key };
    return key;
  }

  #alias(input: Record<string, unknown>, call: Call): object {
    const name = jsonStr(input, "AliasName");
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name) || name.startsWith("alias/aws/"))
      throw new AwsError(
        "ValidationException",
        `Alias must start with the prefix "alias/" and must not begin with "alias/aws/": ${name}`,
      );
    const aliases = this.state.aliases[call.region] ?? {};
    this.state.aliases[call.region] = aliases;
    if (aliases[name])
      throw new AwsError("AlreadyExistsException", `An alias with the name ${name} already exists`);
    aliases[name] = this.#key(jsonStr(input, "TargetKeyId"), call).id;
    return {};
  }

  /** A key by id, ARN, alias name or alias ARN, in the caller's region. */
  #key(ref: string, call: Call): KmsKey {
    const keys = this.state.keys[call.region] ?? {};
    const alias = /^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?(alias\/.+)$/.exec(ref)?.[1];
    const id = alias
      ? this.state.aliases[call.region]?.[alias]
      : (/^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/(.+)$/.exec(ref)?.[2] ?? ref);
    const key = id === undefined ? undefined : keys[id];
    if (!key) throw notFound(ref);
    return key;
  }

  #usable(ref: string, call: Call): KmsKey {
    const key = this.#key(ref, call);
    if (!key.enabled) throw new AwsError("DisabledException", `${key.arn} is disabled.`);
    return key;
  }

  #dataKeyBytes(input: Record<string, unknown>): number {
    const spec = input.KeySpec;
    const n = input.NumberOfBytes;
    // Exactly one of KeySpec and NumberOfBytes (https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html).
    if ((spec === undefined) === (n === undefined))
      throw new AwsError("ValidationException", "Please specify either number of bytes or key spec.");
    if (spec !== undefined) return spec === "AES_128" ? 16 : 32;
    return Number(n);
  }

  #seal(key: KmsKey, plaintext: Buffer, context: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", Buffer.from(key.material, "hex"), iv);
    cipher.setAAD(aad(context));
    const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(`${key.region}/${key.id}`, "utf8");
    return Buffer.concat([Buffer.from([MAGIC, id.length]), id, iv, cipher.getAuthTag(), data]).toString(
      "base64",
    );
  }

  #decrypt(input: Record<string, unknown>, call: Call): object {
    const blob = Buffer.from(jsonStr(input, "CiphertextBlob"), "base64");
    const invalid = () =>
      new AwsError(
        "InvalidCiphertextException",
        "The ciphertext is invalid, or was encrypted under another encryption context.",
      );
    if (blob[0] !== MAGIC || blob.length < 2 + (blob[1] ?? 0) + 28) throw invalid();
    const idLength = blob[1] ?? 0;
    const [region, id] = blob
      .subarray(2, 2 + idLength)
      .toString("utf8")
      .split("/");
    const key = region === call.region && id ? this.state.keys[region]?.[id] : undefined;
    if (!key) throw invalid();
    if (input.KeyId !== undefined && this.#key(jsonStr(input, "KeyId"), call).id !== key.id)
      throw new AwsError(
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
      );
    if (!key.enabled) throw new AwsError("DisabledException", `${key.arn} is disabled.`);
    const at = 2 + idLength;
    try {
      const decipher = createDecipheriv(
        "aes-256-gcm",
        Buffer.from(key.material, "hex"),
        blob.subarray(at, at + 12),
      );
      decipher.setAAD(aad(input.EncryptionContext));
      decipher.setAuthTag(blob.subarray(at + 12, at + 28));
      const plaintext = Buffer.concat([decipher.update(blob.subarray(at + 28)), decipher.final()]);
      return {
        KeyId: key.arn,
        Plaintext: plaintext.toString("base64"),
        EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      };
    } catch {
      throw invalid();
    }
  }

  #metadata(key: KmsKey): object {
    return {
      AWSAccountId: ACCOUNT_ID,
      KeyId: key.id,
      Arn: key.arn,
      CreationDate: key.createdAt / 1000,
      Enabled: key.enabled,
      Description: key.description,
      KeyUsage: "ENCRYPT_DECRYPT",
      KeyState: key.enabled ? "Enabled" : "Disabled",
      Origin: "AWS_KMS",
      KeyManager: "CUSTOMER",
      KeySpec: "SYMMETRIC_DEFAULT",
      CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
      EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
      MultiRegion: false,
    };
  }

  inventory(): InventoryItem[] {
    return Object.values(this.state.keys).flatMap((keys) =>
      Object.values(keys).map((k) => ({
        cloud: "aws",
        service: "kms",
        type: "key",
        id: k.arn,
        name: k.description || k.id,
        region: k.region,
        state: k.enabled ? "Enabled" : "Disabled",
        tags: {},
      })),
    );
  }
}
