/**
 * Compute Engine operations: every mutation answers with an Operation that goes PENDING → RUNNING → DONE
 * over time (derived lazily from the clock), zonal, regional or global like its resource; a failure is
 * `error.errors[]` on the DONE operation (https://cloud.google.com/compute/docs/reference/rest/v1/zoneOperations).
 * A `requestId` seen before returns the first operation: "If you make the request again with the same request
 * ID, the server can check if original operation with the same request ID was received, and if so, will
 * ignore the second request" (compute.proto `InsertInstanceRequest.request_id`).
 */
import type { CloudContext } from "../cloud.js";
import { GcpError, gcpErrors } from "./errors.js";
import { type ComputeOperation, type GcpState, rfc3339, type Scope, scopePath, selfLink } from "./model.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Operations {
  constructor(
    private readonly state: () => GcpState,
    private readonly ctx: CloudContext,
  ) {}

  /** The operation an earlier request with this `requestId` started, if any; throws on a malformed id. */
  replay(project: string, requestId: string | null): ComputeOperation | undefined {
    if (requestId === null) return undefined;
    if (!UUID.test(requestId) || /^[0-]+$/.test(requestId))
      throw gcpErrors.invalid(
        `Invalid value for field 'requestId': '${requestId}'. The request ID must be a valid UUID with the exception that zero UUID is not supported.`,
      );
    const path = this.state().requestIds[`${project}/${requestId}`];
    return path ? this.state().operations[path] : undefined;
  }

  /**
   * Starts an operation on `targetPath` that takes `durationMs` (scaled), remembered under `requestId`.
   * @param error a failure the DONE operation reports.
   */
  start(o: {
    project: string;
    scope: Scope;
    type: string;
    targetPath: string;
    targetId: string;
    durationMs: number;
    requestId: string | null;
    error?: GcpError;
  }): ComputeOperation {
    const now = this.ctx.now();
    const scale = this.ctx.timeScale;
    const id = String(1_000_000_000_000 + this.ctx.rng.int(9_000_000_000_000));
    const name = `operation-${now}-${this.ctx.rng.hex(12)}-${this.ctx.rng.hex(8)}`;
    const path = `projects/${o.project}/${scopePath(o.scope)}/operations/${name}`;
    const op: ComputeOperation = {
      path,
      project: o.project,
      scope: o.scope,
      name,
      id,
      operationType: o.type,
      targetLink: selfLink(o.targetPath),
      targetId: o.targetId,
      insertAt: now,
      startAt: now + Math.round(500 * scale),
      doneAt: now + Math.round(o.durationMs * scale),
    };
    if (o.requestId) op.requestId = o.requestId;
    if (o.error) op.error = { code: o.error.reason, message: o.error.message, status: o.error.status };
    this.state().operations[path] = op;
    if (o.requestId) this.state().requestIds[`${o.project}/${o.requestId}`] = path;
    return op;
  }

  get(path: string): ComputeOperation {
    const op = this.state().operations[path];
    if (!op) throw gcpErrors.notFound(path);
    return op;
  }

  /** The Operation resource as the API returns it. */
  json(op: ComputeOperation): Record<string, unknown> {
    const now = this.ctx.now();
    const status = now >= op.doneAt ? "DONE" : now >= op.startAt ? "RUNNING" : "PENDING";
    const out: Record<string, unknown> = {
      kind: "compute#operation",
      id: op.id,
      name: op.name,
      operationType: op.operationType,
      targetLink: op.targetLink,
      targetId: op.targetId,
      status,
      user: "k3sinfra-emulator@developer.gserviceaccount.com",
      progress: status === "DONE" ? 100 : 0,
      insertTime: rfc3339(op.insertAt),
      selfLink: selfLink(op.path),
    };
    if (status !== "PENDING") out.startTime = rfc3339(op.startAt);
    if (status === "DONE") out.endTime = rfc3339(op.doneAt);
    if (op.scope.kind !== "global")
      out[op.scope.kind] = selfLink(
        `projects/${op.project}/${op.scope.kind === "zone" ? "zones" : "regions"}/${op.scope.name}`,
      );
    if (status === "DONE" && op.error) {
      out.error = { errors: [{ code: op.error.code, message: op.error.message }] };
      out.httpErrorStatusCode = op.error.status;
      out.httpErrorMessage = op.error.status === 409 ? "CONFLICT" : "BAD REQUEST";
    }
    return out;
  }

  /** Drops operations finished more than an hour (scaled) ago, as the API forgets old ones. */
  prune(): void {
    const horizon = this.ctx.now() - Math.max(60_000, 3_600_000 * this.ctx.timeScale);
    for (const [path, op] of Object.entries(this.state().operations)) {
      if (op.doneAt >= horizon) continue;
      delete this.state().operations[path];
      if (op.requestId) delete this.state().requestIds[`${op.project}/${op.requestId}`];
    }
  }
}

export { GcpError };
