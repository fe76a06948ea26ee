import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { Secret } from "../secret.js";
import type { KeyWrapper } from "./backend.js";
import { StateKeyError } from "./errors.js";
import { createExclusive, ensureDir, readIfExists } from "./fs-util.js";

/** Environment variable holding the state passphrase; when set it wins over the key file. */
export const STATE_PASSPHRASE_ENV = "K3SINFRA_STATE_PASSPHRASE";

/** Where the key that encrypts state secrets comes from. */
export type StateKeySource =
  | { readonly kind: "passphrase"; readonly passphrase: Secret }
  | { readonly kind: "keyFile"; readonly path: string }
  /** A managed key wraps a fresh data key (envelope encryption); for shared state. */
  | { readonly kind: "wrapped"; readonly wrapper: KeyWrapper };

/** `$XDG_CONFIG_HOME/k3sinfra/state.key`, defaulting to `~/.config/k3sinfra/state.key`. */
export function defaultKeyFilePath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const xdg = env.XDG_CONFIG_HOME;
  const config = xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".config");
  return join(config, "k3sinfra", "state.key");
}

/** The passphrase from `K3SINFRA_STATE_PASSPHRASE` if set, else the default key file. */
export function defaultKeySource(
  env: Readonly<Record<string, string | undefined>> = process.env,
): StateKeySource {
  const passphrase = env[STATE_PASSPHRASE_ENV];
  if (passphrase) return { kind: "passphrase", passphrase: new Secret(passphrase) };
  return { kind: "keyFile", path: defaultKeyFilePath(env) };
}

/** A passphrase key source (wrapped in `Secret` so logging the options never prints it). */
export function passphraseKeySource(passphrase: string | Secret): StateKeySource {
  return {
    kind: "passphrase",
    passphrase: typeof passphrase === "string" ? new Secret(passphrase) : passphrase,
  };
}

/** A key file key source at `path`. */
export function keyFileKeySource(path: string): StateKeySource {
  return { kind: "keyFile", path };
}

/** A key source whose data key is wrapped by `wrapper` (e.g. a cloud key management service's key). */
export function wrappedKeySource(wrapper: KeyWrapper): StateKeySource {
  return { kind: "wrapped", wrapper };
}

/**
 * The key source for state kept by `backend`: its key wrapper when one is configured, else the passphrase
 * (`K3SINFRA_STATE_PASSPHRASE`), else — for a local file only — the machine's key file. A remote state
 * refuses the key file: the key would live on one machine, and every other (CI, teammates) could never read
 * the secrets.
 */
export function keySourceFor(
  backend: {
    readonly remote: boolean;
    readonly location: string;
    readonly keyWrapper?: KeyWrapper | undefined;
    readonly keyHint?: string;
  },
  env: Readonly<Record<string, string | undefined>> = process.env,
): StateKeySource {
  if (backend.keyWrapper) return wrappedKeySource(backend.keyWrapper);
  const source = defaultKeySource(env);
  if (source.kind === "keyFile" && backend.remote) {
    throw new StateKeyError(
      `The state at ${backend.location} is shared, so its secrets cannot be encrypted with the key file ${source.path}: that key exists on this machine only, and no one else (CI, a teammate) could read them. Set ${STATE_PASSPHRASE_ENV} to a passphrase kept in your secret manager${backend.keyHint ? `, or ${backend.keyHint}` : ""}.`,
    );
  }
  return source;
}

const KEY_BYTES = 32;

/**
 * The 32-byte key stored (base64) in a key file. With `create`, a missing file is made with a random key,
 * mode 0600, and exclusively, so two first runs agree on one key.
 */
export async function loadKeyFile(path: string, create: boolean): Promise<Buffer> {
  let bytes = await readIfExists(path);
  if (bytes === undefined) {
    if (!create) {
      throw new StateKeyError(
        `The state secrets were encrypted with the key file ${path}, which does not exist. Restore it, or set ${STATE_PASSPHRASE_ENV} if the state was written with a passphrase.`,
      );
    }
    await ensureDir(path);
    // Losing the race to another process is fine: we then read the key it wrote.
    await createExclusive(path, `${randomBytes(KEY_BYTES).toString("base64")}\n`);
    bytes = await readIfExists(path);
  }
  const key = Buffer.from((bytes ?? Buffer.alloc(0)).toString("utf8").trim(), "base64");
  if (key.length !== KEY_BYTES) {
    throw new StateKeyError(
      `The key file ${path} does not hold a ${KEY_BYTES}-byte base64 key. Restore the original key file, or set ${STATE_PASSPHRASE_ENV} if the state was written with a passphrase.`,
    );
  }
  return key;
}
