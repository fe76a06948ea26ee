/**
 * The Instance Metadata Service as one VM sees it (`http://169.254.169.254` on a real one), served at
 * `/azure-imds/{vmId}/…`: the VM's tags, and tokens for its user-assigned managed identities. `Metadata: true`
 * is required and a proxy's `X-Forwarded-For` refused, as IMDS does.
 * https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service
 * https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http
 */
import type { CloudRequest, HttpResponse } from "../cloud.js";
import type { Rng } from "../rng.js";
import { issueToken } from "./auth.js";
import { AZURE_TEST_CREDENTIALS } from "./credentials.js";
import type { AzureState, Res } from "./model.js";

const out = (status: number, body: unknown): HttpResponse => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8" },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

const PREFIX = "/azure-imds/";

export function imdsRoute(
  req: CloudRequest,
  state: AzureState,
  now: number,
  rng: Rng,
): { operation: string; run: () => HttpResponse } | undefined {
  if (!req.path.startsWith(PREFIX)) return undefined;
  const [vmId = "", ...rest] = req.path.slice(PREFIX.length).split("/");
  const path = `/${rest.join("/")}`;
  return {
    operation: "InstanceMetadata",
    run: () => {
      if (
        String(req.headers.metadata ?? "").toLowerCase() !== "true" ||
        req.headers["x-forwarded-for"] !== undefined
      )
        return out(400, { error: "Bad request. Required metadata header not specified" });
      if (!req.query.get("api-version"))
        return out(400, { error: "Bad request. api-version was not specified in the request" });
      const vm = Object.values(state.resources).find(
        (r) =>
          r.type === "Microsoft.Compute/virtualMachines" &&
          r.properties.vmId === vmId &&
          r.deleteAt === undefined,
      );
      // Only a VM that runs answers (a stopped one answers nothing at all).
      if (vm?.hidden?.power !== "running" || now < vm.readyAt) return out(404, { error: "Not found" });
      if (path === "/metadata/instance/compute/tagsList")
        return out(
          200,
          Object.entries(vm.tags ?? {}).map(([name, value]) => ({ name, value })),
        );
      if (path === "/metadata/identity/oauth2/token") return token(req.query, vm, state, now, rng);
      return out(404, { error: "Not found" });
    },
  };
}

/** A token for one of the VM's user-assigned identities: the one `client_id` names, or its only one. */
function token(q: URLSearchParams, vm: Res, state: AzureState, now: number, rng: Rng): HttpResponse {
  const resource = q.get("resource");
  if (!resource)
    return out(400, {
      error: "invalid_request",
      error_description: "Required query variable 'resource' is missing",
    });
  const attached = Object.keys(
    ((vm.identity as { userAssignedIdentities?: Record<string, unknown> } | undefined)
      ?.userAssignedIdentities ?? {}) as Record<string, unknown>,
  )
    .map((id) => state.resources[id.toLowerCase()])
    .filter((r): r is Res => r !== undefined && r.deleteAt === undefined);
  const clientId = q.get("client_id");
  const objectId = q.get("object_id");
  const resId = q.get("msi_res_id") ?? q.get("mi_res_id");
  const wanted =
    (clientId ?? objectId ?? resId)
      ? attached.filter(
          (r) =>
            r.properties.clientId === clientId ||
            r.properties.principalId === objectId ||
            r.id.toLowerCase() === resId?.toLowerCase(),
        )
      : attached;
  if (wanted.length > 1)
    return out(400, {
      error: "invalid_request",
      error_description:
        "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request",
    });
  const identity = wanted[0];
  if (!identity) return out(400, { error: "invalid_request", error_description: "Identity not found" });
  const expires = Math.floor(now / 1000) + 86_399;
  return out(200, {
    access_token: issueToken(
      rng,
      now,
      String(identity.properties.principalId),
      resource.replace(/\/$/, ""),
      AZURE_TEST_CREDENTIALS.tenantId,
    ),
    client_id: identity.properties.clientId,
    expires_in: "86399",
    expires_on: String(expires),
    ext_expires_in: "86399",
    not_before: String(Math.floor(now / 1000)),
    resource,
    token_type: "Bearer",
  });
}
