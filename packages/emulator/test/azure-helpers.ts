// What the Azure emulator tests share: requests on the wire as the Azure clients send them, and the token.
import { request } from "node:https";
import type { Emulator } from "../src/index.js";

/** A JSON answer, read loosely (each test checks the fields it cares about). */
// biome-ignore lint/suspicious/noExplicitAny: wire bodies of many shapes, checked field by field
export type Answer = any;

/** An answer: its status, headers, raw text and the text parsed as JSON (undefined when it is not JSON). */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
  readonly body: Answer;
}

/**
 * One HTTPS request trusting only the emulator's CA: a string body goes as a form (the token endpoint), any
 * other as JSON; `url` is a path on the emulator or a whole URL (a vault's, a blob's).
 */
export function azureRequest(
  e: Emulator,
  method: string,
  url: string,
  body?: unknown,
  options: { token?: string | undefined; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const form = typeof body === "string";
    const req = request(
      url.startsWith("https:") ? url : `${e.httpsUrl}${url}`,
      {
        method,
        ca: e.caPem,
        headers: {
          "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: Answer;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string>,
            text,
            body: parsed,
          });
        });
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(form ? body : JSON.stringify(body));
    req.end();
  });
}

/** Entra ID's client-credentials grant for the emulator's service principal, as the SDK's credential asks. */
export const tokenRequest = (e: Emulator, scope = "https://management.azure.com/.default") => {
  const c = e.credentials.azure;
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: c.clientId,
    client_secret: c.clientSecret,
    scope,
  });
  return azureRequest(e, "POST", `/${c.tenantId}/oauth2/v2.0/token`, form.toString());
};

/** An access token for `scope` (ARM by default). */
export const azureToken = async (e: Emulator, scope?: string): Promise<string> =>
  (await tokenRequest(e, scope)).body.access_token as string;
