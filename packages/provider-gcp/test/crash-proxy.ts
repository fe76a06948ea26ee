import { CrashProxy } from "@k3sinfra/emulator/crash-proxy";

/** A request that makes or changes something in the cloud (inserts, creates, versions, policies, DNS changes). */
export const isCreate = (method: string, path: string): boolean =>
  method === "POST" && !/\/(wait|getHealth|listInstances|token)$/.test(path.split("?")[0] ?? "");

/** A crash proxy (the emulator's) in front of the Google Cloud endpoint, counting the calls that create. */
export const gcpCrashProxy = (target: string): CrashProxy =>
  new CrashProxy({ target, counts: (call) => isCreate(call.method, call.path) });
