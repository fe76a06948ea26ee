import { InvalidConfigError } from "@k3sinfra/core";
import { describe, expect, it } from "vitest";
import { awsRdsCaUrl } from "../src/rds-ca.js";

describe("awsRdsCaUrl", () => {
  it("is the official regional bundle, with GovCloud and China on their own hosts", () => {
    expect(awsRdsCaUrl("us-east-1")).toBe(
      "https://truststore.pki.rds.amazonaws.com/us-east-1/us-east-1-bundle.pem",
    );
    expect(awsRdsCaUrl("ap-southeast-3")).toBe(
      "https://truststore.pki.rds.amazonaws.com/ap-southeast-3/ap-southeast-3-bundle.pem",
    );
    expect(awsRdsCaUrl("us-gov-west-1")).toBe(
      "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/us-gov-west-1/us-gov-west-1-bundle.pem",
    );
    expect(awsRdsCaUrl("cn-northwest-1")).toBe(
      "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/cn-northwest-1/cn-northwest-1-bundle.pem",
    );
  });

  it("refuses what is not a region name (it goes into a URL)", () => {
    for (const bad of ["", "us-east-1/../x", "US-EAST-1", "us-east", "us east 1"])
      expect(() => awsRdsCaUrl(bad)).toThrow(InvalidConfigError);
  });
});
