/**
 * Parameter Store's name rules, `ParameterFilters` (DescribeParameters, GetParametersByPath) and NextToken
 * paging, for parameters.ts.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParameterStringFilter.html
 */
import { AwsError } from "../kernel/errors.js";
import type { StoredParameter } from "./model.js";

const invalid = (message: string): AwsError => new AwsError("ValidationException", message);

/** PutParameter's naming rules (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html). */
export function checkName(name: string): void {
  const bare = name.replace(/^\//, "");
  if (
    /^(aws|ssm)/i.test(bare) ||
    !/^[a-zA-Z0-9_.\-/]+$/.test(name) ||
    (name.includes("/") && !name.startsWith("/"))
  )
    throw invalid(
      'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_',
    );
  if (name.split("/").length - 1 > 15)
    throw new AwsError(
      "HierarchyLevelLimitExceededException",
      "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names.",
    );
}

/** DescribeParameters / GetParametersByPath `ParameterFilters`. */
export function filterParameters(params: StoredParameter[], filters: unknown[]): StoredParameter[] {
  return params.filter((p) =>
    filters.every((f) => {
      const { Key, Option, Values } = f as { Key: string; Option?: string; Values?: string[] };
      const vals = Values ?? [];
      const v = p.versions.at(-1)!;
      if (Key.startsWith("tag:")) {
        const t = p.tags[Key.slice(4)];
        return t !== undefined && (vals.length === 0 || vals.includes(t));
      }
      const field: Record<string, string | undefined> = {
        Name: p.name,
        Type: v.type,
        KeyId: v.keyId,
        Tier: v.tier,
        DataType: v.dataType,
      };
      if (Key === "Path") {
        const recursive = Option === "Recursive";
        return vals.some((path) => {
          const base = path.endsWith("/") ? path : `${path}/`;
          return p.name.startsWith(base) && (recursive || !p.name.slice(base.length).includes("/"));
        });
      }
      if (!(Key in field))
        throw new AwsError("InvalidFilterKey", `The following filter key is not valid: ${Key}`);
      const value = field[Key] ?? "";
      const norm = (s: string) => (Key === "Name" ? s.replace(/^\//, "") : s);
      if (Option === "BeginsWith") return vals.some((x) => norm(value).startsWith(norm(x)));
      if (Option === "Contains") return vals.some((x) => value.includes(x));
      if (Option !== undefined && Option !== "Equals")
        throw new AwsError("InvalidFilterOption", `The following filter option is not valid: ${Option}`);
      return vals.some((x) => norm(x) === norm(value));
    }),
  );
}

/** NextToken paging over a sorted list (the token is opaque to clients). */
export function pageOf<T>(
  items: T[],
  input: Record<string, unknown>,
  max: number,
): { page: T[]; NextToken?: string } {
  const start =
    input.NextToken === undefined ? 0 : Number(Buffer.from(String(input.NextToken), "base64url").toString());
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError("InvalidNextToken", "The specified token is not valid.");
  const size = Number(input.MaxResults ?? max);
  const more = start + size < items.length;
  return {
    page: items.slice(start, start + size),
    ...(more ? { NextToken: Buffer.from(String(start + size)).toString("base64url") } : {}),
  };
}
