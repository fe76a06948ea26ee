import { DeletionProtectedError } from "../../errors.js";
import { DatastoreService, type DatastoreState } from "../../resources/datastore.js";
import { AFTER, replacedReason, serviceHandler, str } from "./shared.js";
import type { KindDescription } from "./types.js";

/** The external MySQL K3s keeps its state in (`--datastore-endpoint`). */
export const datastore: KindDescription<DatastoreState> = {
  role: "compute",
  dependsOn: ["network"],
  ids: () => ["datastore"],
  // Managed databases take minutes: an instance is created and backed up before it is available.
  timeoutMs: 60 * 60_000,
  // A small managed MySQL is created, then backed up, before it is available: about 9 min; deleting it about
  // 5 min (the measured lifecycles and their sources: docs/architecture.md, "Expected durations").
  expectedSeconds: { create: 540, delete: 300 },
  deleteRank: 1,
  label: "the datastore",
  sweeps: true,
  updatable: (run) => run.container.resolve(DatastoreService).updatable,
  canRepair: (run) => run.container.resolve(DatastoreService).update !== undefined,
  inputs: (builder, _d, lookup) => {
    const ds = builder.config.datastore;
    return {
      engine: ds.engine,
      version: ds.version,
      size: str(ds.size),
      instanceClass: ds.instanceClass ?? "",
      storageGiB: String(ds.storageGiB),
      highAvailability: String(ds.highAvailability),
      deletionProtection: String(ds.deletionProtection),
      backupRetentionDays: String(ds.backupRetentionDays),
      username: ds.username,
      network: str(lookup("network", "network")?.id ?? AFTER),
    };
  },
  handler: (run) => {
    const builder = run.builder();
    return serviceHandler(run.container.resolve(DatastoreService), () =>
      builder.datastoreSpec(run.need("network", "network")),
    );
  },
  deposedReason: replacedReason,
  protection: {
    isOn: (ds) => Boolean(ds.deletionProtection),
    release: async (run, ds, ctx, allowProtected) => {
      if (!ds.deletionProtection) return ds;
      if (!allowProtected)
        throw new DeletionProtectedError(
          `the datastore ${ds.name ?? ds.id} has deletion protection on. To delete it and the cluster's data, run destroy with --allow-protected (or set datastore.deletionProtection: false and run up first).`,
        );
      const svc = run.container.resolve(DatastoreService);
      const network = run.liveOf("network", "network");
      if (!svc.update || !network) return ds;
      ctx.report("turning deletion protection off");
      const spec = run.builder().datastoreSpec(network, { deletionProtection: false });
      return svc.update(ds, spec, ctx);
    },
  },
};
