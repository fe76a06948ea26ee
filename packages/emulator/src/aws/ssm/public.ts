/**
 * SSM Parameter Store (awsJson1.1, `AmazonSSM.<Operation>`): GetParameter and GetParameters over one table
 * of parameters per region. Today the table holds AWS's public parameters (the AMI ids Canonical and
 * Debian publish under /aws/service/…, the same ones RunInstances resolves from `resolve:ssm:`); account
 * parameters (PutParameter and friends) are meant to join it as a second source.
 */
import { seededImages } from "../kernel/catalog.js";
import { ACCOUNT_ID } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { JsonOp, JsonService } from "../kernel/json-protocol.js";

/** One parameter as GetParameter returns it. */
export interface SsmParameter {
  readonly name: string;
  readonly type: "String" | "StringList" | "SecureString";
  readonly value: string;
  readonly version: number;
  /** Epoch milliseconds. */
  readonly lastModified: number;
  /** `text`, or `aws:ec2:image` for AMI ids checked at write time. */
  readonly dataType: string;
}

// Public parameters were last written when the seeded images were "released" (see seededImages).
const PUBLISHED = Date.parse("2025-10-01T00:00:00.000Z");

/** The public parameters of a region: every SSM name of every seeded image, valued with its AMI id. */
export const publicParameters = (region: string): Map<string, SsmParameter> =>
  new Map(
    seededImages(region).flatMap((image) =>
      image.ssmParameters.map((name): [string, SsmParameter] => [
        name,
        { name, type: "String", value: image.id, version: 1, lastModified: PUBLISHED, dataType: "text" },
      ]),
    ),
  );

/**
 * A name as GetParameter takes it: a plain name, the parameter's ARN, either with a `:version` selector
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html).
 */
const parseName = (raw: string): { name: string; version?: number } => {
  const arn = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d*:parameter(\/.*)$/.exec(raw);
  const plain = arn ? arn[1]! : raw;
  const m = /^(.*):(\d+)$/.exec(plain);
  return m ? { name: m[1]!, version: Number(m[2]) } : { name: plain };
};

export class SsmService implements JsonService {
  readonly name = "ssm" as const;
  readonly targetPrefix = "AmazonSSM";
  readonly model = "ssm" as const;

  /** Every parameter readable in a region. */
  parameters(region: string): Map<string, SsmParameter> {
    return publicParameters(region);
  }

  /** The parameter a name (with an optional version selector) designates, or undefined. */
  find(region: string, raw: string): SsmParameter | undefined {
    const { name, version } = parseName(raw);
    const p = this.parameters(region).get(name);
    return p && (version === undefined || version === p.version) ? p : undefined;
  }

  private out(region: string, p: SsmParameter, asked: string): object {
    // Public parameters have no account in their ARN (arn:aws:ssm:us-east-1::parameter/aws/service/…).
    const account = p.name.startsWith("/aws/service/") ? "" : ACCOUNT_ID;
    return {
      Name: p.name,
      Type: p.type,
      Value: p.value,
      Version: p.version,
      // awsJson timestamps are epoch seconds.
      LastModifiedDate: p.lastModified / 1000,
      ARN: `arn:aws:ssm:${region}:${account}:parameter${p.name}`,
      DataType: p.dataType,
      ...(asked.includes(":") && !asked.startsWith("arn:")
        ? { Selector: asked.slice(asked.lastIndexOf(":")) }
        : {}),
    };
  }

  readonly ops: Record<string, JsonOp> = {
    GetParameter: (input, call) => {
      const asked = String(input.Name);
      const p = this.find(call.region, asked);
      // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html#API_GetParameter_Errors
      if (!p) {
        const { version } = parseName(asked);
        if (version !== undefined && this.find(call.region, parseName(asked).name))
          throw new AwsError(
            "ParameterVersionNotFound",
            `Systems Manager could not find version ${version} of ${parseName(asked).name}. Verify the version and try again.`,
          );
        throw new AwsError("ParameterNotFound", `Parameter ${asked} not found.`);
      }
      return { Parameter: this.out(call.region, p, asked) };
    },

    // Names that resolve to nothing are listed in InvalidParameters, not raised
    // (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html).
    GetParameters: (input, call) => {
      const names = (input.Names as unknown[]).map(String);
      const found: object[] = [];
      const invalid: string[] = [];
      for (const asked of names) {
        const p = this.find(call.region, asked);
        if (p) found.push(this.out(call.region, p, asked));
        else invalid.push(asked);
      }
      return { Parameters: found, InvalidParameters: invalid };
    },
  };
}
