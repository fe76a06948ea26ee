/**
 * The Instance Metadata Service as one VM sees it (`http://169.254.169.254` on a real one), served at
 * `/azure-imds/{vmId}/…`: the VM's tags. `Metadata: true` is
 * required and a proxy's `X-Forwarded-For` refused, as IMDS does.
 * https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service
 */
import type { CloudRequest, HttpResponse } from "../cloud.js";
import type { AzureState } from "./model.js";

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
      return out(404, { error: "Not found" });
    },
  };
}
