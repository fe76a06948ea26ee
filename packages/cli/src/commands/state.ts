import { listStates, migrateState, type OpenedStateStore, openClusterState, pullState } from "@k3sinfra/core";
import { ExitCode } from "../exit-codes.js";
import { UsageError } from "../render/errors.js";
import type { Session } from "../session.js";

/** Options of `state migrate`. */
export interface MigrateFlags {
  readonly to: string;
}

/**
 * `k3sinfra state migrate --to <backend>`: moves the state between the local file (`state.path`) and the
 * backend the config names (`state.backend`), under both locks, verified by reading it back; the source is
 * deleted only after that.
 */
export const stateMigrateCommand = async (s: Session, flags: MigrateFlags): Promise<number> => {
  if (s.flags.emulate) throw new UsageError("state migrate moves real state: run it without --emulate.");
  const result = await s.withApi(async ({ spec, options }) => {
    const configured = await openClusterState(spec, options);
    if (configured.name === "local")
      throw new UsageError(
        "state.backend is local in this config: set state.backend (e.g. s3, with its bucket and region) to the backend to migrate to or from, then run this again.",
      );
    if (flags.to !== "local" && flags.to !== configured.name)
      throw new UsageError(
        `--to must be local or ${configured.name} (the config's state.backend), not '${flags.to}'.`,
      );
    const local = await openClusterState(spec, {
      ...options,
      backend: "local",
      keyOfStoredState: flags.to !== "local",
    });
    const [from, to] = flags.to === "local" ? [configured, local] : [local, configured];
    await s.confirm({
      yes: s.flags.yes,
      question: `Move the state from ${from.location} to ${to.location} (${from.location} is deleted once the copy is verified)?`,
      flagHint: "state migrate moves the state",
      declined: "Migration cancelled; nothing was changed.",
    });
    return migrateState(from, to);
  });
  if (s.flags.json) s.printJson(result);
  else
    s.print(
      `Moved the state of cluster ${result.cluster} (serial ${result.serial}) from ${result.from} to ${result.to}, verified by reading it back; ${result.from} was removed.\n` +
        (flags.to === "local"
          ? "Set state.backend back to local (or remove it) so that commands use the local file.\n"
          : ""),
    );
  return ExitCode.Success;
};

const opened = (s: Session, fn: (o: OpenedStateStore) => Promise<number>): Promise<number> =>
  s.withApi(async ({ spec, options }) => fn(await openClusterState(spec, options)));

/** `k3sinfra state pull`: the stored state as JSON on stdout, secrets masked; needs no key. */
export const statePullCommand = (s: Session): Promise<number> =>
  opened(s, async (o) => {
    const state = await pullState(o);
    if (state === undefined) {
      s.io.stderr.write(`No state at ${o.location}.\n`);
      return ExitCode.Failure;
    }
    s.printJson(state);
    return ExitCode.Success;
  });

/** `k3sinfra state list`: the clusters whose state is beside this config's (same bucket and prefix, or folder). */
export const stateListCommand = (s: Session): Promise<number> =>
  opened(s, async (o) => {
    const names = await listStates(o);
    if (s.flags.json) s.printJson({ location: o.location, clusters: names });
    else s.print(names.length > 0 ? `${names.join("\n")}\n` : `No cluster states beside ${o.location}.\n`);
    return ExitCode.Success;
  });
