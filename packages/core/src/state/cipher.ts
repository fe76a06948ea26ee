import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import type { KeyWrapper } from "./backend.js";
import { StateKeyError } from "./errors.js";
import { defaultKeyFilePath, loadKeyFile, STATE_PASSPHRASE_ENV, type StateKeySource } from "./keys.js";
import type { ClusterSecrets } from "./types.js";

/** How encrypted secrets are stored in the state file; everything needed to decrypt, except the key. */
export interface SealedSecrets {
  readonly alg: "aes-256-gcm";
  readonly key: "passphrase" | "keyFile" | "wrapped";
  /** The data key as wrapped by a managed key, and which (wrapped keys only). */
  readonly wrapped?: { readonly by: string; readonly keyId: string; readonly key: string };
  /** scrypt parameters and the per-file random salt (passphrase keys only). */
  readonly kdf?: {
    readonly name: "scrypt";
    readonly salt: string;
    readonly N: number;
    readonly r: number;
    readonly p: number;
  };
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

// OWASP's scrypt minimum (N=2^17, r=8, p=1) costs ~0.3 s per derivation here; 2^15 keeps a state write
// fast while still making passphrase guessing expensive. Parameters are stored, so they can change later.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const SCRYPT_MAXMEM = 128 * 1024 * 1024;

function deriveKey(
  passphrase: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, 32, { ...params, maxmem: SCRYPT_MAXMEM }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Encrypts and decrypts the `secrets` of a state with AES-256-GCM. The additional data binds a ciphertext
 * to its state's lineage, so secrets cannot be swapped in from another cluster's file.
 */
export class SecretsCipher {
  readonly #source: StateKeySource;
  #fileKey: Buffer | undefined;
  // One salt per state file: reused across writes so the slow scrypt runs once per process, not per write.
  #salt: Buffer | undefined;
  readonly #derived = new Map<string, Buffer>();
  // Wrapped keys: one data key per lineage for this process (one wrap call, not one per write), and the
  // unwrapped keys by their wrapped form.
  readonly #dataKeys = new Map<
    string,
    { plaintext: Buffer; wrapped: NonNullable<SealedSecrets["wrapped"]> }
  >();
  readonly #unwrapped = new Map<string, Buffer>();

  constructor(source: StateKeySource) {
    this.#source = source;
  }

  /** Encrypts `secrets` for a state of `lineage`. */
  async seal(secrets: ClusterSecrets, lineage: string): Promise<SealedSecrets> {
    // Every string field is sealed, so a secret added to ClusterSecrets later is encrypted too.
    const plaintext = JSON.stringify(
      Object.fromEntries(Object.entries(secrets).filter(([, v]) => typeof v === "string")),
    );
    let key: Buffer;
    let kdf: SealedSecrets["kdf"];
    let wrapped: SealedSecrets["wrapped"];
    if (this.#source.kind === "wrapped") {
      const dataKey = await this.#dataKey(this.#source.wrapper, lineage);
      key = dataKey.plaintext;
      wrapped = dataKey.wrapped;
    } else if (this.#source.kind === "passphrase") {
      this.#salt ??= randomBytes(16);
      kdf = { name: "scrypt", salt: this.#salt.toString("base64"), ...SCRYPT };
      key = await this.#passphraseKey(this.#source.passphrase.reveal(), this.#salt, SCRYPT);
    } else {
      this.#fileKey ??= await loadKeyFile(this.#source.path, true);
      key = this.#fileKey;
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(aad(lineage)));
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return {
      alg: "aes-256-gcm",
      key: this.#source.kind,
      ...(kdf ? { kdf } : {}),
      ...(wrapped ? { wrapped } : {}),
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
      data: data.toString("base64"),
    };
  }

  /** Decrypts what `seal` made; `where` names the file in errors. Fails with `StateKeyError`, never garbage. */
  async open(sealed: SealedSecrets, lineage: string, where: string): Promise<ClusterSecrets> {
    const key = await this.#keyFor(sealed, lineage, where);
    let plaintext: string;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64"));
      decipher.setAAD(Buffer.from(aad(lineage)));
      decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
      plaintext = Buffer.concat([
        decipher.update(Buffer.from(sealed.data, "base64")),
        decipher.final(),
      ]).toString("utf8");
    } catch (error) {
      throw new StateKeyError(
        `Cannot decrypt the secrets in ${where}: the key is wrong or the file was modified. ${this.#keyHelp()}`,
        { cause: error },
      );
    }
    const value = JSON.parse(plaintext) as Record<string, unknown>;
    // A state written before a secret existed lacks it; the orchestrator generates what is missing.
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => typeof v === "string"),
    ) as unknown as ClusterSecrets;
  }

  async #dataKey(
    wrapper: KeyWrapper,
    lineage: string,
  ): Promise<{ plaintext: Buffer; wrapped: NonNullable<SealedSecrets["wrapped"]> }> {
    let dataKey = this.#dataKeys.get(lineage);
    if (dataKey === undefined) {
      const made = await wrapper.generate(context(lineage));
      dataKey = {
        plaintext: made.plaintext,
        wrapped: { by: wrapper.name, keyId: wrapper.keyId, key: made.wrapped },
      };
      this.#dataKeys.set(lineage, dataKey);
    }
    return dataKey;
  }

  async #keyFor(sealed: SealedSecrets, lineage: string, where: string): Promise<Buffer> {
    if (sealed.key !== this.#source.kind) {
      throw new StateKeyError(mismatch(sealed, this.#source.kind, where));
    }
    if (this.#source.kind === "wrapped") {
      const wrapped = sealed.wrapped;
      if (wrapped === undefined) throw new StateKeyError(`The secrets in ${where} name no wrapped key.`);
      let key = this.#unwrapped.get(wrapped.key);
      if (key === undefined) {
        key = await this.#source.wrapper.unwrap(wrapped.key, context(lineage));
        this.#unwrapped.set(wrapped.key, key);
      }
      // Later writes reuse this data key, so a reader with the same key reads them without a new wrap.
      if (!this.#dataKeys.has(lineage)) this.#dataKeys.set(lineage, { plaintext: key, wrapped });
      return key;
    }
    if (this.#source.kind === "keyFile") {
      this.#fileKey ??= await loadKeyFile(this.#source.path, false);
      return this.#fileKey;
    }
    if (sealed.kdf?.name !== "scrypt")
      throw new StateKeyError(`The secrets in ${where} name no key derivation.`);
    const salt = Buffer.from(sealed.kdf.salt, "base64");
    // Adopt the file's salt so our next write keeps it (and hits the derived-key cache).
    this.#salt = salt;
    return this.#passphraseKey(this.#source.passphrase.reveal(), salt, sealed.kdf);
  }

  async #passphraseKey(
    passphrase: string,
    salt: Buffer,
    params: { N: number; r: number; p: number },
  ): Promise<Buffer> {
    const id = `${salt.toString("base64")}:${params.N}:${params.r}:${params.p}`;
    let key = this.#derived.get(id);
    if (key === undefined) {
      key = await deriveKey(passphrase, salt, params);
      this.#derived.set(id, key);
    }
    return key;
  }

  #keyHelp(): string {
    if (this.#source.kind === "wrapped")
      return `The data key was unwrapped with ${this.#source.wrapper.name} key ${this.#source.wrapper.keyId}; the state was written with another key or modified.`;
    const keyFile = this.#source.kind === "keyFile" ? this.#source.path : defaultKeyFilePath();
    return this.#source.kind === "passphrase"
      ? `The key came from the passphrase (${STATE_PASSPHRASE_ENV}); set it to the one that wrote this state, or unset it if the state was written with the key file ${keyFile}.`
      : `The key came from the key file ${keyFile} (${STATE_PASSPHRASE_ENV} is not set); restore the key file that wrote this state, or set ${STATE_PASSPHRASE_ENV} if it was written with a passphrase.`;
  }
}

/** What a wrapped data key is bound to: the state's lineage, so it cannot be moved to another state. */
function context(lineage: string): Record<string, string> {
  return { "k3sinfra-lineage": lineage };
}

/** Why the key at hand cannot open secrets sealed another way, and what to set instead. */
function mismatch(sealed: SealedSecrets, have: StateKeySource["kind"], where: string): string {
  const given =
    have === "passphrase"
      ? `a passphrase was given (${STATE_PASSPHRASE_ENV})`
      : have === "wrapped"
        ? "the state's configuration names a managed key"
        : `only the key file ${defaultKeyFilePath()} is at hand`;
  const need =
    sealed.key === "passphrase"
      ? `set ${STATE_PASSPHRASE_ENV} to the passphrase that wrote them`
      : sealed.key === "wrapped"
        ? `configure the managed key that wrote them (${sealed.wrapped?.by ?? "a key service"} key ${sealed.wrapped?.keyId ?? "?"})`
        : `unset it to use the key file ${defaultKeyFilePath()}`;
  const how =
    sealed.key === "passphrase" ? "a passphrase" : sealed.key === "wrapped" ? "a managed key" : "a key file";
  return `The secrets in ${where} were encrypted with ${how}, but ${given}: ${need}.`;
}

function aad(lineage: string): string {
  return `k3sinfra-state:${lineage}`;
}
