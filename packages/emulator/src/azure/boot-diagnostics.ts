/**
 * Boot diagnostics on managed storage: `VirtualMachines_RetrieveBootDiagnosticsData` (a synchronous POST
 * action) hands out SAS URIs of the VM's serial console log, which a client then reads with a plain GET, no
 * bearer token (https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/retrieve-boot-diagnostics-data,
 * https://learn.microsoft.com/en-us/azure/virtual-machines/boot-diagnostics).
 *
 * Where the blob is: Azure's managed account is its own host (`md-….blob.storage.azure.net`). Here the URI is
 * `<emulator>/bootdiagnostics/<vmId>/<vm>.<vmId>.serialconsole.log?<SAS>` on the host the client called, as
 * vault URIs are (keyvault.ts): one HTTPS origin, the emulator's CA. The SAS is the service SAS's shape
 * (`sv`, `st`, `se`, `sr=b`, `sp=r`, `sig`), signed with a key the emulator keeps in its state; a GET without a
 * valid signature, or outside `st`–`se`, is Blob storage's 403 `AuthenticationFailed`
 * (https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas). A log not written yet (the VM
 * has not booted) is 404 `BlobNotFound`, as is the log of a VM that is gone
 * (https://learn.microsoft.com/en-us/rest/api/storageservices/blob-service-error-codes).
 *
 * The console screenshot is not emulated: `consoleScreenshotBlobUri` is not returned.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { CloudRequest, HttpResponse } from "../cloud.js";
import type { Rng } from "../rng.js";
import { ArmError, armErrors, json } from "./arm.js";
import { bootDiagnosticsOn } from "./kinds/compute.js";
import { VM } from "./kinds/interfaces.js";
import type { AzureState, Res } from "./model.js";

const PREFIX = "/bootdiagnostics/";
/** The service version the SAS names (`sv`). */
const SAS_VERSION = "2022-11-02";
/** `sasUriExpirationTimeInMinutes`: 1 to 1440, 120 when unset (the REST reference above). */
const DEFAULT_MINUTES = 120;
const MAX_MINUTES = 1440;

export interface BootDiagnosticsHost {
  readonly state: AzureState;
  readonly rng: Rng;
  now(): number;
  /** The HTTPS base the client called. */
  base(): string;
}

/** The VM's serial console up to `now`, or `undefined` while it has written nothing (boot.ts). */
export type SerialLog = (vm: Res, now: number) => string | undefined;

/** The key SAS signatures are made with, made once and kept with the state (a URI outlives a restart). */
function key(host: BootDiagnosticsHost): string {
  host.state.bootDiagnosticsKey ??= `${host.rng.uuid()}${host.rng.uuid()}`;
  return host.state.bootDiagnosticsKey;
}

const sign = (host: BootDiagnosticsHost, path: string, st: string, se: string): string =>
  createHmac("sha256", key(host)).update(["r", st, se, path, SAS_VERSION, "b"].join("\n")).digest("base64");

/** `2026-01-02T03:04:05Z`: SAS times are ISO 8601 UTC to the second. */
const sasTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/**
 * POST …/virtualMachines/{vm}/retrieveBootDiagnosticsData: 200 with the serial log's SAS URI at once. A VM
 * whose boot diagnostics is off is refused with 409 `OperationNotAllowed`. That code is this emulator's
 * choice: the REST reference documents only a `CloudError` for failures, and no public source shows the one
 * Azure sends.
 */
export function retrieveBootDiagnosticsData(
  host: BootDiagnosticsHost,
  vm: Res,
  query: URLSearchParams,
  requestId: string,
): HttpResponse {
  const raw = query.get("sasUriExpirationTimeInMinutes");
  const minutes = raw === null ? DEFAULT_MINUTES : Number(raw);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES)
    throw armErrors.invalid(
      `The value of parameter sasUriExpirationTimeInMinutes is invalid: give 1 to ${MAX_MINUTES} minutes.`,
      "sasUriExpirationTimeInMinutes",
      "InvalidParameter",
    );
  if (!bootDiagnosticsOn(vm))
    throw new ArmError(
      409,
      "OperationNotAllowed",
      `Boot diagnostics is not enabled for the virtual machine '${vm.name}'. Enable it to retrieve its boot diagnostics data.`,
    );
  const vmId = String(vm.properties.vmId);
  const path = `${PREFIX}${vmId}/${vm.name}.${vmId}.serialconsole.log`;
  const now = host.now();
  // A start a little in the past, as Azure's are (clock skew between the service and the storage account).
  const st = sasTime(now - 5 * 60_000);
  const se = sasTime(now + minutes * 60_000);
  const q = new URLSearchParams({ sv: SAS_VERSION, st, se, sr: "b", sp: "r", sig: sign(host, path, st, se) });
  return json(200, { serialConsoleLogBlobUri: `${host.base()}${path}?${q.toString()}` }, requestId);
}

/** Blob storage's XML error document. */
function storageError(
  host: BootDiagnosticsHost,
  status: number,
  code: string,
  message: string,
  detail?: string,
) {
  const rid = host.rng.uuid();
  const time = new Date(host.now()).toISOString();
  return {
    status,
    headers: { "content-type": "application/xml", "x-ms-request-id": rid, "x-ms-error-code": code },
    body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${rid}\nTime:${time}</Message>${detail ? `<AuthenticationErrorDetail>${detail}</AuthenticationErrorDetail>` : ""}</Error>`,
  };
}

const AUTH_FAILED =
  "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.";

/** Answers `GET /bootdiagnostics/…` (the SAS URIs above), or `undefined` for any other path. */
export function bootDiagnosticsRoute(
  req: CloudRequest,
  host: BootDiagnosticsHost,
  serialLog: SerialLog,
): { operation: string; run: () => HttpResponse } | undefined {
  if (!req.path.startsWith(PREFIX)) return undefined;
  return { operation: "Blob_Get", run: () => serve(req, host, serialLog) };
}

function serve(req: CloudRequest, host: BootDiagnosticsHost, serialLog: SerialLog): HttpResponse {
  if (req.method !== "GET")
    return storageError(
      host,
      405,
      "UnsupportedHttpVerb",
      "The resource doesn't support specified Http Verb.",
    );
  const q = req.query;
  const [st, se, sig] = [q.get("st") ?? "", q.get("se") ?? "", q.get("sig") ?? ""];
  const want = Buffer.from(sign(host, req.path, st, se));
  const got = Buffer.from(sig);
  const signed =
    q.get("sv") === SAS_VERSION &&
    q.get("sr") === "b" &&
    q.get("sp") === "r" &&
    want.length === got.length &&
    timingSafeEqual(want, got);
  if (!signed)
    return storageError(
      host,
      403,
      "AuthenticationFailed",
      AUTH_FAILED,
      sig
        ? `Signature did not match. String to sign used was r\n${st}\n${se}`
        : "Signature fields not well formed.",
    );
  const now = host.now();
  const [start, expiry] = [Date.parse(st), Date.parse(se)];
  if (!(now >= start && now <= expiry))
    return storageError(
      host,
      403,
      "AuthenticationFailed",
      AUTH_FAILED,
      `Signature not valid in the specified time frame: Start [${new Date(start).toUTCString()}] - Expiry [${new Date(expiry).toUTCString()}] - Current [${new Date(now).toUTCString()}]`,
    );
  const vmId = req.path.slice(PREFIX.length).split("/")[0] ?? "";
  const vm = Object.values(host.state.resources).find(
    (r) => r.type === VM && r.properties.vmId === vmId && (r.deleteAt === undefined || r.deleteAt > now),
  );
  const text = vm ? serialLog(vm, now) : undefined;
  if (text === undefined)
    return storageError(host, 404, "BlobNotFound", "The specified blob does not exist.");
  return {
    status: 200,
    headers: {
      "content-type": "text/plain",
      "x-ms-blob-type": "AppendBlob",
      "x-ms-version": SAS_VERSION,
      "last-modified": new Date(now).toUTCString(),
    },
    body: text,
  };
}
