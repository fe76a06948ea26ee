/**
 * Microsoft Entra ID as `@azure/identity` (MSAL) talks to it: the tenant's OpenID configuration, instance
 * discovery, and the client-credentials token endpoint. Tokens are unsigned JWT-shaped strings the emulated
 * ARM accepts until they expire. https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 */
import type { HttpResponse } from "../cloud.js";
import type { Rng } from "../rng.js";
import { AZURE_TEST_CREDENTIALS } from "./credentials.js";

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** A token for `subject` (an app or a managed identity) valid for an hour. */
export function issueToken(rng: Rng, now: number, subject: string, audience: string, tenant: string): string {
  const iat = Math.floor(now / 1000);
  return [
    b64url({ typ: "JWT", alg: "none" }),
    b64url({
      aud: audience,
      iss: `https://sts.windows.net/${tenant}/`,
      iat,
      nbf: iat,
      exp: iat + 3600,
      oid: subject,
      tid: tenant,
      jti: rng.uuid(),
    }),
    "emulator",
  ].join(".");
}

/** The claims of a token this emulator issued, or `undefined`. */
export function readToken(token: string): { oid: string; aud: string; exp: number } | undefined {
  const [, payload, sig] = token.split(".");
  if (sig !== "emulator" || !payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

const out = (status: number, body: unknown): HttpResponse => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8" },
  body: JSON.stringify(body),
});

/** Answers the identity platform's paths under `base`, or `undefined` when `path` is not one. */
export function identityRoute(
  method: string,
  path: string,
  body: string,
  base: string,
  rng: Rng,
  now: number,
): { operation: string; run: () => HttpResponse } | undefined {
  if (path === "/common/discovery/instance")
    return {
      operation: "InstanceDiscovery",
      run: () =>
        out(200, {
          tenant_discovery_endpoint: `${base}/common/v2.0/.well-known/openid-configuration`,
          "api-version": "1.1",
          metadata: [],
        }),
    };
  const m = /^\/([^/]+)(\/v2\.0)?\/\.well-known\/openid-configuration$/.exec(path);
  if (m && method === "GET") {
    const tenant = m[1]!;
    return {
      operation: "OpenIdConfiguration",
      run: () =>
        out(200, {
          token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
          device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
          jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
          issuer: `${base}/${tenant}/v2.0`,
          response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
          token_endpoint_auth_methods_supported: [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
          ],
          scopes_supported: ["openid", "profile", "email", "offline_access"],
          tenant_region_scope: "EU",
        }),
    };
  }
  const t = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
  if (t && method === "POST")
    return {
      operation: "Token",
      run: () => {
        const form = new URLSearchParams(body);
        const c = AZURE_TEST_CREDENTIALS;
        if (form.get("grant_type") !== "client_credentials")
          return out(400, {
            error: "unsupported_grant_type",
            error_description: "AADSTS70003: only client_credentials.",
          });
        // AADSTS7000215 is what Entra answers for a wrong secret.
        if (form.get("client_id") !== c.clientId || form.get("client_secret") !== c.clientSecret)
          return out(401, {
            error: "invalid_client",
            error_description:
              "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            error_codes: [7000215],
          });
        const scope = form.get("scope") ?? "";
        return out(200, {
          token_type: "Bearer",
          expires_in: 3599,
          ext_expires_in: 3599,
          access_token: issueToken(rng, now, c.clientId, scope.replace(/\/?\.default$/, ""), t[1]!),
        });
      },
    };
  return undefined;
}
