import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsCloud } from "../src/aws/index.js";
import type { CloudRequest } from "../src/cloud.js";
import { type Emulator, startEmulator } from "../src/index.js";
import { Rng } from "../src/rng.js";

// Raw requests: the emulator checks the SigV4 scope's service, not static-key signatures, so these name `s3`
// in their scope and every header is exactly what the test says.
const AUTH =
  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ timeScale: 0.001, seed: 7, log: () => {} });
});
afterAll(async () => {
  await emu.stop();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function s3(method: string, path: string, headers: Record<string, string> = {}, body = ""): Promise<Reply> {
  const url = new URL(path, emu.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers: { authorization: AUTH, "content-length": Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const code = (r: Reply) => /<Code>([^<]+)<\/Code>/.exec(r.body)?.[1];

describe("S3 on the wire", () => {
  it("creates a bucket, puts and gets an object path-style, with ETag and SSE headers", async () => {
    expect((await s3("PUT", "/state-a")).status).toBe(200);
    const put = await s3(
      "PUT",
      "/state-a/team/prod.json",
      { "x-amz-server-side-encryption": "AES256" },
      '{"serial":1}',
    );
    expect(put.status).toBe(200);
    expect(put.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.headers["x-amz-server-side-encryption"]).toBe("AES256");
    const got = await s3("GET", "/state-a/team/prod.json");
    expect(got.body).toBe('{"serial":1}');
    expect(got.headers.etag).toBe(put.headers.etag);
    const missing = await s3("GET", "/state-a/nope");
    expect([missing.status, code(missing)]).toEqual([404, "NoSuchKey"]);
    const noBucket = await s3("GET", "/no-such-bucket-x/k");
    expect([noBucket.status, code(noBucket)]).toEqual([404, "NoSuchBucket"]);
  });

  it("serves virtual-hosted-style requests (<bucket>.localhost)", async () => {
    await s3("PUT", "/state-vh");
    const host = `state-vh.localhost:${new URL(emu.url).port}`;
    expect((await s3("PUT", "/k.json", { host }, "vh")).status).toBe(200);
    expect((await s3("GET", "/state-vh/k.json")).body).toBe("vh");
    expect((await s3("GET", "/k.json", { host })).body).toBe("vh");
  });

  it("creates only with If-None-Match: * and replaces only the named ETag with If-Match (412 PreconditionFailed)", async () => {
    await s3("PUT", "/state-c");
    const first = await s3("PUT", "/state-c/lock", { "if-none-match": "*" }, "a");
    expect(first.status).toBe(200);
    const again = await s3("PUT", "/state-c/lock", { "if-none-match": "*" }, "b");
    expect([again.status, code(again)]).toEqual([412, "PreconditionFailed"]);
    const stale = await s3("PUT", "/state-c/lock", { "if-match": '"00000000000000000000000000000000"' }, "c");
    expect([stale.status, code(stale)]).toEqual([412, "PreconditionFailed"]);
    const renewed = await s3("PUT", "/state-c/lock", { "if-match": String(first.headers.etag) }, "d");
    expect(renewed.status).toBe(200);
    const oldDelete = await s3("DELETE", "/state-c/lock", { "if-match": String(first.headers.etag) });
    expect([oldDelete.status, code(oldDelete)]).toEqual([412, "PreconditionFailed"]);
    expect((await s3("DELETE", "/state-c/lock", { "if-match": String(renewed.headers.etag) })).status).toBe(
      204,
    );
    expect((await s3("GET", "/state-c/lock")).status).toBe(404);
  });

  it("lets exactly one of many concurrent conditional creates win; the others get 412 or 409 ConditionalRequestConflict", async () => {
    await s3("PUT", "/state-race");
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        s3("PUT", "/state-race/lock", { "if-none-match": "*" }, `writer-${n}`),
      ),
    );
    const won = replies.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    for (const r of replies.filter((x) => x.status !== 200)) {
      expect([412, 409]).toContain(r.status);
      expect(code(r)).toBe(r.status === 412 ? "PreconditionFailed" : "ConditionalRequestConflict");
    }
    const stored = await s3("GET", "/state-race/lock");
    expect(stored.headers.etag).toBe(won[0]!.headers.etag);
  });

  it("keeps every version once versioning is on, lists them newest first, and reads each by id", async () => {
    await s3("PUT", "/state-v");
    const off = await s3("GET", "/state-v?versioning");
    expect(off.body).not.toContain("<Status>");
    const config =
      '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>';
    expect((await s3("PUT", "/state-v?versioning", {}, config)).status).toBe(200);
    expect((await s3("GET", "/state-v?versioning")).body).toContain("<Status>Enabled</Status>");
    const ids: string[] = [];
    for (const body of ["one", "two", "three"])
      ids.push(String((await s3("PUT", "/state-v/s.json", {}, body)).headers["x-amz-version-id"]));
    const listed = await s3("GET", "/state-v?versions&prefix=s.json");
    expect([...listed.body.matchAll(/<VersionId>([^<]+)<\/VersionId>/g)].map((m) => m[1])).toEqual(
      [...ids].reverse(),
    );
    expect((await s3("GET", `/state-v/s.json?versionId=${ids[0]}`)).body).toBe("one");
    const del = await s3("DELETE", "/state-v/s.json");
    expect(del.headers["x-amz-delete-marker"]).toBe("true");
    expect((await s3("GET", "/state-v/s.json")).status).toBe(404);
    expect((await s3("GET", `/state-v/s.json?versionId=${ids[2]}`)).body).toBe("three");
  });

  it("lists objects under a prefix with a delimiter and continuation tokens (ListObjectsV2)", async () => {
    await s3("PUT", "/state-l");
    for (const k of ["k3s/a.json", "k3s/b.json", "k3s/c.json", "k3s/sub/d.json", "other/e.json"])
      await s3("PUT", `/state-l/${k}`, {}, k);
    const page1 = await s3("GET", "/state-l?list-type=2&prefix=k3s/&delimiter=/&max-keys=2");
    expect([...page1.body.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual([
      "k3s/a.json",
      "k3s/b.json",
    ]);
    const token = /<NextContinuationToken>([^<]+)</.exec(page1.body)?.[1];
    expect(token).toBeDefined();
    const page2 = await s3(
      "GET",
      `/state-l?list-type=2&prefix=k3s/&delimiter=/&continuation-token=${encodeURIComponent(token!)}`,
    );
    expect([...page2.body.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual(["k3s/c.json"]);
    expect(page2.body).toContain("<CommonPrefixes><Prefix>k3s/sub/</Prefix></CommonPrefixes>");
  });

  it("checks requests against the S3 model and refuses bad bucket names", async () => {
    const bad = await s3("PUT", "/Bad_Bucket");
    expect([bad.status, code(bad)]).toEqual([400, "InvalidBucketName"]);
    const head = await s3("HEAD", "/no-such-bucket-y");
    expect([head.status, head.body]).toEqual([404, ""]);
    const list = await s3("GET", "/state-a?list-type=2&encoding-type=bogus");
    expect([list.status, code(list)]).toEqual([400, "InvalidArgument"]);
    expect(list.body).toContain("Member must satisfy enum value set: [url]");
    const sse = await s3("PUT", "/state-a/x", { "x-amz-server-side-encryption": "rot13" }, "x");
    expect([sse.status, code(sse)]).toEqual([400, "InvalidArgument"]);
    // Route 53's paths and the Query protocol are not S3's: they still reach their own services.
    const r53 = await fetch(new URL("/2013-04-01/hostedzone", emu.url));
    expect(r53.status).not.toBe(405);
    expect(
      emu
        .inventory()
        .some((i) => i.service === "s3" && i.type === "object" && i.id === "state-a/team/prod.json"),
    ).toBe(true);
  });

  it("answers 409 ConditionalRequestConflict to a conditional write another write beat during its upload", async () => {
    // Two uploads in flight at once, in the order they arrived: both pass their condition on arrival, the first
    // lands, the second finds the key changed under it (as S3 does while a body streams in).
    const cloud = new AwsCloud({
      options: {},
      timeScale: 1,
      rng: new Rng(3),
      log: () => undefined,
      now: Date.now,
    });
    await cloud.init();
    const req = (
      method: string,
      path: string,
      headers: Record<string, string> = {},
      body = "",
    ): CloudRequest => ({
      method,
      path,
      query: new URLSearchParams(),
      headers: { authorization: AUTH, ...headers },
      body,
    });
    await cloud.route(req("PUT", "/state-409"))!.run();
    const [first, second] = await Promise.all([
      cloud.route(req("PUT", "/state-409/lock", { "if-none-match": "*" }, "a"))!.run(),
      cloud.route(req("PUT", "/state-409/lock", { "if-none-match": "*" }, "b"))!.run(),
    ]);
    expect(first.status).toBe(200);
    expect([second.status, /<Code>([^<]+)</.exec(second.body)?.[1]]).toEqual([
      409,
      "ConditionalRequestConflict",
    ]);
    expect((await cloud.route(req("GET", "/state-409/lock"))!.run()).body).toBe("a");
    await cloud.close();
  });
});
