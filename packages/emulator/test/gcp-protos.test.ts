import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { COLLECTIONS } from "../src/gcp/compute-kinds.js";

interface Method {
  options?: Record<string, string>;
}
interface Proto {
  nested?: Record<string, Proto>;
  methods?: Record<string, Method>;
}

/** The `google.api.http` rule of every compute v1 RPC, from the protos.json the compute package ships. */
const rules = (): Map<string, string> => {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("@google-cloud/compute/package.json"));
  const json = require(join(root, "build/protos/protos.json")) as Proto;
  const v1 = json.nested?.google?.nested?.cloud?.nested?.compute?.nested?.v1?.nested ?? {};
  const out = new Map<string, string>();
  for (const [service, def] of Object.entries(v1))
    for (const [method, m] of Object.entries(def.methods ?? {}))
      for (const verb of ["get", "post", "delete", "patch", "put"]) {
        const path = m.options?.[`(google.api.http).${verb}`];
        if (path)
          out.set(`${service}.${method}`, `${verb.toUpperCase()} ${path.replace(/\{[^}]+\}/g, "{}")}`);
      }
  return out;
};

const pascal = (api: string) => api[0]!.toUpperCase() + api.slice(1);

describe("gcp emulator: compute routes against the compute package's protos", () => {
  it("every collection the emulator serves has the insert/get/list/delete routes the clients call", () => {
    const http = rules();
    const served: string[] = [];
    for (const [key, spec] of Object.entries(COLLECTIONS)) {
      const [scope, collection] = key.split(":") as [string, string];
      const base = `/compute/v1/projects/{}/${scope === "global" ? "global" : `${scope === "region" ? "regions" : "zones"}/{}`}/${collection}`;
      const expected = {
        Insert: `POST ${base}`,
        List: `GET ${base}`,
        Get: `GET ${base}/{}`,
        Delete: `DELETE ${base}/{}`,
      };
      for (const [method, route] of Object.entries(expected)) {
        expect(http.get(`${pascal(spec.api)}.${method}`), `${spec.api}.${method}`).toBe(route);
        served.push(`${spec.api}.${method}`);
      }
    }
    expect(served.length).toBe(Object.keys(COLLECTIONS).length * 4);
  });

  it("the custom verbs and operations the emulator answers are RPCs of the protos with those routes", () => {
    const http = rules();
    for (const [rpc, route] of [
      ["Instances.SetMetadata", "POST /compute/v1/projects/{}/zones/{}/instances/{}/setMetadata"],
      ["Instances.SetLabels", "POST /compute/v1/projects/{}/zones/{}/instances/{}/setLabels"],
      ["Instances.Start", "POST /compute/v1/projects/{}/zones/{}/instances/{}/start"],
      ["Instances.Stop", "POST /compute/v1/projects/{}/zones/{}/instances/{}/stop"],
      ["Instances.GetSerialPortOutput", "GET /compute/v1/projects/{}/zones/{}/instances/{}/serialPort"],
      ["Instances.AggregatedList", "GET /compute/v1/projects/{}/aggregated/instances"],
      ["InstanceGroups.AddInstances", "POST /compute/v1/projects/{}/zones/{}/instanceGroups/{}/addInstances"],
      [
        "InstanceGroups.RemoveInstances",
        "POST /compute/v1/projects/{}/zones/{}/instanceGroups/{}/removeInstances",
      ],
      [
        "InstanceGroups.ListInstances",
        "POST /compute/v1/projects/{}/zones/{}/instanceGroups/{}/listInstances",
      ],
      [
        "InstanceGroups.SetNamedPorts",
        "POST /compute/v1/projects/{}/zones/{}/instanceGroups/{}/setNamedPorts",
      ],
      [
        "RegionBackendServices.GetHealth",
        "POST /compute/v1/projects/{}/regions/{}/backendServices/{}/getHealth",
      ],
      ["BackendServices.GetHealth", "POST /compute/v1/projects/{}/global/backendServices/{}/getHealth"],
      ["Images.GetFromFamily", "GET /compute/v1/projects/{}/global/images/family/{}"],
      ["Zones.Get", "GET /compute/v1/projects/{}/zones/{}"],
      ["Regions.Get", "GET /compute/v1/projects/{}/regions/{}"],
      ["ZoneOperations.Get", "GET /compute/v1/projects/{}/zones/{}/operations/{}"],
      ["ZoneOperations.Wait", "POST /compute/v1/projects/{}/zones/{}/operations/{}/wait"],
      ["RegionOperations.Get", "GET /compute/v1/projects/{}/regions/{}/operations/{}"],
      ["GlobalOperations.Get", "GET /compute/v1/projects/{}/global/operations/{}"],
    ])
      expect(http.get(rpc!), rpc).toBe(route);
  });
});
