// The state backends provider-aws offers (`stateBackends` on its descriptor): `s3`, with KMS key wrapping.
import type { StateBackendFactory } from "@k3sinfra/core";
import { parseS3StateOptions, type S3StateOptions } from "./options.js";
import { S3StateBackend } from "./s3-backend.js";

export { KmsKeyWrapper } from "./kms-wrapper.js";
export { parseS3StateOptions, type S3StateOptions } from "./options.js";
export { defaultStateKey, S3StateBackend, STATE_SUFFIX } from "./s3-backend.js";
export { S3LockBackend } from "./s3-lock.js";

/** `state: { backend: s3, bucket, region, key?, endpoint?, kmsKeyId? }`. Builds objects only; the SDK loads on first use. */
export const s3StateBackend: StateBackendFactory<S3StateOptions> = {
  parse: parseS3StateOptions,
  create: (options, ctx) => new S3StateBackend(options, ctx),
};
