/**
 * Reading a VM's serial console log from boot diagnostics: `VirtualMachines_RetrieveBootDiagnosticsData` hands
 * out SAS URIs of the log blobs, which are then read with a plain HTTPS GET
 * (https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/retrieve-boot-diagnostics-data).
 *
 * A SAS URI is a bearer credential: whoever holds it reads the blob until it expires
 * (https://learn.microsoft.com/en-us/azure/storage/common/storage-sas-overview). So it is asked for with the
 * shortest life the API takes, used once, and never put in a message, event, error or state: failures name the
 * VM and the HTTP status only, and the underlying error (whose text could carry the URL) is not kept as cause.
 */
import { AbortedError, type CallContext, cloudCall, K3sinfraError, ProviderError } from "@k3sinfra/core";

/** Minutes a SAS URI lives (the API takes 1 to 1440; unset it would be 120). One GET follows at once. */
export const SAS_MINUTES = 5;

/** Only the end of the log is kept: the last stage lines are what core reads (a console log grows for ever). */
export const MAX_LOG_BYTES = 1024 * 1024;

/** Transient answers of Blob storage worth asking again. */
const transient = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * The text of the blob at a SAS URI, or `undefined` when it does not exist yet (404 `BlobNotFound`: the VM
 * has not written to its console yet). Retried within core's budget on throttling, 5xx and network errors.
 * @param what names the blob in errors, e.g. `serial console log of k3s-prod-node-0`; never the URI.
 * @param ca the CAs to trust besides the system's (the emulator serves the blob on its own host).
 */
export function readSasBlob(
  url: string,
  what: string,
  ctx: CallContext,
  ca?: readonly string[],
): Promise<string | undefined> {
  return cloudCall(what, ctx, () => get(url, what, ctx.signal, ca), {
    // Every error made here is already a core error without the URL.
    mapError: (error) =>
      K3sinfraError.is(error) ? error : new ProviderError(`reading the ${what} failed`, { retryable: true }),
  });
}

function get(
  url: string,
  what: string,
  signal: AbortSignal | undefined,
  ca: readonly string[] | undefined,
): Promise<string | undefined> {
  // node:https only when a log is read: importing the provider loads no TLS.
  const https = process.getBuiltinModule("node:https") as typeof import("node:https");
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: "GET", ...(signal ? { signal } : {}), ...(ca ? { ca: [...ca] } : {}) },
      (res) => {
        const status = res.statusCode ?? 0;
        const id = res.headers["x-ms-request-id"];
        const requestId = typeof id === "string" ? { requestId: id } : {};
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          // Keep the tail only.
          while (size - (chunks[0]?.length ?? 0) >= MAX_LOG_BYTES) size -= chunks.shift()!.length;
        });
        res.on("error", () =>
          reject(new ProviderError(`reading the ${what} failed: the answer broke off`, { retryable: true })),
        );
        res.on("end", () => {
          if (status === 404) return resolve(undefined);
          if (status !== 200 && status !== 206)
            return reject(
              new ProviderError(`reading the ${what} failed: HTTP ${status}`, {
                httpStatus: status,
                ...requestId,
                retryable: transient(status),
              }),
            );
          let bytes = Buffer.concat(chunks);
          if (bytes.length > MAX_LOG_BYTES) bytes = bytes.subarray(bytes.length - MAX_LOG_BYTES);
          resolve(bytes.toString("utf8"));
        });
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (signal?.aborted) return reject(new AbortedError(`reading the ${what} was aborted.`));
      // The code only (ECONNRESET, a TLS error): the message could quote the URL.
      reject(
        new ProviderError(`reading the ${what} failed: ${error.code ?? "network error"}`, {
          retryable: true,
        }),
      );
    });
    req.end();
  });
}
