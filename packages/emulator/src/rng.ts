/** A small seeded PRNG (sfc32) whose state can be saved and restored. */
export class Rng {
  private s: [number, number, number, number];

  constructor(seed: number) {
    const x = seed >>> 0;
    this.s = [0x9e3779b9, 0x243f6a88 ^ x, 0xb7e15162, x];
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    let [a, b, c, d] = this.s;
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    this.s = [a, b, c, d];
    return (t >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  hex(len: number): string {
    let out = "";
    for (let i = 0; i < len; i++) out += "0123456789abcdef"[this.int(16)];
    return out;
  }

  chars(len: number, alphabet: string): string {
    let out = "";
    for (let i = 0; i < len; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[this.int(4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  getState(): number[] {
    return [...this.s];
  }

  setState(s: number[]): void {
    if (s.length === 4) this.s = [s[0]!, s[1]!, s[2]!, s[3]!];
  }
}
