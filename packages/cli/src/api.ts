// The slice of core's programmatic API the CLI calls, in one place so commands share one import surface.
import {
  configJsonSchema,
  destroy,
  forceUnlock,
  graph,
  kubeconfig,
  outputs,
  plan,
  readConfig,
  status,
  up,
  validateConfig,
  verify,
} from "@k3sinfra/core";

/** Core's API functions. */
export const api = {
  readConfig,
  validateConfig,
  plan,
  up,
  status,
  outputs,
  kubeconfig,
  destroy,
  forceUnlock,
  graph,
  configJsonSchema,
  verify,
};
