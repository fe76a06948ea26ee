/**
 * The metadata server as an instance sees it (`http://metadata.google.internal/computeMetadata/v1/…` on a
 * real one; here `/gce/{project}/{zone}/{instance}/computeMetadata/v1/…`): custom instance attributes (where
 * late values are published), the project id, and access tokens of the instance's service account. Every
 * request needs `Metadata-Flavor: Google` (https://cloud.google.com/compute/docs/metadata/querying-metadata).
 */
import type { CloudRequest, HttpResponse, RoutedCall } from "../cloud.js";
import type { Compute } from "./compute.js";
import { faultResponse, json } from "./errors.js";
import type { Iam } from "./iam.js";
import { statusAt } from "./model.js";

const text = (status: number, body: string): HttpResponse => ({
  status,
  headers: { "content-type": "application/text" },
  body,
});

export class MetadataServer {
  constructor(
    private readonly compute: Compute,
    private readonly iam: Iam,
  ) {}

  route(req: CloudRequest): RoutedCall | undefined {
    const m = /^\/gce\/([^/]+)\/([^/]+)\/([^/]+)\/computeMetadata\/v1\/(.*)$/.exec(req.path);
    if (!m || req.method !== "GET") return undefined;
    const [, project, zone, name, rest = ""] = m;
    return {
      service: "metadata",
      operation: rest.startsWith("instance/service-accounts") ? "token" : "get",
      run: async () => {
        if (req.headers["metadata-flavor"] !== "Google")
          return text(403, "Missing Metadata-Flavor:Google header.");
        const inst = this.compute.find(`projects/${project}/zones/${zone}/instances/${name}`);
        if (!inst || statusAt(inst.timeline, this.compute.now) !== "RUNNING") return text(404, "Not Found");
        if (rest === "project/project-id") return text(200, project ?? "");
        const attr = /^instance\/attributes\/(.+)$/.exec(rest);
        if (attr) {
          const items =
            (inst.body.metadata as { items?: { key: string; value: string }[] } | undefined)?.items ?? [];
          const item = items.find((i) => i.key === attr[1]);
          return item ? text(200, item.value) : text(404, "Not Found");
        }
        if (rest === "instance/service-accounts/default/token") {
          const email = (inst.body.serviceAccounts as { email?: string }[] | undefined)?.[0]?.email;
          if (!email || !this.iam.account(email)) return text(404, "Not Found");
          return json(200, this.iam.issue(email));
        }
        return text(404, "Not Found");
      },
      fault: faultResponse,
    };
  }
}
