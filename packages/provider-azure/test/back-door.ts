import { request } from "node:https";
import type { Emulator } from "@k3sinfra/emulator";

/**
 * The raw ARM API of the emulator, for what a user would do in the portal (stop a VM, add a rule): plain HTTPS
 * with a token from the emulator's token endpoint, never the provider under test.
 */
export class RawArm {
  #token: Promise<string> | undefined;
  constructor(private readonly e: Emulator) {}

  private send(method: string, url: string, body?: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { method, ca: this.e.caPem, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
      });
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  private token(): Promise<string> {
    const c = this.e.credentials.azure;
    this.#token ??= this.send(
      "POST",
      `${this.e.httpsUrl}/${c.tenantId}/oauth2/v2.0/token`,
      new URLSearchParams({
        grant_type: "client_credentials",
        client_id: c.clientId,
        client_secret: c.clientSecret,
        scope: "https://management.azure.com/.default",
      }).toString(),
      { "content-type": "application/x-www-form-urlencoded" },
    ).then((r) => (JSON.parse(r.text) as { access_token: string }).access_token);
    return this.#token;
  }

  /** One ARM call on a resource id (`?api-version=` added); the parsed answer. */
  async call(
    method: string,
    id: string,
    apiVersion: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const sep = id.includes("?") ? "&" : "?";
    const r = await this.send(
      method,
      `${this.e.httpsUrl}${id}${sep}api-version=${apiVersion}`,
      body === undefined ? undefined : JSON.stringify(body),
      {
        authorization: `Bearer ${await this.token()}`,
        "content-type": "application/json",
      },
    );
    return { status: r.status, body: r.text ? (JSON.parse(r.text) as Record<string, unknown>) : {} };
  }
}
