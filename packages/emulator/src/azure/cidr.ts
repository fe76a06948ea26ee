/** IPv4 prefixes: parsing, containment and the n-th host address. */

const toInt = (ip: string): number | undefined => {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
};

export const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** `10.0.1.0/24` → its first address and length; `undefined` when malformed or not aligned. */
export function parseCidr(cidr: string): { base: number; bits: number } | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const base = toInt(m[1]!);
  const bits = Number(m[2]);
  if (base === undefined || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  if (base % size !== 0) return undefined;
  return { base, bits };
}

export const contains = (outer: string, inner: string): boolean => {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || i.bits < o.bits) return false;
  return Math.floor(i.base / 2 ** (32 - o.bits)) === Math.floor(o.base / 2 ** (32 - o.bits));
};

export const overlaps = (a: string, b: string): boolean => contains(a, b) || contains(b, a);

/** The size of a prefix. */
export const sizeOf = (cidr: string): number => 2 ** (32 - (parseCidr(cidr)?.bits ?? 32));

/** The address at `offset` in the prefix. */
export const hostAt = (cidr: string, offset: number): string => toIp((parseCidr(cidr)?.base ?? 0) + offset);
