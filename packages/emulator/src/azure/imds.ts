/**
 * The Instance Metadata Service as one VM sees it (`http://169.254.169.254` on a real one), served at
 * `/azure-imds/{vmId}/…`: the VM's tags, and tokens for its user-assigned identities. `Metadata: true` is
 * required and a proxy's `X-Forwarded-For` refused, as IMDS does.
 * https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service
 * https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http
 */
import type { CloudRequest, HttpResponse } from "../cloud.js";
import type { Rng } from "../rng.js";
import { issueToken } from "./auth.js";
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
  rng: Rng,
  now: number,
  tenant: string,
): { operation: string; run: () => HttpResponse } | undefined {
  if (!req.path.startsWith(PREFIX)) return undefined;
  const [vmId = "", ...rest] = req.path.slice(PREFIX.length).split("/");
  const path = `/${rest.join("/")}`;
  const operation = path.startsWith("/metadata/identity") ? "IdentityToken" : "InstanceMetadata";
  return {
    operation,
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
      if (path === "/metadata/identity/oauth2/token") return identityToken(vm, req, state, rng, now, tenant);
      return out(404, { error: "Not found" });
    },
  };
}

/** A token for one of the VM's user-assigned identities (`client_id` picks it; with one, it is the default). */
function identityToken(
  vm: Res,
  req: CloudRequest,
  state: AzureState,
  rng: Rng,
  now: number,
  tenant: string,
): HttpResponse {
  const resource = req.query.get("resource");
  if (!resource)
    return out(400, {
      error: "invalid_request",
      error_description: "Required query variable 'resource' is missing",
    });
  const assigned = Object.keys(
    (vm.identity as { userAssignedIdentities?: Record<string, unknown> } | undefined)
      ?.userAssignedIdentities ?? {},
  );
  const identities = assigned
    .map((id) => state.resources[id.toLowerCase()])
    .filter((r): r is Res => r !== undefined && r.deleteAt === undefined);
  const clientId = req.query.get("client_id");
  const identity = clientId
    ? identities.find((i) => i.properties.clientId === clientId)
    : identities.length === 1
      ? identities[0]
      : undefined;
  if (!identity) return out(400, { error: "invalid_request", error_description: "Identity not found" });
  const seconds = 86_399;
  return out(200, {
    access_token: issueToken(
      rng,
      now,
      String(identity.properties.principalId),
      resource.replace(/\/$/, ""),
      tenant,
    ),
    client_id: identity.properties.clientId,
    expires_in: String(seconds),
    expires_on: String(Math.floor(now / 1000) + seconds),
    not_before: String(Math.floor(now / 1000)),
    resource,
    token_type: "Bearer",
  });
}
