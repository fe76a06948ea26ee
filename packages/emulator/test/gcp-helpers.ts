import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { OAuth2Client } from "google-auth-library";
import { type Emulator, type EmulatorOptions, startEmulator } from "../src/index.js";

export const PROJECT = "k3sinfra-test";

/** An emulator serving Google Cloud only. */
export const startGcp = (options: EmulatorOptions = {}): Promise<Emulator> =>
  startEmulator({ clouds: ["gcp"], timeScale: 0.001, seed: 5, log: () => undefined, ...options });

/** A credential that sends `Authorization: Bearer test` (the emulator requires one; it checks no signature). */
export const bearer = (): OAuth2Client => {
  const c = new OAuth2Client();
  c.setCredentials({ access_token: "test", expiry_date: Date.now() + 3_600_000 });
  return c;
};

/** Options that point a gax client at the emulator over HTTP/REST, retrying nothing. */
export const clientOptions = (e: Emulator) => {
  const url = new URL(e.url);
  return { apiEndpoint: url.hostname, port: Number(url.port), protocol: "http", authClient: bearer() };
};

export const NO_RETRY = { retry: { retryCodes: [] as number[] } };

/** A raw JSON request to the emulator, with a bearer token. */
export async function raw(
  e: Emulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${e.url}${path}`, {
    method,
    headers: { authorization: "Bearer test", "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** The proto messages of a Google package (`protos.json`), by short name, with their fields' JSON names. */
export function protoFields(
  pkg: "@google-cloud/compute" | "@google-cloud/sql",
  ns: string[],
): (message: string) => Set<string> {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve(`${pkg}/package.json`));
  interface Proto {
    nested?: Record<string, Proto>;
    fields?: Record<string, { options?: Record<string, string> }>;
  }
  let node = require(join(root, "build/protos/protos.json")) as Proto | undefined;
  for (const part of ns) node = node?.nested?.[part];
  return (message: string) => {
    const fields = node?.nested?.[message]?.fields;
    if (!fields) throw new Error(`no message ${message} in ${pkg}`);
    const names = new Set<string>();
    for (const [name, f] of Object.entries(fields)) {
      names.add(f.options?.json_name ?? name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
      names.add(name);
    }
    return names;
  };
}
