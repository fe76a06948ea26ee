import { CrashProxy, type ProxiedCall } from "@k3sinfra/emulator/crash-proxy";

/**
 * An ARM request that creates or changes something: a PUT, PATCH or DELETE, or a POST action other than a
 * read (`…/health`, `list…`, `checkNameAvailability`, `retrieveBootDiagnosticsData`, which only hands out SAS
 * URIs of the boot logs) or a token request. Status polls of long-running operations, and the GET of a log blob,
 * are GETs: never counted.
 */
export const isMutating = (method: string, url: string): boolean => {
  const path = url.split("?")[0] ?? "";
  if (method === "PUT" || method === "PATCH" || method === "DELETE") return true;
  return (
    method === "POST" &&
    !/\/(oauth2\/v2\.0\/token|health|list[A-Za-z]*|checkNameAvailability|retrieveBootDiagnosticsData)$/.test(
      path,
    )
  );
};

/** A status request of a long-running operation (the URLs ARM hands out in Azure-AsyncOperation and Location). */
export const isStatusPoll = (call: ProxiedCall): boolean =>
  call.method === "GET" && /\/(operations|operationResults)\/[^/?]+(\?|$)/.test(call.path);

/** `METHOD path`, for messages. */
export const describeCall = (call: ProxiedCall): string => `${call.method} ${call.path.split("?")[0]}`;

/**
 * The emulator's crash proxy in front of ARM, the token endpoint and the vault data planes, over HTTPS (the
 * clients refuse to send a bearer token over plain HTTP); the provider must trust its CA (`caPem`) too.
 */
export const azureCrashProxy = (target: string, targetCa: string): CrashProxy =>
  new CrashProxy({ target, targetCa, https: true, counts: (call) => isMutating(call.method, call.path) });
