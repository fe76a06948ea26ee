/**
 * Request validation against the official AWS service models (botocore `service-2.json`), read at
 * run time from `$K3SINFRA_AWS_SPECS` or from a `shared/specs/aws` folder beside an ancestor of the
 * package or of the working directory. A service's model is parsed once per process, when the first request
 * for that service arrives (`loadModel` from its protocol), and cached. When they are absent, validation is
 * off (said once via the log) and the hand-written rules still apply.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AwsError } from "./errors.js";
import type { Tree, TreeValue } from "./query.js";

interface ShapeRef {
  shape: string;
  locationName?: string;
  queryName?: string;
  location?: string;
  flattened?: boolean;
}
interface Shape {
  type: string;
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  enum?: string[];
  min?: number;
  max?: number;
  flattened?: boolean;
}
interface Operation {
  name: string;
  input?: ShapeRef;
  http?: { method: string; requestUri: string };
}
export interface ServiceModel {
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

/** Folder names under the specs directory. */
export type ModelName = "ec2" | "rds" | "elbv2" | "route53" | "sts" | "ssm" | "acm" | "iam" | "s3" | "kms";

let specsDir: string | null | undefined;
const cache = new Map<ModelName, ServiceModel | null>();
let warned = false;

export function findSpecsDir(): string | undefined {
  if (specsDir !== undefined) return specsDir ?? undefined;
  const env = process.env.K3SINFRA_AWS_SPECS;
  if (env) {
    specsDir = existsSync(env) ? resolve(env) : null;
    return specsDir ?? undefined;
  }
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      const candidate = join(dir, "shared", "specs", "aws");
      if (existsSync(join(candidate, "ec2", "service-2.json"))) {
        specsDir = candidate;
        return candidate;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  specsDir = null;
  return undefined;
}

export function loadModel(name: ModelName, log: (line: string) => void): ServiceModel | undefined {
  if (cache.has(name)) return cache.get(name) ?? undefined;
  const dir = findSpecsDir();
  const file = dir ? join(dir, name, "service-2.json") : undefined;
  if (!file || !existsSync(file)) {
    if (!warned) {
      warned = true;
      log(
        "AWS service models not found (set K3SINFRA_AWS_SPECS or provide ../shared/specs/aws): request validation against the models is off",
      );
    }
    cache.set(name, null);
    return undefined;
  }
  const model = JSON.parse(readFileSync(file, "utf8")) as ServiceModel;
  cache.set(name, model);
  return model;
}

/** The services whose model this process has parsed, in the order their first request came (diagnostics). */
export const parsedModels = (): ModelName[] => [...cache].filter(([, m]) => m !== null).map(([name]) => name);

/** `json`: awsJson1.1 bodies (SSM, ACM), converted to a tree with `jsonTree`: member names, plain arrays. */
export type Dialect = "ec2" | "query" | "rest-xml" | "json";

export interface Problem {
  kind: "missing" | "invalid";
  /** Wire path, e.g. `Filter.1.Name` or `Subnets.member.1`. */
  wire: string;
  /** Member path as AWS validation messages write it, e.g. `changeBatch.changes.1.member.action`. */
  member: string;
  /** The top-level member name, e.g. `ImageId`. */
  name: string;
  value?: string;
  detail: string;
}

const lc = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Validate a parsed request (Query tree, or Route 53 XML body merged with URI/query members). */
export function validateInput(
  model: ServiceModel,
  operation: string,
  input: Tree,
  dialect: Dialect,
): Problem[] {
  const op = model.operations[operation];
  if (!op?.input) return [];
  const problems: Problem[] = [];
  const shape = model.shapes[op.input.shape];
  if (shape) walkStruct(model, shape, input, dialect, "", "", "", problems, true);
  return problems;
}

function wireName(ref: ShapeRef, memberName: string, dialect: Dialect): string {
  if (dialect === "json") return memberName;
  if (dialect === "ec2") return ref.queryName ?? (ref.locationName ? cap(ref.locationName) : memberName);
  if (dialect === "rest-xml" && ref.location && ref.location !== "querystring" && ref.location !== "uri")
    return memberName;
  return ref.locationName ?? memberName;
}

function walkStruct(
  model: ServiceModel,
  shape: Shape,
  value: TreeValue,
  dialect: Dialect,
  wire: string,
  member: string,
  top: string,
  out: Problem[],
  isTop = false,
): void {
  if (typeof value !== "object" || Array.isArray(value)) {
    out.push({
      kind: "invalid",
      wire,
      member,
      name: top,
      value: String(value),
      detail: "must be a structure",
    });
    return;
  }
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    if (ref.location === "header" || ref.location === "headers") continue;
    const w = wireName(ref, name, dialect);
    const v = value[w];
    const wPath = wire ? `${wire}.${w}` : w;
    const mPath = member ? `${member}.${lc(name)}` : lc(name);
    const topName = isTop ? name : top;
    if (v === undefined) {
      if (shape.required?.includes(name))
        out.push({
          kind: "missing",
          wire: wPath,
          member: mPath,
          name: topName,
          detail: "Member must not be null",
        });
      continue;
    }
    walkValue(model, ref.shape, v, dialect, wPath, mPath, topName, out);
  }
}

function walkValue(
  model: ServiceModel,
  shapeName: string,
  value: TreeValue,
  dialect: Dialect,
  wire: string,
  member: string,
  top: string,
  out: Problem[],
): void {
  const shape = model.shapes[shapeName];
  if (!shape) return;
  const bad = (detail: string): void => {
    out.push({
      kind: "invalid",
      wire,
      member,
      name: top,
      value: typeof value === "string" ? value : undefined,
      detail,
    });
  };
  switch (shape.type) {
    case "structure":
      walkStruct(model, shape, value, dialect, wire, member, top, out);
      return;
    case "list": {
      let items: TreeValue[];
      let itemWire = wire;
      if (value === "") items = [];
      else if (dialect === "ec2" || dialect === "json" || shape.flattened || shape.member?.flattened) {
        items = Array.isArray(value) ? value : [value];
      } else {
        const itemName = shape.member?.locationName ?? "member";
        const inner = typeof value === "object" && !Array.isArray(value) ? value[itemName] : undefined;
        items = inner === undefined ? [] : Array.isArray(inner) ? inner : [inner];
        itemWire = `${wire}.${itemName}`;
      }
      if (shape.min !== undefined && items.length < shape.min)
        bad(`Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && items.length > shape.max)
        bad(`Member must have length less than or equal to ${shape.max}`);
      items.forEach((item, i) => {
        if (item === undefined || !shape.member) return;
        walkValue(
          model,
          shape.member.shape,
          item,
          dialect,
          `${itemWire}.${i + 1}`,
          `${member}.${i + 1}.member`,
          top,
          out,
        );
      });
      return;
    }
    case "string": {
      if (typeof value !== "string") {
        bad("Member must be a string");
        return;
      }
      if (shape.enum && !shape.enum.includes(value)) {
        const shown = shape.enum.length > 25 ? [...shape.enum.slice(0, 25), "..."] : shape.enum;
        bad(`Member must satisfy enum value set: [${shown.join(", ")}]`);
        return;
      }
      const len = [...value].length;
      if (shape.min !== undefined && len < shape.min) {
        bad(`Member must have length greater than or equal to ${shape.min}`);
        return;
      }
      if (shape.max !== undefined && len > shape.max) {
        bad(`Member must have length less than or equal to ${shape.max}`);
        return;
      }
      return;
    }
    case "integer":
    case "long": {
      if (typeof value !== "string" || !/^-?\d+$/.test(value)) {
        bad("Member must be an integer");
        return;
      }
      const n = Number(value);
      if (shape.min !== undefined && n < shape.min) {
        bad(`Member must have value greater than or equal to ${shape.min}`);
        return;
      }
      if (shape.max !== undefined && n > shape.max) {
        bad(`Member must have value less than or equal to ${shape.max}`);
        return;
      }
      return;
    }
    case "double":
    case "float":
      if (typeof value !== "string" || Number.isNaN(Number(value))) bad("Member must be a number");
      return;
    case "boolean":
      if (typeof value !== "string" || !/^(true|false)$/i.test(value)) bad("Member must be a boolean");
      return;
    default:
      return;
  }
}

/** Turn the first problem into the service's own validation error. */
export function problemToError(
  p: Problem,
  style: "ec2" | "rds" | "validation-error" | "route53" | "json",
): AwsError {
  const shown = p.value === undefined ? "null" : `'${p.value}'`;
  switch (style) {
    case "ec2":
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (MissingParameter, InvalidParameterValue)
      return p.kind === "missing"
        ? new AwsError("MissingParameter", `The request must contain the parameter ${p.wire}`)
        : p.detail.startsWith("Member must satisfy enum")
          ? new AwsError("InvalidParameterValue", `Invalid value '${p.value ?? ""}' for ${p.wire}.`)
          : new AwsError(
              "InvalidParameterValue",
              `Value (${p.value ?? ""}) for parameter ${p.wire} is invalid. ${p.detail}`,
            );
    case "rds":
      // RDS reports both as InvalidParameterValue, e.g. "The parameter X must be provided and must not be blank."
      // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html
      return p.kind === "missing"
        ? new AwsError(
            "InvalidParameterValue",
            `The parameter ${p.name} must be provided and must not be blank.`,
          )
        : new AwsError(
            "InvalidParameterValue",
            `Invalid value ${shown} for parameter ${p.wire}: ${p.detail}`,
          );
    case "validation-error":
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html (ValidationError)
      return new AwsError(
        "ValidationError",
        `1 validation error detected: Value ${shown} at '${p.member}' failed to satisfy constraint: ${p.detail}`,
      );
    case "json":
      // awsJson1.1 services answer ValidationException with the same sentence
      // (https://docs.aws.amazon.com/acm/latest/APIReference/CommonErrors.html).
      return new AwsError(
        "ValidationException",
        `1 validation error detected: Value ${shown} at '${p.member}' failed to satisfy constraint: ${p.detail}`,
      );
    case "route53":
      // https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html#API_ChangeResourceRecordSets_Errors (InvalidInput)
      return new AwsError(
        "InvalidInput",
        `1 validation error detected: Value ${shown} at '${p.member}' failed to satisfy constraint: ${p.detail}`,
      );
  }
}

/** A JSON request body as a validation tree: scalars become strings, arrays and objects stay. */
export function jsonTree(value: unknown): TreeValue {
  if (Array.isArray(value)) return value.map(jsonTree);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonTree(v)]));
  return String(value);
}
