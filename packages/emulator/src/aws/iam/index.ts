/**
 * IAM as the AWS cloud wires it: the service, its authentication and authorization of role sessions (auth.ts),
 * and the lookup other services ask of it (the account key, instance profiles, instance role sessions).
 */
import { ACCOUNT_ID } from "../kernel/common.js";
import type { IamLookup } from "../kernel/lookups.js";
import type { Instance } from "../kernel/shapes.js";
import { accountKey, authorize, roleCredentials } from "./auth.js";
import type { IamRole, IamService } from "./service.js";

export { guard } from "./auth.js";
export { IamService, type IamState } from "./service.js";

const roleOf = (iam: IamService, i: Instance): IamRole | undefined =>
  i.iamInstanceProfile ? iam.roleOfProfile(i.iamInstanceProfile, i.iamInstanceProfileId) : undefined;

export const iamLookup = (iam: IamService): IamLookup => ({
  accountKey: () => accountKey(iam),
  profileForLaunch: (spec, now) => iam.profileForLaunch(spec, now),
  instanceRoleName: (i) => roleOf(iam, i)?.name,
  instanceCredentials(i, now) {
    const role = roleOf(iam, i);
    return role ? roleCredentials(iam, role, i.id, now) : undefined;
  },
  authorizeInstance(i, protocol, action, resources) {
    const role = roleOf(iam, i);
    // An instance without a role has no credentials to sign with (callers check instanceRoleName first).
    if (!role) throw new Error(`instance ${i.id} has no role`);
    const arn = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role.name}/${i.id}`;
    authorize(iam, { kind: "role", role, arn }, protocol, action, resources);
  },
});
