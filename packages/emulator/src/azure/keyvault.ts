/**
 * The Key Vault secrets data plane (swagger: keyvault-data 7.5/7.6; @azure/keyvault-secrets 4.12 sends
 * 2026-04-01, the node reader 7.4): set, get (latest or a version), list, delete into soft-deleted state, get
 * and purge a deleted secret. Challenge authentication as the service does it (a request without a token gets
 * 401 with `WWW-Authenticate: Bearer authorization=…, resource=…`), then Azure RBAC: the token's principal
 * (`oid`) needs a Key Vault data role assigned on the vault or above it, in effect once propagated.
 * https://learn.microsoft.com/en-us/azure/key-vault/general/authentication-requests-and-responses
 * https://learn.microsoft.com/en-us/azure/key-vault/general/rbac-guide
 *
 * Where a vault is: a real vault is its own host, `<name>.vault.azure.net`. Here the ARM answer's `vaultUri` is
 * `<emulator>/keyvault/<name>/` (one HTTPS origin serves every vault; Node cannot resolve `*.localhost` names,
 * and a proxy terminating `*.vault.azure.net` would have every client of the test process go through it).
 * Clients use `vaultUri` as given, as against Azure. The one visible difference: the challenge names
 * `https://vault.azure.net` (so tokens carry the real audience) while the request host is the emulator's, so a
 * client must skip the SDK's check that the challenge resource is the vault host's domain (the provider does
 * that only for a vault URI outside Key Vault's DNS suffixes, which Azure never returns). Secret ids in
 * answers are the real form, `https://<name>.vault.azure.net/secrets/<secret>/<version>`.
 */
import type { CloudRequest, HttpResponse } from "../cloud.js";
import type { Rng } from "../rng.js";
import { readToken } from "./auth.js";
import { AZURE_TEST_CREDENTIALS } from "./credentials.js";
import { KEY_VAULT_ROLES, ROLE_ASSIGNMENT, sweepDeletedVaults, VAULT } from "./kinds/keyvault.js";
import type { AzureState, Res, SecretVersion } from "./model.js";

/** The audience of data-plane tokens: what the challenge's `resource` names. */
export const KEY_VAULT_RESOURCE = "https://vault.azure.net";
const PREFIX = "/keyvault/";
const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;

export interface KeyVaultHost {
  readonly state: AzureState;
  readonly rng: Rng;
  now(): number;
  base(): string;
}

const out = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8", ...headers },
  body: body === undefined ? "" : JSON.stringify(body),
});
const fail = (
  status: number,
  code: string,
  message: string,
  inner?: string,
  headers?: Record<string, string>,
) => out(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } }, headers);

const secs = (ms: number) => Math.floor(ms / 1000);

/** Answers `/keyvault/{vault}/…`, or `undefined` for any other path. */
export function keyVaultRoute(
  req: CloudRequest,
  host: KeyVaultHost,
): { operation: string; run: () => HttpResponse } | undefined {
  if (!req.path.startsWith(PREFIX)) return undefined;
  const [vaultName = "", collection = "", name, version, ...rest] = req.path
    .slice(PREFIX.length)
    .split("/")
    .map(decodeURIComponent);
  const op = `${collection === "deletedsecrets" ? "DeletedSecret" : "Secret"}_${req.method}`;
  return {
    operation: op,
    run: () => serve(req, host, vaultName.toLowerCase(), collection, name, version, rest),
  };
}

function serve(
  req: CloudRequest,
  host: KeyVaultHost,
  vault: string,
  collection: string,
  name: string | undefined,
  version: string | undefined,
  rest: string[],
): HttpResponse {
  const now = host.now();
  sweepDeletedVaults(host.state, now);
  const v = Object.values(host.state.resources).find(
    (r) =>
      r.type === VAULT && r.name.toLowerCase() === vault && (r.deleteAt === undefined || r.deleteAt > now),
  );
  // A vault that does not exist has no DNS name: no answer at all on Azure, a 404 here.
  if (!v) return fail(404, "VaultNotFound", `The vault '${vault}' does not exist.`);
  if (!req.query.get("api-version"))
    return fail(400, "BadParameter", "The api-version query parameter is missing.");
  const token = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ""))?.[1];
  const challenge = {
    "www-authenticate": `Bearer authorization="${host.base()}/${AZURE_TEST_CREDENTIALS.tenantId}", resource="${KEY_VAULT_RESOURCE}"`,
  };
  if (!token)
    return fail(
      401,
      "Unauthorized",
      "AKV10000: Request is missing a Bearer or PoP token.",
      undefined,
      challenge,
    );
  const claims = readToken(token);
  if (!claims || claims.aud.replace(/\/$/, "") !== KEY_VAULT_RESOURCE || claims.exp * 1000 < now)
    return fail(401, "Unauthorized", "AKV10022: Invalid audience or expired token.", undefined, challenge);
  const write = req.method !== "GET";
  const allowed = grants(host.state, v, claims.oid, now);
  if (allowed === undefined || (write && allowed !== "write"))
    return fail(
      403,
      "Forbidden",
      `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: oid=${claims.oid}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/${write ? "setSecret" : "getSecret"}/action'\r\nResource: '${v.id.toLowerCase()}'\r\nAssignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'\r\nVault: ${v.name};location=${v.location}`,
      "ForbiddenByRbac",
    );
  const base = `https://${v.name.toLowerCase()}.vault.azure.net`;
  host.state.secrets[vault] ??= {};
  host.state.deletedSecrets ??= {};
  host.state.deletedSecrets[vault] ??= {};
  const live = host.state.secrets[vault];
  const deleted = host.state.deletedSecrets[vault];
  const retentionDays = Number(v.properties.softDeleteRetentionInDays ?? 90);
  const attributes = (s: SecretVersion) => ({
    enabled: true,
    created: secs(s.created),
    updated: secs(s.created),
    recoverableDays: retentionDays,
    recoveryLevel: "Recoverable+Purgeable",
  });
  const bundle = (n: string, s: SecretVersion) => ({
    value: s.value,
    id: `${base}/secrets/${n}/${s.version}`,
    ...(s.contentType ? { contentType: s.contentType } : {}),
    attributes: attributes(s),
    tags: s.tags ?? {},
  });
  const notFound = (n: string) =>
    fail(
      404,
      "SecretNotFound",
      `A secret with (name/id) ${n} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
    );
  if (rest.length > 0) return fail(400, "BadParameter", "Unknown path.");
  if (collection === "secrets" && name === undefined && req.method === "GET")
    return out(200, {
      value: Object.entries(live).map(([n, vs]) => {
        const { value: _v, ...item } = bundle(n, vs.at(-1)!);
        return { ...item, id: `${base}/secrets/${n}` };
      }),
      nextLink: null,
    });
  if (collection === "secrets" && name !== undefined) {
    if (!SECRET_NAME.test(name))
      return fail(
        400,
        "BadParameter",
        "The request URI contains an invalid name: names are 1-127 letters, digits and hyphens.",
      );
    if (req.method === "PUT" && version === undefined) {
      if (deleted[name])
        return fail(
          409,
          "Conflict",
          `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
          "ObjectIsDeletedButRecoverable",
        );
      let body: { value?: unknown; contentType?: unknown; tags?: unknown };
      try {
        body = JSON.parse(req.body || "{}");
      } catch {
        return fail(400, "BadParameter", "The request body is not valid JSON.");
      }
      if (typeof body.value !== "string") return fail(400, "BadParameter", "Property 'value' is required.");
      if (Buffer.byteLength(body.value) > 25 * 1024)
        return fail(400, "BadParameter", "Secret values are at most 25 KB.");
      const s: SecretVersion = {
        version: host.rng.uuid().replaceAll("-", ""),
        value: body.value,
        created: now,
        ...(typeof body.contentType === "string" ? { contentType: body.contentType } : {}),
        ...(body.tags && typeof body.tags === "object" ? { tags: body.tags as Record<string, string> } : {}),
      };
      live[name] = [...(live[name] ?? []), s];
      return out(200, bundle(name, s));
    }
    if (req.method === "GET") {
      const versions = live[name];
      const s = version ? versions?.find((x) => x.version === version) : versions?.at(-1);
      return s ? out(200, bundle(name, s)) : notFound(name);
    }
    if (req.method === "DELETE" && version === undefined) {
      const versions = live[name];
      if (!versions) return notFound(name);
      delete live[name];
      deleted[name] = { deletedAt: now, scheduledPurgeAt: now + retentionDays * 86_400_000, versions };
      return out(200, deletedBundle(base, name, deleted[name]!, bundle(name, versions.at(-1)!)));
    }
  }
  if (collection === "deletedsecrets" && name !== undefined && version === undefined) {
    const d = deleted[name];
    if (!d || d.scheduledPurgeAt <= now) {
      delete deleted[name];
      return fail(404, "SecretNotFound", `Deleted Secret not found: ${name}`);
    }
    if (req.method === "GET") return out(200, deletedBundle(base, name, d, bundle(name, d.versions.at(-1)!)));
    if (req.method === "DELETE") {
      delete deleted[name];
      return out(204, undefined);
    }
  }
  return fail(405, "MethodNotAllowed", `${req.method} is not supported on this path.`);
}

function deletedBundle(
  base: string,
  name: string,
  d: { deletedAt: number; scheduledPurgeAt: number },
  latest: Record<string, unknown>,
): Record<string, unknown> {
  const { value: _value, ...rest } = latest;
  return {
    ...rest,
    recoveryId: `${base}/deletedsecrets/${name}`,
    deletedDate: secs(d.deletedAt),
    scheduledPurgeDate: secs(d.scheduledPurgeAt),
  };
}

/**
 * The strongest data access a principal has on a vault: from Key Vault data roles assigned on the vault or a
 * scope above it (resource group, subscription) once in effect; management roles (Owner, Contributor) give
 * none in RBAC mode. A vault in access-policy mode grants nothing here (policies are not emulated).
 */
function grants(state: AzureState, vault: Res, principal: string, now: number): "read" | "write" | undefined {
  if (vault.properties.enableRbacAuthorization !== true) return undefined;
  const target = vault.id.toLowerCase();
  let best: "read" | "write" | undefined;
  for (const a of Object.values(state.resources)) {
    if (a.type !== ROLE_ASSIGNMENT || a.deleteAt !== undefined || a.readyAt > now) continue;
    if (String(a.properties.principalId).toLowerCase() !== principal.toLowerCase()) continue;
    const scope = String(a.properties.scope).toLowerCase();
    if (target !== scope && !target.startsWith(`${scope}/`)) continue;
    const level = KEY_VAULT_ROLES[String(a.properties.roleDefinitionId).split("/").at(-1)!.toLowerCase()];
    if (level === "write" || (level === "read" && best === undefined)) best = level;
  }
  return best;
}
