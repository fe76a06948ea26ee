/**
 * SSM Parameter Store, the account's own parameters (awsJson1.1 `AmazonSSM.*`): PutParameter with String,
 * StringList and SecureString, versions, tiers and their value limits, tags, GetParameter(s) (public
 * parameters, public.ts, answer what is not the account's), GetParametersByPath, DeleteParameter(s),
 * DescribeParameters. SecureString values are sealed with AES-256-GCM under a key derived from the account key
 * (standing in for the AWS managed KMS key `alias/aws/ssm`), so no value is ever stored or persisted in clear.
 * API reference: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Operations.html
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { InventoryItem } from "../../types.js";
import type { Call } from "../kernel/call.js";
import { ACCOUNT_ID, hmac, parameterArn } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { JsonOp } from "../kernel/json-protocol.js";
import type { LazySlice, ServiceKernel } from "../kernel/lookups.js";
import type { ParameterState, ParamType, ParamVersion, StoredParameter } from "./model.js";
import { checkName, filterParameters, pageOf } from "./parameter-query.js";
import type { SsmService } from "./public.js";

export type { ParameterState } from "./model.js";

const DEFAULT_KEY = "alias/aws/ssm";
const MAX_VERSIONS = 100;
const USER_ARN = `arn:aws:iam::${ACCOUNT_ID}:user/k3sinfra-emulator`;

const invalid = (message: string): AwsError => new AwsError("ValidationException", message);
const notFound = (name: string): AwsError =>
  new AwsError("ParameterNotFound", `Parameter ${name} not found.`);

export class ParameterStore {
  constructor(
    private readonly k: ServiceKernel<LazySlice<ParameterState>>,
    private readonly pub: SsmService,
  ) {}

  private region(region: string): Record<string, StoredParameter> {
    const all = this.k.state().get();
    all[region] ??= {};
    return all[region];
  }

  /** The KMS stand-in: a 256-bit key per key id, derived from the account key. */
  private key(keyId: string): Buffer {
    return hmac(this.k.lookups.iam.accountKey(), `kms|${keyId}`);
  }

  // A KMS ciphertext blob looks like base64 "AQICAHh…": version bytes, then the sealed data.
  private seal(plain: string, keyId: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key(keyId), iv);
    const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return Buffer.concat([Buffer.from([1, 2, 2, 0, 0x78]), iv, c.getAuthTag(), body]).toString("base64");
  }

  private open(sealed: string, keyId: string): string {
    const b = Buffer.from(sealed, "base64");
    const d = createDecipheriv("aes-256-gcm", this.key(keyId), b.subarray(5, 17));
    d.setAuthTag(b.subarray(17, 33));
    return Buffer.concat([d.update(b.subarray(33)), d.final()]).toString("utf8");
  }

  /** A name as asked (plain, `:version` selector, or ARN) → the stored parameter and version. */
  private lookup(region: string, asked: string): { p?: StoredParameter; v?: ParamVersion; version?: number } {
    const arn = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/(.*)$/.exec(asked);
    let name = arn ? arn[1]! : asked;
    let version: number | undefined;
    const sel = /^(.*):(\d+)$/.exec(name);
    if (sel) [name, version] = [sel[1]!, Number(sel[2])];
    const params = this.region(region);
    // An ARN drops the leading slash of a hierarchical name.
    const p = params[name] ?? (arn ? params[`/${name}`] : undefined);
    const v =
      p && (version === undefined ? p.versions.at(-1) : p.versions.find((x) => x.version === version));
    return { p, v, version };
  }

  private out(
    region: string,
    p: StoredParameter,
    v: ParamVersion,
    decrypt: boolean,
    selector?: string,
  ): object {
    return {
      Name: p.name,
      Type: v.type,
      Value: v.type === "SecureString" && decrypt ? this.open(v.value, v.keyId ?? DEFAULT_KEY) : v.value,
      Version: v.version,
      ...(selector ? { Selector: selector } : {}),
      LastModifiedDate: v.lastModified / 1000,
      ARN: parameterArn(region, p.name),
      DataType: v.dataType,
    };
  }

  private metadata(region: string, p: StoredParameter): object {
    const v = p.versions.at(-1)!;
    return {
      Name: p.name,
      ARN: parameterArn(region, p.name),
      Type: v.type,
      KeyId: v.type === "SecureString" ? v.keyId : undefined,
      LastModifiedDate: v.lastModified / 1000,
      LastModifiedUser: USER_ARN,
      Description: v.description,
      AllowedPattern: v.allowedPattern,
      Version: v.version,
      Tier: v.tier,
      Policies: [],
      DataType: v.dataType,
    };
  }

  private tagged(call: Call, input: Record<string, unknown>): StoredParameter {
    // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AddTagsToResource.html
    if (input.ResourceType !== "Parameter")
      throw new AwsError(
        "InvalidResourceType",
        "The resource type is not valid for this emulator: use Parameter.",
      );
    const id = String(input.ResourceId);
    const p = this.lookup(call.region, id).p;
    if (!p)
      throw new AwsError(
        "InvalidResourceId",
        `The resource ID "${id}" is not valid. Verify the ID and try again.`,
      );
    return p;
  }

  inventory(): InventoryItem[] {
    return Object.entries(this.k.state().peek() ?? {}).flatMap(([region, params]) =>
      Object.values(params).map((p) => ({
        cloud: "aws",
        service: "ssm",
        type: "ssm-parameter",
        id: p.name,
        name: p.name,
        region,
        state: "available",
        tags: { ...p.tags },
      })),
    );
  }

  readonly ops: Record<string, JsonOp> = {
    // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
    PutParameter: (input, call) => {
      const name = String(input.Name);
      const value = String(input.Value);
      checkName(name);
      const tags = (input.Tags as { Key: string; Value: string }[] | undefined) ?? [];
      if (input.Tags !== undefined && input.Overwrite === true)
        throw invalid(
          "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
        );
      const params = this.region(call.region);
      const existing = params[name];
      if (existing && input.Overwrite !== true)
        throw new AwsError(
          "ParameterAlreadyExists",
          "The parameter already exists. To overwrite this request, set the overwrite option in the request to true.",
        );
      const prev = existing?.versions.at(-1);
      const type = (input.Type as ParamType | undefined) ?? prev?.type;
      if (!type) throw invalid("A parameter type is required when you create a parameter.");
      // Standard 4 KB, Advanced 8 KB; Intelligent-Tiering picks the tier the value needs
      // (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
      const asked = (input.Tier as string | undefined) ?? "Standard";
      let tier: "Standard" | "Advanced" =
        asked === "Advanced" || (asked === "Intelligent-Tiering" && value.length > 4096)
          ? "Advanced"
          : "Standard";
      if (prev?.tier === "Advanced") {
        if (input.Tier === "Standard")
          throw invalid(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
          );
        tier = "Advanced";
      }
      if (tier === "Standard" && value.length > 4096)
        throw invalid(
          "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
        );
      if (value.length > 8192)
        throw invalid("Advanced tier parameters support a maximum parameter value of 8192 characters.");
      const allowedPattern = (input.AllowedPattern as string | undefined) ?? prev?.allowedPattern;
      if (allowedPattern !== undefined && !new RegExp(allowedPattern).test(value))
        throw new AwsError(
          "ParameterPatternMismatchException",
          `Parameter value, cannot be validated against allowedPattern: ${allowedPattern}`,
        );
      let keyId: string | undefined;
      if (type === "SecureString") {
        keyId = (input.KeyId as string | undefined) ?? prev?.keyId ?? DEFAULT_KEY;
        // Only the AWS managed key exists here (no KMS behind other key ids).
        if (keyId !== DEFAULT_KEY && !/^arn:aws:kms:[a-z0-9-]+:\d{12}:alias\/aws\/ssm$/.test(keyId))
          throw new AwsError(
            "InvalidKeyId",
            `Invalid KeyId: ${keyId} (only ${DEFAULT_KEY} exists in the emulator)`,
          );
      }
      if (tags.length > 50)
        throw new AwsError("TooManyTagsError", "You exceeded the maximum number of tags (50).");
      const p = existing ?? { name, versions: [], tags: {} };
      params[name] = p;
      for (const t of tags) p.tags[t.Key] = t.Value;
      const version = (prev?.version ?? 0) + 1;
      p.versions.push({
        version,
        type,
        value: type === "SecureString" ? this.seal(value, keyId!) : value,
        keyId,
        description: (input.Description as string | undefined) ?? prev?.description,
        allowedPattern,
        tier,
        dataType: (input.DataType as string | undefined) ?? prev?.dataType ?? "text",
        lastModified: call.now,
      });
      if (p.versions.length > MAX_VERSIONS) p.versions.shift();
      return { Version: version, Tier: tier };
    },

    GetParameter: (input, call) => {
      const asked = String(input.Name);
      const { p, v, version } = this.lookup(call.region, asked);
      if (!p) return this.pub.ops.GetParameter!(input, call);
      if (!v)
        throw new AwsError(
          "ParameterVersionNotFound",
          `Systems Manager could not find version ${version} of ${p.name}. Verify the version and try again.`,
        );
      const selector = version !== undefined ? `:${version}` : undefined;
      return { Parameter: this.out(call.region, p, v, input.WithDecryption === true, selector) };
    },

    // Unknown names are listed in InvalidParameters (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html).
    GetParameters: async (input, call) => {
      const names = (input.Names as unknown[]).map(String);
      const found: object[] = [];
      const others: string[] = [];
      for (const asked of names) {
        const { p, v, version } = this.lookup(call.region, asked);
        if (p && v)
          found.push(
            this.out(call.region, p, v, input.WithDecryption === true, version ? `:${version}` : undefined),
          );
        else others.push(asked);
      }
      if (!others.length) return { Parameters: found, InvalidParameters: [] };
      const rest = (await this.pub.ops.GetParameters!({ ...input, Names: others }, call)) as {
        Parameters: object[];
        InvalidParameters: string[];
      };
      return { Parameters: [...found, ...rest.Parameters], InvalidParameters: rest.InvalidParameters };
    },

    // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html
    GetParametersByPath: (input, call) => {
      const path = String(input.Path);
      if (!path.startsWith("/"))
        throw invalid(
          'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".',
        );
      const filters = [
        { Key: "Path", Option: input.Recursive === true ? "Recursive" : "OneLevel", Values: [path] },
        ...((input.ParameterFilters as unknown[] | undefined) ?? []),
      ];
      const own = filterParameters(Object.values(this.region(call.region)), filters);
      const publics = [...this.pub.parameters(call.region).values()].map(
        (x): StoredParameter => ({
          name: x.name,
          tags: {},
          versions: [
            {
              version: x.version,
              type: x.type,
              value: x.value,
              tier: "Standard",
              dataType: x.dataType,
              lastModified: x.lastModified,
            },
          ],
        }),
      );
      const all = [...own, ...(path.startsWith("/aws/") ? filterParameters(publics, filters) : [])].sort(
        (a, b) => (a.name < b.name ? -1 : 1),
      );
      const { page, NextToken } = pageOf(all, input, 10);
      return {
        Parameters: page.map((p) =>
          this.out(call.region, p, p.versions.at(-1)!, input.WithDecryption === true),
        ),
        ...(NextToken ? { NextToken } : {}),
      };
    },

    DeleteParameter: (input, call) => {
      const name = String(input.Name);
      const params = this.region(call.region);
      if (!params[name]) throw notFound(name);
      delete params[name];
      return {};
    },

    DeleteParameters: (input, call) => {
      const params = this.region(call.region);
      const names = (input.Names as unknown[]).map(String);
      const deleted = names.filter((n) => params[n] && delete params[n]);
      return { DeletedParameters: deleted, InvalidParameters: names.filter((n) => !deleted.includes(n)) };
    },

    // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeParameters.html
    DescribeParameters: (input, call) => {
      if (input.Filters !== undefined && input.ParameterFilters !== undefined)
        throw invalid("You can use either Filters or ParameterFilters in a single request.");
      const legacy = ((input.Filters as { Key: string; Values: string[] }[] | undefined) ?? []).map((f) => ({
        Key: f.Key,
        Option: "Equals",
        Values: f.Values,
      }));
      const filters = [...legacy, ...((input.ParameterFilters as unknown[] | undefined) ?? [])];
      const all = filterParameters(Object.values(this.region(call.region)), filters).sort((a, b) =>
        a.name < b.name ? -1 : 1,
      );
      const { page, NextToken } = pageOf(all, input, 50);
      return {
        Parameters: page.map((p) => this.metadata(call.region, p)),
        ...(NextToken ? { NextToken } : {}),
      };
    },

    AddTagsToResource: (input, call) => {
      const p = this.tagged(call, input);
      const tags = input.Tags as { Key: string; Value: string }[];
      const merged = { ...p.tags, ...Object.fromEntries(tags.map((t) => [t.Key, t.Value])) };
      if (Object.keys(merged).length > 50)
        throw new AwsError("TooManyTagsError", "You exceeded the maximum number of tags (50).");
      p.tags = merged;
      return {};
    },

    RemoveTagsFromResource: (input, call) => {
      const p = this.tagged(call, input);
      for (const k of (input.TagKeys as unknown[]).map(String)) delete p.tags[k];
      return {};
    },

    ListTagsForResource: (input, call) => ({
      TagList: Object.entries(this.tagged(call, input).tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  };
}
