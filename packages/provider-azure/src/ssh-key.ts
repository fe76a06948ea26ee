import { generateKeyPairSync } from "node:crypto";

const sshString = (b: Buffer): Buffer => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};

/** An mpint: big-endian, with a leading zero when the top bit is set (RFC 4251 §5). */
const mpint = (b64url: string): Buffer => {
  let b = Buffer.from(b64url, "base64url");
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
};

/**
 * An OpenSSH RSA public key whose private half is thrown away: Azure requires a key or a password for a
 * Linux VM, and k3sinfra wants neither SSH nor a password unless the user gives a key. RSA, 3072 bits:
 * https://learn.microsoft.com/en-us/azure/virtual-machines/linux/mac-create-ssh-keys#supported-ssh-key-formats
 */
export function throwawayPublicKey(): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 3072 });
  const jwk = publicKey.export({ format: "jwk" });
  const blob = Buffer.concat([sshString(Buffer.from("ssh-rsa")), mpint(jwk.e ?? ""), mpint(jwk.n ?? "")]);
  return `ssh-rsa ${blob.toString("base64")} k3sinfra-no-ssh`;
}
