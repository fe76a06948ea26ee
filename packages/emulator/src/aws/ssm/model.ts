/** The account's SSM parameters as persisted (parameters.ts serves them, parameter-query.ts filters and pages). */
import type { Tags } from "../kernel/common.js";

export type ParamType = "String" | "StringList" | "SecureString";

export interface ParamVersion {
  version: number;
  type: ParamType;
  /** Plain for String/StringList; the sealed blob (base64) for SecureString. */
  value: string;
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  tier: "Standard" | "Advanced";
  dataType: string;
  lastModified: number;
}

export interface StoredParameter {
  name: string;
  /** Oldest first; at most 100 (the oldest is dropped, as AWS does for unlabeled versions). */
  versions: ParamVersion[];
  tags: Tags;
}

/** region → name → parameter. */
export type ParameterState = Record<string, Record<string, StoredParameter>>;
