/**
 * ACM (awsJson1.1, `CertificateManager.<Operation>`): DescribeCertificate over the certificates a test or
 * `--emulate` seeds (`fixtures.aws.certificates`), as a user brings an ALB certificate they requested or
 * imported themselves. Certificates are regional: an ARN is only found in its own region.
 */
import type { AcmCertificateFixture, CertificateStatus, InventoryItem } from "../../types.js";
import { ACCOUNT_ID, DEFAULT_REGION, stableHex } from "../kernel/common.js";
import { AwsError } from "../kernel/errors.js";
import type { JsonOp, JsonService } from "../kernel/json-protocol.js";

export interface AcmCertificate {
  arn: string;
  domainName: string;
  /** Includes the domain name, as ACM lists it. */
  sans: string[];
  status: CertificateStatus;
  /** Epoch milliseconds. */
  createdAt: number;
  notAfter: number;
}

/** region → ARN → certificate. */
export type AcmState = Record<string, Record<string, AcmCertificate>>;

// arn:aws:acm:<region>:<account>:certificate/<id> (https://docs.aws.amazon.com/acm/latest/APIReference/API_DescribeCertificate.html).
const ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate\/([0-9a-zA-Z-]+)$/;
const DAY = 86_400_000;
// Public certificates are valid for 395 days (https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html).
const VALIDITY = 395 * DAY;

/** A stable ARN for a fixture without one: the same domain gets the same ARN in every run. */
const defaultArn = (region: string, domainName: string): string => {
  const h = stableHex(`acm:${region}:${domainName}`, 32);
  return `arn:aws:acm:${region}:${ACCOUNT_ID}:certificate/${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export class AcmService implements JsonService {
  readonly name = "acm" as const;
  readonly targetPrefix = "CertificateManager";
  readonly model = "acm" as const;

  constructor(private readonly state: () => AcmState) {}

  /** Adds the fixtures' certificates once (a restored state keeps its own). */
  seedFixtures(fixtures: readonly AcmCertificateFixture[], now: number): void {
    const all = this.state();
    for (const f of fixtures) {
      const region = f.arn ? (ARN.exec(f.arn)?.[1] ?? DEFAULT_REGION) : (f.region ?? DEFAULT_REGION);
      const arn = f.arn ?? defaultArn(region, f.domainName);
      if (f.arn && !ARN.test(f.arn))
        throw new Error(`fixtures.aws.certificates: '${f.arn}' is not an ACM ARN`);
      all[region] ??= {};
      const certs = all[region];
      if (certs[arn]) continue;
      const domainName = f.domainName.toLowerCase();
      const sans = [
        domainName,
        ...(f.sans ?? []).map((s) => s.toLowerCase()).filter((s) => s !== domainName),
      ];
      certs[arn] = {
        arn,
        domainName,
        sans,
        status: f.status ?? "ISSUED",
        createdAt: now,
        notAfter: now + VALIDITY,
      };
    }
  }

  inventory(): InventoryItem[] {
    return Object.entries(this.state()).flatMap(([region, certs]) =>
      Object.values(certs).map((c) => ({
        cloud: "aws",
        service: "acm",
        type: "certificate",
        id: c.arn,
        name: c.domainName,
        region,
        state: c.status,
        tags: {},
      })),
    );
  }

  readonly ops: Record<string, JsonOp> = {
    DescribeCertificate: (input, call) => {
      const arn = String(input.CertificateArn);
      const m = ARN.exec(arn);
      // https://docs.aws.amazon.com/acm/latest/APIReference/API_DescribeCertificate.html#API_DescribeCertificate_Errors
      if (!m) throw new AwsError("InvalidArnException", `String '${arn}' is not a valid ARN.`);
      // Another region's or another account's certificate is simply not found from here.
      const cert = m[1] === call.region && m[2] === ACCOUNT_ID ? this.state()[call.region]?.[arn] : undefined;
      if (!cert)
        throw new AwsError("ResourceNotFoundException", `Could not find certificate with ARN ${arn}.`);
      const issued = cert.status === "ISSUED" || cert.status === "EXPIRED" || cert.status === "INACTIVE";
      return {
        Certificate: {
          CertificateArn: cert.arn,
          DomainName: cert.domainName,
          SubjectAlternativeNames: cert.sans,
          DomainValidationOptions: cert.sans.map((d) => ({
            DomainName: d,
            ValidationDomain: d.replace(/^\*\./, ""),
            ValidationStatus: issued
              ? "SUCCESS"
              : cert.status === "PENDING_VALIDATION"
                ? "PENDING_VALIDATION"
                : "FAILED",
            ValidationMethod: "DNS",
          })),
          Subject: `CN=${cert.domainName}`,
          Issuer: "Amazon",
          CreatedAt: cert.createdAt / 1000,
          ...(issued
            ? {
                IssuedAt: cert.createdAt / 1000,
                NotBefore: cert.createdAt / 1000,
                NotAfter: cert.notAfter / 1000,
                Serial: stableHex(`serial:${cert.arn}`, 32).replace(/(..)(?!$)/g, "$1:"),
              }
            : {}),
          Status: cert.status,
          KeyAlgorithm: "RSA_2048",
          SignatureAlgorithm: "SHA256WITHRSA",
          InUseBy: [],
          Type: "AMAZON_ISSUED",
          RenewalEligibility: "INELIGIBLE",
          KeyUsages: [{ Name: "DIGITAL_SIGNATURE" }, { Name: "KEY_ENCIPHERMENT" }],
          ExtendedKeyUsages: [
            { Name: "TLS_WEB_SERVER_AUTHENTICATION", OID: "1.3.6.1.5.5.7.3.1" },
            { Name: "TLS_WEB_CLIENT_AUTHENTICATION", OID: "1.3.6.1.5.5.7.3.2" },
          ],
          Options: { CertificateTransparencyLoggingPreference: "ENABLED" },
        },
      };
    },
  };
}
