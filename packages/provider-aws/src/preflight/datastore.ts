import { awsCall, collectPages } from "../call.js";
import type { PreflightCheck } from "./index.js";

/**
 * The datastore's engine version is offered in the region: DescribeDBEngineVersions for the engine, then the
 * major version matched here (RDS takes `8.4` and picks its newest minor at creation), so that the message
 * can list what is offered instead (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html).
 */
export const datastoreCheck: PreflightCheck = {
  path: "datastore.version",
  async run(ctx) {
    const { config } = ctx;
    const engine = config.datastore.engine;
    const rds = await ctx.clients.rds();
    const versions = await collectPages(
      (Marker) =>
        awsCall(`RDS DescribeDBEngineVersions (${engine})`, ctx.call, (o) =>
          rds.describeDBEngineVersions({ Engine: engine, Marker }, o),
        ),
      (page) => page.DBEngineVersions,
      (page) => page.Marker,
    );
    // Versions being retired show Status `deprecated`: no new instance can use them.
    const available = versions.filter((v) => (v.Status ?? "available") === "available");
    const wanted = config.datastore.version;
    const majorOf = (v: string) => v.split(".").slice(0, 2).join(".");
    if (available.some((v) => v.EngineVersion === wanted || majorOf(v.EngineVersion ?? "") === wanted))
      return [];
    const majors = [...new Set(available.map((v) => majorOf(v.EngineVersion ?? "")))].sort();
    return [
      {
        path: "datastore.version",
        message: `RDS does not offer ${engine} ${wanted} in ${config.region}${majors.length ? `; it offers ${majors.join(", ")}: use one of those` : ": choose another region"}`,
      },
    ];
  },
};
