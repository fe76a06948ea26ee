import { describe, expect, it } from "vitest";
import { datastoreError } from "../../src/datastore/index.js";
import { K3sinfraError } from "../../src/errors.js";

const ctx = {
  host: "db.example.com",
  port: 3306,
  user: "admin",
  action: "connecting",
  secrets: ["S3cretPw"],
};

describe("datastoreError", () => {
  it.each([
    [{ code: "ER_ACCESS_DENIED_ERROR", errno: 1045, sqlMessage: "Access denied" }, "AuthFailed"],
    [{ code: "ETIMEDOUT", message: "connect ETIMEDOUT" }, "Timeout"],
    [{ code: "ECONNREFUSED", message: "connect ECONNREFUSED" }, "ProviderError"],
    [{ code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND" }, "ProviderError"],
    [{ code: "ERR_TLS_CERT_ALTNAME_INVALID", message: "Hostname/IP does not match" }, "ProviderError"],
    [{ code: "ER_SPECIFIC_ACCESS_DENIED_ERROR", sqlMessage: "need CREATE USER" }, "AuthFailed"],
  ])("%o → %s, naming host:port", (driver, code) => {
    const e = datastoreError(driver, ctx);
    expect(K3sinfraError.is(e, code as never)).toBe(true);
    expect(e.message).toContain("db.example.com");
    expect(e.cause).toBeUndefined();
  });

  it("scrubs secrets the server echoed and keeps no driver error as cause", () => {
    const e = datastoreError(
      {
        code: "ER_PARSE_ERROR",
        sqlMessage: "near 'S3cretPw'",
        sql: "CREATE USER 'k3s' IDENTIFIED BY 'S3cretPw'",
      },
      ctx,
    );
    expect(e.message).not.toContain("S3cretPw");
    expect(e.message).toContain("********");
    expect(JSON.stringify(e)).not.toContain("S3cretPw");
  });
});
