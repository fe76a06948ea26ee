/**
 * STS (Query protocol, API version 2011-06-15): GetCallerIdentity, the call tools make to learn whether
 * credentials work and whose they are. STS is the one service here that checks the access key id: a key
 * other than the emulator's is refused as AWS refuses a deleted or mistyped key.
 */

import type { Call, QueryOp } from "../kernel/call.js";
import { ACCOUNT_ID, stableHex } from "../kernel/common.js";
import { AWS_TEST_CREDENTIALS } from "../kernel/credentials.js";
import { AwsError } from "../kernel/errors.js";

/** The IAM user the emulator's credentials belong to. */
export const CALLER_USER = "k3sinfra-emulator";

/** The access key the emulator hands out. */
const acceptedKey = async (): Promise<string> => AWS_TEST_CREDENTIALS.accessKeyId;

export const stsOps = (): Record<string, QueryOp> => ({
  GetCallerIdentity: async (_input, call: Call) => {
    // An unknown key id is InvalidClientTokenId with HTTP 403
    // (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
    if (call.accessKeyId !== (await acceptedKey()))
      throw new AwsError(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
      );
    // Users' unique ids start with AIDA (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
    return {
      UserId: `AIDA${stableHex(`user:${CALLER_USER}`, 17).toUpperCase()}`,
      Account: ACCOUNT_ID,
      Arn: `arn:aws:iam::${ACCOUNT_ID}:user/${CALLER_USER}`,
    };
  },
});
