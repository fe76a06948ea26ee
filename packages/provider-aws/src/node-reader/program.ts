/**
 * The node-side SSM client: a dependency-free Python 3 (>= 3.8) program that signs AWS requests with
 * Signature Version 4 using only the standard library, with the instance role's credentials from IMDSv2.
 * Ubuntu's cloud images ship python3, so nothing is downloaded at boot.
 *
 * Usage on the node (as root; the program is the 0700 file at `SSM_CLIENT_PATH`):
 * - `get <name>`: `GetParameter` with `WithDecryption`; prints the value on stdout, exactly, nothing else.
 * - `put <name>`: the value is read from stdin (UTF-8); `PutParameter` as a `SecureString` with `Overwrite`.
 * - `sign`: test mode; reads `{op, name, value?, region, endpoint, date, accessKeyId, secretAccessKey,
 *   sessionToken?}` as JSON on stdin and prints the request `get`/`put` would send, signed at `date`
 *   (`YYYYMMDDTHHMMSSZ`), with its canonical request and string to sign. No network.
 * Exit status: 0 done; 1 AWS refused (the error code is on stderr: AccessDeniedException,
 * ParameterNotFound, ValidationException…); 2 usage or invalid input; 3 gave up after the retries
 * (IMDS or SSM unreachable, throttled or failing with 5xx).
 * Environment (tests only; unset on a node): `K3SINFRA_IMDS_ENDPOINT` (default http://169.254.169.254),
 * `K3SINFRA_SSM_ENDPOINT` (default https://ssm.<region>.amazonaws.com/), `K3SINFRA_SSM_ATTEMPTS`
 * (default 10), `K3SINFRA_SSM_RETRY_DELAY` (first backoff in seconds, default 0.5, doubling to 20).
 *
 * Secrets never reach argv or a log: credentials stay in the process's memory for one invocation, the
 * value travels by stdin/stdout, and error messages from AWS are printed with the value redacted.
 * References:
 * - SigV4: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html and
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * - IMDSv2 and role credentials:
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html
 * - GetParameter / PutParameter (awsJson1_1, `X-Amz-Target: AmazonSSM.<Operation>`):
 *   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html,
 *   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
 * - Retryable errors and backoff: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
export const SSM_CLIENT_SOURCE = String.raw`#!/usr/bin/env python3
# k3sinfra node-side SSM Parameter Store client (SigV4 in the standard library). Generated: do not edit.
import datetime
import hashlib
import hmac
import json
import os
import random
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

IMDS = os.environ.get("K3SINFRA_IMDS_ENDPOINT", "http://169.254.169.254").rstrip("/")
RETRYABLE = {"ThrottlingException", "Throttling", "TooManyUpdates", "RequestLimitExceeded",
             "InternalServerError", "InternalFailure", "ServiceUnavailable", "RequestTimeout"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would resend Authorization and the session token to wherever a redirect points.
    def redirect_request(self, *args):
        return None


# IMDS is link-local: never send its requests (or the credentials it returns) through a proxy.
IMDS_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
SSM_OPENER = urllib.request.build_opener(NoRedirect)


class Fail(Exception):
    def __init__(self, message, status, code=""):
        Exception.__init__(self, message)
        self.status = status
        self.code = code


class Retry(Exception):
    pass


def env_number(name, default, kind):
    try:
        return kind(os.environ.get(name, default))
    except ValueError:
        raise Fail("%s must be a number" % name, 2)


def http(opener, method, url, headers, body, timeout):
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with opener.open(req, timeout=timeout) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except (urllib.error.URLError, OSError) as e:
        raise Retry("%s %s: %s" % (method, url, getattr(e, "reason", e)))


def with_retries(what, fn):
    attempts = max(1, env_number("K3SINFRA_SSM_ATTEMPTS", "10", int))
    delay = env_number("K3SINFRA_SSM_RETRY_DELAY", "0.5", float)
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Retry as e:
            last = str(e)
            if attempt == attempts:
                break
            print("k3sinfra-ssm: %s: %s; retrying (%d/%d)" % (what, last, attempt, attempts), file=sys.stderr)
            # Exponential backoff with jitter, capped at 20 s.
            time.sleep(min(20.0, delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
    raise Fail("%s: gave up after %d attempts: %s" % (what, attempts, last), 3)


class Imds:
    def __init__(self):
        self.token = None

    def get(self, path):
        if self.token is None:
            status, _, body = http(IMDS_OPENER, "PUT", IMDS + "/latest/api/token",
                                   {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, b"", 5)
            if status != 200:
                raise Retry("IMDSv2 token: HTTP %d" % status)
            self.token = body.decode("ascii").strip()
        status, _, body = http(IMDS_OPENER, "GET", IMDS + path, {"X-aws-ec2-metadata-token": self.token}, None, 5)
        if status == 401:
            self.token = None
        if status != 200:
            raise Retry("IMDS %s: HTTP %d" % (path, status))
        return body.decode("utf-8")

    def credentials(self):
        # A 404 means no role is attached yet (the instance profile can be associated late).
        roles = self.get("/latest/meta-data/iam/security-credentials/").split()
        if not roles:
            raise Retry("IMDS: no IAM role attached to this instance")
        doc = json.loads(self.get("/latest/meta-data/iam/security-credentials/" + roles[0]))
        if doc.get("Code") != "Success":
            raise Retry("IMDS credentials for role %s: %s" % (roles[0], doc.get("Code")))
        return {"accessKeyId": doc["AccessKeyId"], "secretAccessKey": doc["SecretAccessKey"],
                "sessionToken": doc.get("Token")}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def hmac256(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def canonical_value(value):
    # Trim, and sequential spaces become one (the SigV4 canonical header value).
    return re.sub(r"[ \t]+", " ", value.replace("\r", " ").replace("\n", " ")).strip(" ")


def sign(method, url, headers, body, creds, region, service, amz_date):
    """The headers to send: ours plus Host, X-Amz-Date, X-Amz-Security-Token and Authorization."""
    parts = urllib.parse.urlsplit(url)
    out = dict(headers)
    out["Host"] = parts.netloc
    out["X-Amz-Date"] = amz_date
    if creds.get("sessionToken"):
        out["X-Amz-Security-Token"] = creds["sessionToken"]
    canon = sorted((k.lower(), canonical_value(v)) for k, v in out.items())
    signed = ";".join(k for k, _ in canon)
    # awsJson requests always go to "/" with no query string.
    canonical = "\n".join([method, "/", "", "".join("%s:%s\n" % kv for kv in canon), signed, sha256(body)])
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha256(canonical.encode("utf-8"))])
    key = ("AWS4" + creds["secretAccessKey"]).encode("utf-8")
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac256(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    out["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        creds["accessKeyId"], scope, signed, signature)
    return out, canonical, to_sign


def request_for(op, name, value):
    if op == "get":
        target, payload = "GetParameter", {"Name": name, "WithDecryption": True}
    else:
        target, payload = "PutParameter", {"Name": name, "Value": value, "Type": "SecureString", "Overwrite": True}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM." + target}


def endpoint_for(region, url=None):
    url = url or os.environ.get("K3SINFRA_SSM_ENDPOINT") or "https://ssm.%s.amazonaws.com/" % region
    if urllib.parse.urlsplit(url).path not in ("", "/"):
        raise Fail("the SSM endpoint must have no path: %s" % url, 2)
    return url.rstrip("/") + "/"


def error_of(status, headers, data, value):
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError:
        doc = {}
    code = str(doc.get("__type") or (headers.get("x-amzn-ErrorType") if headers else "") or "HTTP %d" % status)
    code = code.split("#")[-1].split(":")[0]
    message = str(doc.get("message") or doc.get("Message") or "")
    if value:
        message = message.replace(value, "[value]")
    return code, message[:300]


def call(op, name, value):
    imds = Imds()
    creds = with_retries("instance role credentials", imds.credentials)
    region = with_retries("region", lambda: imds.get("/latest/meta-data/placement/region").strip())
    url = endpoint_for(region)
    body, headers = request_for(op, name, value)
    state = {"creds": creds}

    def attempt():
        amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        signed, _, _ = sign("POST", url, headers, body, state["creds"], region, "ssm", amz_date)
        status, rh, data = http(SSM_OPENER, "POST", url, signed, body, 15)
        if status == 200:
            return json.loads(data.decode("utf-8"))
        code, message = error_of(status, rh, data, value)
        if code in ("ExpiredTokenException", "ExpiredToken"):
            state["creds"] = imds.credentials()
            raise Retry(code)
        if status >= 500 or status == 429 or code in RETRYABLE:
            raise Retry("%s (HTTP %d)" % (code, status))
        raise Fail("%s %s: %s: %s" % (headers["X-Amz-Target"][10:], name, code, message), 1, code)

    return with_retries("%s %s" % (headers["X-Amz-Target"][10:], name), attempt)


def debug_sign():
    spec = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    body, headers = request_for(spec["op"], spec["name"], spec.get("value"))
    url = endpoint_for(spec["region"], spec["endpoint"])
    creds = {k: spec.get(k) for k in ("accessKeyId", "secretAccessKey", "sessionToken")}
    signed, canonical, to_sign = sign("POST", url, headers, body, creds, spec["region"], "ssm", spec["date"])
    json.dump({"url": url, "headers": signed, "body": body.decode("utf-8"), "canonicalRequest": canonical,
               "stringToSign": to_sign}, sys.stdout, ensure_ascii=False)


def main(argv):
    if argv == ["sign"]:
        return debug_sign()
    if len(argv) != 2 or argv[0] not in ("get", "put") or not re.match(r"^[A-Za-z0-9_.\-/]{1,2048}$", argv[1]):
        raise Fail("usage: get <name> | put <name> (value on stdin); names are letters, digits and _.-/", 2)
    op, name = argv
    value = None
    if op == "put":
        try:
            value = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError:
            raise Fail("put %s: the value on stdin is not UTF-8" % name, 2)
        if value == "":
            raise Fail("put %s: refusing an empty value (stdin was empty)" % name, 2)
    result = call(op, name, value)
    if op == "get":
        sys.stdout.buffer.write(result["Parameter"]["Value"].encode("utf-8"))
        sys.stdout.flush()
    else:
        print("k3sinfra-ssm: wrote %s version %s" % (name, result.get("Version")), file=sys.stderr)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Fail as e:
        print("k3sinfra-ssm: %s" % e, file=sys.stderr)
        sys.exit(e.status)
    except Exception as e:
        # Only the type: a message could quote a response.
        print("k3sinfra-ssm: unexpected %s" % type(e).__name__, file=sys.stderr)
        sys.exit(1)
`;

/**
 * The program as written to the node, smaller (EC2 user data is capped at 16 KB): comment lines and blank
 * lines dropped, and indentation divided by 4 (blocks stay consistent; continuation lines are inside
 * brackets, where indentation does not matter). Sound because no line of the program is inside a
 * multi-line string. Every test runs this form.
 */
export const SSM_CLIENT_PROGRAM: string = SSM_CLIENT_SOURCE.split("\n")
  .filter((line, i) => i === 0 || !/^\s*(#|$)/.test(line))
  .map((line) => {
    const indent = line.length - line.trimStart().length;
    return " ".repeat(Math.floor(indent / 4)) + line.trimStart();
  })
  .join("\n")
  .concat("\n");
